const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const count = new Intl.NumberFormat();

/** A server ISO time as the reader's local date and time; the raw value if unparsable. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export const clock = (date: Date): string => time.format(date);
export const number = (n: number): string => count.format(n);

export function seconds(s: number): string {
  if (s < 60) return `${Math.max(0, Math.ceil(s))} s`;
  const minutes = Math.floor(s / 60);
  return `${minutes} min ${Math.ceil(s % 60)} s`;
}
