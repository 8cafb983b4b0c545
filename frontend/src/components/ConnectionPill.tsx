import { useSatyaMark } from "@satyamark/react";
import { useConnectionOf } from "../hooks/useClientState";

const WORDS = {
  idle: "Offline",
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
} as const;

// Where verdicts come from: said in words, the dot only repeats it.
export function ConnectionPill() {
  const state = useConnectionOf(useSatyaMark());
  return (
    <span
      className={`pill pill-${state}`}
      data-testid="connection"
      data-state={state}
      role="status"
    >
      <span className="pill-dot" aria-hidden="true" />
      <span className="sm-visually-hidden">Live updates: </span>
      {WORDS[state]}
    </span>
  );
}
