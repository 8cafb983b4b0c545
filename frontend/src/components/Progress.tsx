import type { Stage } from "../lib/tasks";
import { Icon } from "./Icon";

// queued → started (attempt n) / retried → verdict: long jobs say that they moved.
export function Progress({ stage, attempt }: { stage: Stage; attempt: number | null }) {
  const working = stage === "started" || stage === "retried";
  const workLabel =
    stage === "retried"
      ? `Retrying${attempt ? ` (attempt ${attempt} failed)` : ""}`
      : `Checking${attempt && attempt > 1 ? ` (attempt ${attempt})` : ""}`;
  const steps: { label: string; state: "done" | "current" | "todo" }[] = [
    { label: "Queued", state: working ? "done" : "current" },
    { label: working ? workLabel : "Checking", state: working ? "current" : "todo" },
    { label: "Verdict", state: "todo" },
  ];
  return (
    <ol className="steps" aria-label="Progress">
      {steps.map((step) => (
        <li
          key={step.label}
          className={`step step-${step.state}`}
          aria-current={step.state === "current" ? "step" : undefined}
        >
          <span className="step-dot" aria-hidden="true">
            {step.state === "done" ? <Icon name="check" /> : null}
          </span>
          {step.label}
          {step.state === "current" ? (
            <span className="sm-visually-hidden"> (current step)</span>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
