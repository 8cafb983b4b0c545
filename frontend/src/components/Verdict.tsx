import { MarkBadge } from "@satyamark/react";
import type { VerdictView } from "../lib/tasks";
import { ClaimList } from "./ClaimList";
import { ConfidenceBar } from "./ConfidenceBar";

export function Verdict({
  verdict,
  cached,
  expanded,
}: {
  verdict: VerdictView;
  cached: boolean;
  expanded: boolean;
}) {
  const count = verdict.claims.length;
  return (
    <div className="verdict">
      <div className="verdict-head">
        <MarkBadge mark={verdict.mark} confidence={verdict.confidence} />
        {cached ? (
          <span className="tag" title="Answered from the cache: no model ran">
            cached
          </span>
        ) : null}
      </div>
      <ConfidenceBar value={verdict.confidence} />
      <p className="verdict-reason">{verdict.reason}</p>
      {count > 0 ? (
        <details className="breakdown" open={expanded}>
          <summary>
            Per-claim breakdown ({count} {count === 1 ? "claim" : "claims"})
          </summary>
          <ClaimList claims={verdict.claims} />
        </details>
      ) : null}
    </div>
  );
}
