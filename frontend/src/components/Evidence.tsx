import type { ClaimVerdict } from "@satyamark/client";
import { webUrl } from "../lib/urls";

type EvidenceData = NonNullable<ClaimVerdict["evidence"]>;

/** The source's name, a link only for an http(s) URL (opened without a referrer). */
function Source({ evidence }: { evidence: EvidenceData }) {
  const url = webUrl(evidence.sourceUrl);
  const label = evidence.sourceName || url?.hostname || evidence.sourceUrl;
  if (!url) return <span className="source">{label}</span>;
  return (
    <a className="source" href={url.href} target="_blank" rel="noopener noreferrer">
      {label}
      <span className="sm-visually-hidden"> (opens in a new tab)</span>
    </a>
  );
}

export function Evidence({ evidence, stance }: { evidence: EvidenceData; stance?: string | null }) {
  const similarity = typeof evidence.similarity === "number" ? evidence.similarity : null;
  return (
    <div className="evidence">
      <p className="evidence-claim">
        <span className="evidence-label">Known claim</span> <q>{evidence.claim}</q>{" "}
        <span className={`rated rated-${evidence.verdict === "true" ? "true" : "false"}`}>
          rated {evidence.verdict}
        </span>
      </p>
      {evidence.explanation ? <p className="evidence-explanation">{evidence.explanation}</p> : null}
      <dl className="evidence-facts">
        <div>
          <dt>Source</dt>
          <dd>
            <Source evidence={evidence} />
          </dd>
        </div>
        {similarity !== null ? (
          <div>
            <dt>Similarity</dt>
            <dd>{similarity.toFixed(2)}</dd>
          </div>
        ) : null}
        {stance ? (
          <div>
            <dt>Stance</dt>
            <dd>{stance}</dd>
          </div>
        ) : null}
      </dl>
    </div>
  );
}
