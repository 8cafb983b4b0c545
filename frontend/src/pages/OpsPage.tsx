import type {
  AuditPage,
  DeadLetter,
  DeadLetterPage,
  IntakeView,
  QueueView,
} from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useCallback, useId, useState, type FormEvent } from "react";
import { useAnnounce } from "../components/Announcer";
import { ConfirmButton } from "../components/ConfirmButton";
import { DataTable } from "../components/DataTable";
import { ErrorNotice } from "../components/ErrorNotice";
import { Icon } from "../components/Icon";
import { useQueue } from "../hooks/useQueue";
import { useResource } from "../hooks/useResource";
import { describeError, type Problem } from "../lib/errors";
import { clock, number, seconds, when } from "../lib/format";

function Gauges({ view }: { view: QueueView }) {
  const gauges: [string, string, string?][] = [
    ["Backlog", number(view.backlog), "not yet acknowledged"],
    ["Pending", number(view.pending), "with a worker"],
    ["Oldest pending", seconds(view.oldestPendingAgeS)],
    ["Dead letters", number(view.dlq)],
    ["Finished", number(view.finishedLastMinute), "in the last minute"],
  ];
  return (
    <dl className="gauges" data-testid="gauges">
      {gauges.map(([label, value, hint]) => (
        <div key={label} className="gauge" data-gauge={label}>
          <dt>{label}</dt>
          <dd>
            <span className="gauge-value">{value}</span>
            {hint ? <span className="gauge-hint">{hint}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Workers({ view }: { view: QueueView }) {
  if (view.consumers.length === 0) return <p className="empty">No worker has joined.</p>;
  return (
    <DataTable label="Worker list" columns={["Worker", "In flight", "Idle"]}>
      {view.consumers.map((c) => (
        <tr key={c.name}>
          <td>
            <code>{c.name}</code>
          </td>
          <td>{c.inFlight}</td>
          <td>{seconds(c.idleMs / 1000)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

function Intake({
  intake,
  reason,
  onChanged,
}: {
  intake: IntakeView;
  reason: string;
  onChanged: (intake: IntakeView) => void;
}) {
  const client = useSatyaMark();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      onChanged(await client.admin.setIntake({ paused: !intake.paused, reason: reason || null }));
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="intake" onSubmit={submit}>
      <p
        className={`intake-state ${intake.paused ? "intake-paused" : "intake-open"}`}
        data-testid="intake"
        aria-live="polite"
      >
        <Icon name={intake.paused ? "pause" : "play"} />{" "}
        {intake.paused ? `Paused${intake.reason ? `: ${intake.reason}` : ""}` : "Open"}
      </p>
      {intake.paused && intake.at ? <p className="muted">since {when(intake.at)}</p> : null}
      <button
        type="submit"
        className={intake.paused ? "button button-primary" : "button button-danger"}
        disabled={busy}
      >
        {intake.paused ? "Resume intake" : "Pause intake"}
      </button>
      <ErrorNotice problem={problem} />
    </form>
  );
}

function DeadLetters({ reason, onAction }: { reason: string; onAction: () => void }) {
  const client = useSatyaMark();
  const announce = useAnnounce();
  const load = useCallback(() => client.admin.deadLetters({ limit: 50 }), [client]);
  const { data, problem, reload } = useResource<DeadLetterPage>(load);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);

  const act = async (entry: DeadLetter, action: "replay" | "discard") => {
    setActionProblem(null);
    try {
      if (action === "replay") await client.admin.replay(entry.entryId, reason || null);
      else await client.admin.discard(entry.entryId, reason || null);
      announce(`Dead letter ${entry.entryId} ${action === "replay" ? "replayed" : "discarded"}.`);
    } catch (error) {
      setActionProblem(describeError(error));
    }
    await reload();
    onAction();
  };

  return (
    <section aria-labelledby="dlq-title">
      <div className="section-head">
        <h2 id="dlq-title">Dead letters</h2>
        <button type="button" className="button button-quiet" onClick={() => void reload()}>
          Reload
        </button>
      </div>
      <ErrorNotice problem={problem ?? actionProblem} />
      {data && data.items.length === 0 ? <p className="empty">No dead letters.</p> : null}
      {data && data.items.length > 0 ? (
        <DataTable
          label="Dead letters"
          className="dlq"
          columns={["Task", "Error", "Died", "Actions"]}
        >
          {data.items.map((entry) => (
            <tr key={entry.entryId} data-entry={entry.entryId}>
              <td>
                <code id={`dlq-${entry.entryId}`}>{entry.taskId ?? "?"}</code>
              </td>
              <td>
                <strong>{entry.errorCode ?? "?"}</strong> {entry.lastError ?? ""}
                <span className="muted"> ({entry.deliveries} deliveries)</span>
              </td>
              <td>{when(entry.diedAt)}</td>
              <td className="actions">
                <ConfirmButton
                  label="Replay"
                  confirmLabel="Replay now"
                  describedBy={`dlq-${entry.entryId}`}
                  onConfirm={() => act(entry, "replay")}
                />
                <ConfirmButton
                  label="Discard"
                  confirmLabel="Discard now"
                  describedBy={`dlq-${entry.entryId}`}
                  onConfirm={() => act(entry, "discard")}
                />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </section>
  );
}

function Audit() {
  const client = useSatyaMark();
  const load = useCallback(() => client.admin.audit({ limit: 20 }), [client]);
  const { data, problem } = useResource<AuditPage>(load);
  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      <ErrorNotice problem={problem} />
      {data && data.items.length === 0 ? <p className="empty">Nothing yet.</p> : null}
      <ol className="audit" aria-label="Latest actions, newest first">
        {data?.items.map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.at}>{when(entry.at)}</time> <strong>{entry.action}</strong>{" "}
            {entry.target}
            <span className="muted">
              {" "}
              by {entry.actor}
              {entry.reason ? ` — “${entry.reason}”` : ""}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function OpsPage() {
  const id = useId();
  const { view, at, set } = useQueue();
  const [reason, setReason] = useState("");
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);

  return (
    <>
      <h1 className="page-title" tabIndex={-1}>
        Operations
      </h1>
      <p className="lead">
        The queue, live.{" "}
        <span data-testid="ops-live">
          {at ? `Updated ${clock(at)}.` : "Waiting for the queue view…"}
        </span>
      </p>
      {view ? <Gauges view={view} /> : null}
      <div className="ops-grid">
        <section className="card" aria-labelledby={`${id}-intake`}>
          <h2 id={`${id}-intake`}>Intake</h2>
          <div className="field">
            <label htmlFor={`${id}-reason`}>Reason (kept in the audit log)</label>
            <input
              id={`${id}-reason`}
              maxLength={500}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
            />
          </div>
          {view ? (
            <Intake
              intake={view.intake}
              reason={reason}
              onChanged={(intake) => {
                set({ ...view, intake });
                changed();
              }}
            />
          ) : null}
        </section>
        <section className="card" aria-labelledby={`${id}-workers`}>
          <h2 id={`${id}-workers`}>Workers</h2>
          {view ? <Workers view={view} /> : <p className="muted">Waiting…</p>}
        </section>
      </div>
      <DeadLetters reason={reason} onAction={changed} />
      {/* a new key after each action: the log is read again */}
      <Audit key={version} />
    </>
  );
}
