// A problem in words, with what to do and, when the server said, a live countdown to
// when a retry may work. The alert is read once; the ticking number is not re-read.
import { useEffect, useRef } from "react";
import { useCountdown } from "../hooks/useCountdown";
import type { Problem } from "../lib/errors";
import { seconds } from "../lib/format";
import { Icon } from "./Icon";

export function ErrorNotice({
  problem,
  onLogin,
  onExpired,
}: {
  problem: Problem | null;
  /** shown for a 401: leave for the login form */
  onLogin?: () => void;
  /** the countdown reached zero */
  onExpired?: () => void;
}) {
  const left = useCountdown(problem?.retryAt);
  const expired = useRef(onExpired);
  expired.current = onExpired;
  const counting = problem?.retryAt !== undefined;
  useEffect(() => {
    if (counting && left === 0) expired.current?.();
  }, [counting, left]);

  if (!problem) return null;
  const tone = problem.kind === "rate" || problem.kind === "paused" ? "warning" : "error";
  return (
    <div className={`notice notice-${tone}`} data-error-kind={problem.kind}>
      <div role="alert">
        <p className="notice-title">
          <Icon name={tone === "warning" ? "clock" : "warning"} /> {problem.title}
        </p>
        {problem.detail ? <p>{problem.detail}</p> : null}
      </div>
      {counting ? (
        <p className="countdown" data-testid="retry-countdown">
          {left > 0 ? (
            <>
              You can try again in <strong>{seconds(left)}</strong>.
            </>
          ) : (
            "You can try again now."
          )}
        </p>
      ) : null}
      {problem.kind === "session" && onLogin ? (
        <button type="button" className="button" onClick={onLogin}>
          Log in again
        </button>
      ) : null}
      {problem.code ? <p className="notice-code">Code: {problem.code}</p> : null}
    </div>
  );
}
