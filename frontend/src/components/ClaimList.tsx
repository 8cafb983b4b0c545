import type { ClaimVerdict } from "@satyamark/client";
import { MarkBadge } from "@satyamark/react";
import { Evidence } from "./Evidence";

// Evidence's stance used to travel with the evidence; the API puts it on the claim.
const stanceOf = (claim: ClaimVerdict) => claim.stance ?? claim.evidence?.stance ?? null;

export function ClaimList({ claims }: { claims: ClaimVerdict[] }) {
  return (
    <ol className="claims">
      {claims.map((claim, index) => (
        <li className="claim" key={index}>
          <div className="claim-head">
            <MarkBadge mark={claim.mark} confidence={claim.confidence} />
            <q className="claim-text">{claim.text}</q>
          </div>
          <p className="claim-reason">{claim.reason}</p>
          {claim.evidence ? (
            <Evidence evidence={claim.evidence} stance={stanceOf(claim)} />
          ) : stanceOf(claim) ? (
            <p className="muted">Stance: {stanceOf(claim)}</p>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
