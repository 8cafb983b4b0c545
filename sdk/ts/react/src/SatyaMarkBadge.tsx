// A text's verdict as a badge. The reason is in a tooltip that opens on hover, on
// keyboard focus and on tap, closes on Escape, and is the badge's accessible
// description, so screen-reader users hear it without opening anything.

import { type JSX, type KeyboardEvent, useId, useState } from "react";

import type { SatyaMark } from "@satyamark/client";

import { MarkBadge, MarkIcon } from "./MarkBadge.js";
import { useVerification } from "./useVerification.js";

export function SatyaMarkBadge(props: {
  text: string;
  client?: SatyaMark;
  compact?: boolean;
}): JSX.Element {
  const { text, client, compact = false } = props;
  const { status, verdict, error, progress } = useVerification(text, client ? { client } : {});
  const tipId = useId();
  const [hovered, setHovered] = useState(false);
  const [focused, setFocused] = useState(false);
  const [pinned, setPinned] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const open = !dismissed && (hovered || focused || pinned);

  if (status === "idle") return <></>;

  if (status === "pending") {
    return (
      // No live region: a page of badges announcing themselves would drown the reader.
      <span
        className={`sm-verdict sm-verdict--pending${compact ? " sm-verdict--compact" : ""}`}
        aria-busy="true"
      >
        <span
          className="sm-badge sm-badge--pending"
          role="img"
          aria-label={progress ? `Checking with SatyaMark: ${progress}` : "Checking with SatyaMark"}
        >
          <MarkIcon mark="pending" />
          <span className="sm-badge__label">Checking…</span>
          {progress && !compact ? <span className="sm-badge__progress">{progress}</span> : null}
        </span>
      </span>
    );
  }

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape" && open) {
      event.stopPropagation();
      setDismissed(true);
      setPinned(false);
    }
  };
  const reset = () => setDismissed(false);

  const badge =
    status === "done" && verdict ? (
      <MarkBadge
        mark={verdict.mark}
        compact={compact}
        {...(compact ? {} : { confidence: verdict.confidence })}
      />
    ) : (
      <span className="sm-badge sm-badge--failed" role="img" aria-label="Not verified">
        <MarkIcon mark="failed" />
        <span className="sm-badge__label">Not verified</span>
      </span>
    );
  const reason =
    status === "done" && verdict ? (
      <>
        {compact ? (
          <span className="sm-tooltip__confidence">Confidence {verdict.confidence}%. </span>
        ) : null}
        {verdict.reason}
      </>
    ) : (
      <>
        {error?.message ?? "The text could not be verified."}
        {error?.errorCode ? <span className="sm-tooltip__code"> ({error.errorCode})</span> : null}
      </>
    );

  return (
    <span
      className={`sm-verdict sm-verdict--${status}${compact ? " sm-verdict--compact" : ""}`}
      onMouseEnter={() => {
        reset();
        setHovered(true);
      }}
      onMouseLeave={() => setHovered(false)}
    >
      <button
        type="button"
        className="sm-verdict__trigger"
        aria-describedby={tipId}
        onFocus={() => {
          reset();
          setFocused(true);
        }}
        onBlur={() => {
          setFocused(false);
          setPinned(false);
        }}
        onClick={() => {
          reset();
          setPinned((was) => !was);
        }}
        onKeyDown={onKeyDown}
      >
        <span className="sm-visually-hidden">SatyaMark verdict:</span> {badge}
      </button>
      <span id={tipId} role="tooltip" className="sm-tooltip" hidden={!open}>
        {reason}
      </span>
    </span>
  );
}
