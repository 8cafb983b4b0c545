// Small stroke icons in currentColor. SVG, not emoji or symbol characters: those depend
// on the reader's fonts (a missing glyph shows as a box). Always decoration: the words
// next to them say the same.
const PATHS = {
  warning: "M8 2.5l6 11H2zM8 6.5v3.5m0 1.75v.25",
  clock: "M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11zM8 5v3.2l2 1.3",
  ban: "M8 2.5a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11zM4.1 4.1l7.8 7.8",
  pause: "M5.5 3.5v9m5-9v9",
  play: "M5 3l8 5-8 5z",
  check: "M3.5 8.5l3 3 6-7",
  sun: "M8 5.5a2.5 2.5 0 1 0 0 5a2.5 2.5 0 1 0 0-5zM8 1.5v1.5m0 10v1.5M1.5 8H3m10 0h1.5M3.4 3.4l1 1m7.2 7.2l1 1M3.4 12.6l1-1m7.2-7.2l1-1",
  moon: "M13 9.5A5.5 5.5 0 0 1 6.5 3a5.5 5.5 0 1 0 6.5 6.5z",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg
      className="icon"
      viewBox="0 0 16 16"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
