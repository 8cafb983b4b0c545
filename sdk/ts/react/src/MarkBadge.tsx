// The mark as icon + word + colour: never colour alone (colour-blind readers, forced
// colours, print), and the icon is decoration the word already says (aria-hidden).

import type { JSX } from "react";

import type { Mark } from "@satyamark/client";

const CLASS: Record<Mark, string> = {
  Correct: "sm-badge--correct",
  Incorrect: "sm-badge--incorrect",
  Insufficient: "sm-badge--insufficient",
  Subjective: "sm-badge--subjective",
};

/** 16×16 strokes in currentColor: they take the badge's (and forced colours') colour. */
export function MarkIcon(props: { mark: Mark | "pending" | "failed" }): JSX.Element {
  const shape = {
    Correct: <path d="M3.5 8.5l3 3 6-7" />,
    Incorrect: <path d="M4.5 4.5l7 7m0-7l-7 7" />,
    Insufficient: (
      <>
        <path d="M5.75 6a2.25 2.25 0 1 1 3.4 1.94c-.7.42-1.15.86-1.15 1.66v.4" />
        <circle cx="8" cy="12.75" r="0.4" />
      </>
    ),
    Subjective: (
      <>
        <circle cx="8" cy="8" r="5.5" />
        <path d="M8 2.5v11a5.5 5.5 0 0 0 0-11z" fill="currentColor" />
      </>
    ),
    pending: <circle cx="8" cy="8" r="5.5" strokeDasharray="4 3" />,
    failed: <path d="M8 2.5l6 11H2zM8 6.5v3.5m0 1.75v.25" />,
  }[props.mark];
  return (
    <svg
      className="sm-icon"
      viewBox="0 0 16 16"
      width="16"
      height="16"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {shape}
    </svg>
  );
}

/** The badge is one image to assistive technology, named by its words ("Correct,
 * confidence 92%"), so readers hear it the same whatever the layout. */
export function MarkBadge(props: {
  mark: Mark;
  confidence?: number;
  compact?: boolean;
}): JSX.Element {
  const { mark, confidence, compact = false } = props;
  const percent = confidence === undefined ? null : Math.round(confidence);
  const className = [
    "sm-badge",
    CLASS[mark] ?? "sm-badge--unknown",
    compact ? "sm-badge--compact" : "",
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <span
      className={className}
      data-mark={mark}
      role="img"
      aria-label={percent === null ? mark : `${mark}, confidence ${percent}%`}
    >
      <MarkIcon mark={mark} />
      <span className="sm-badge__label">{mark}</span>
      {percent === null ? null : <span className="sm-badge__confidence">{percent}%</span>}
    </span>
  );
}
