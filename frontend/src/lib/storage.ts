// What survives a reload. The login lives in sessionStorage (one tab): refresh tokens are
// single use, and two tabs refreshing the same one would revoke the login for both.
import type { Session } from "@satyamark/client";

const SESSION = "satyamark.session";
const LAST_EVENT = "satyamark.lastEventId";
const EMAIL = "satyamark.email";
const THEME = "satyamark.theme";

function read(store: Storage, key: string): string | null {
  try {
    return store.getItem(key);
  } catch {
    return null; // storage disabled (privacy mode): the app still works, unsaved
  }
}

function write(store: Storage, key: string, value: string | null): void {
  try {
    if (value === null) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    /* storage full or disabled: nothing to keep */
  }
}

export function loadSession(): Session | null {
  const raw = read(sessionStorage, SESSION);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<Session>;
    return typeof value.accessToken === "string" && typeof value.refreshToken === "string"
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken }
      : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  write(sessionStorage, SESSION, session ? JSON.stringify(session) : null);
}

export const loadLastEventId = (): string | null => read(sessionStorage, LAST_EVENT);
export const saveLastEventId = (id: string | null): void => write(sessionStorage, LAST_EVENT, id);

export const loadEmail = (): string | null => read(sessionStorage, EMAIL);
export const saveEmail = (email: string | null): void => write(sessionStorage, EMAIL, email);

export type ThemeChoice = "light" | "dark" | "system";

export function loadTheme(): ThemeChoice {
  const value = read(localStorage, THEME);
  return value === "light" || value === "dark" ? value : "system";
}

export const saveTheme = (theme: ThemeChoice): void =>
  write(localStorage, THEME, theme === "system" ? null : theme);
