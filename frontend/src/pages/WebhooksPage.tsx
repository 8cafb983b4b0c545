import type { CreatedWebhook, DeliveryPage, Webhook } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { useAnnounce } from "../components/Announcer";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { SecretOnce } from "../components/SecretOnce";
import { useResource } from "../hooks/useResource";
import { describeError, type Problem } from "../lib/errors";
import { when } from "../lib/format";

const EVENTS = [
  { value: "task.completed", label: "A check got its verdict" },
  { value: "task.failed", label: "A check failed" },
] as const;

function CreateWebhook({ onCreated }: { onCreated: (hook: CreatedWebhook) => void }) {
  const client = useSatyaMark();
  const id = useId();
  const [url, setUrl] = useState("");
  const [events, setEvents] = useState<string[]>(EVENTS.map((e) => e.value));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (events.length === 0) {
      setProblem({ kind: "invalid", title: "Choose at least one event." });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onCreated(await client.webhooks.create({ url: url.trim(), events }));
      setUrl("");
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (value: string, on: boolean) =>
    setEvents((now) => (on ? [...now, value] : now.filter((e) => e !== value)));

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New webhook</h2>
      <div className="field">
        <label htmlFor={`${id}-url`}>URL</label>
        <input
          id={`${id}-url`}
          type="url"
          required
          maxLength={2048}
          placeholder="https://example.com/satyamark"
          aria-describedby={`${id}-hint`}
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <p id={`${id}-hint`} className="hint">
          Each outcome is POSTed there, signed (Standard Webhooks), and retried for 24 hours.
        </p>
      </div>
      <fieldset className="choices">
        <legend>Send when</legend>
        {EVENTS.map((event) => (
          <label key={event.value} className="choice">
            <input
              type="checkbox"
              name="event"
              value={event.value}
              checked={events.includes(event.value)}
              onChange={(e) => toggle(event.value, e.target.checked)}
            />
            {event.label} <code>{event.value}</code>
          </label>
        ))}
      </fieldset>
      <ErrorNotice problem={problem} />
      <div>
        <button type="submit" className="button button-primary" disabled={busy}>
          Add webhook
        </button>
      </div>
    </form>
  );
}

function Deliveries({ hookId }: { hookId: string }) {
  const client = useSatyaMark();
  const load = useCallback(() => client.webhooks.deliveries(hookId), [client, hookId]);
  const { data, problem, loading, reload } = useResource<DeliveryPage>(load);
  return (
    <div className="deliveries">
      <div className="section-head">
        <h3>Recent deliveries</h3>
        <button type="button" className="button button-quiet" onClick={() => void reload()}>
          Reload
        </button>
      </div>
      <ErrorNotice problem={problem} />
      {loading && !data ? <p className="muted">Loading…</p> : null}
      {data && data.items.length === 0 ? <p className="empty">Nothing sent yet.</p> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap" role="region" aria-label="Deliveries" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
                <th scope="col">Next try</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <tr key={d.id}>
                  <td>{d.type}</td>
                  <td>
                    <code>{d.taskId}</code>
                  </td>
                  <td>
                    <span className={`status status-${d.status}`}>{d.status}</span>
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.lastStatus ?? d.lastError ?? "—"}</td>
                  <td>{d.status === "pending" ? when(d.nextAttemptAt) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function WebhookRow({
  hook,
  onDelete,
}: {
  hook: Webhook;
  onDelete: (hook: Webhook) => Promise<void>;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  return (
    <li className="item item-wide" data-webhook-id={hook.id}>
      <div className="item-row">
        <div className="item-main">
          <p className="item-title url" id={id}>
            {hook.url}
          </p>
          <p className="item-meta">{hook.events.join(", ")}</p>
          <p className="item-meta muted">
            Added {when(hook.createdAt)}
            {hook.disabledAt ? (
              <span className="status status-failed">
                {" "}
                · disabled {when(hook.disabledAt)}: {hook.disabledReason}
              </span>
            ) : (
              " · active"
            )}
          </p>
        </div>
        <div className="item-actions">
          <button
            type="button"
            className="button button-quiet"
            aria-expanded={open}
            aria-controls={`${id}-deliveries`}
            aria-describedby={id}
            onClick={() => setOpen(!open)}
          >
            Deliveries
          </button>
          <ConfirmButton
            label="Delete"
            confirmLabel="Delete now"
            describedBy={id}
            onConfirm={() => onDelete(hook)}
          />
        </div>
      </div>
      <div id={`${id}-deliveries`} hidden={!open}>
        {open ? <Deliveries hookId={hook.id} /> : null}
      </div>
    </li>
  );
}

export function WebhooksPage() {
  const client = useSatyaMark();
  const announce = useAnnounce();
  const load = useCallback(() => client.webhooks.list(), [client]);
  const { data, problem, loading, reload } = useResource<Webhook[]>(load);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);

  // An endpoint that failed for 24 h is disabled by the server: show it at once.
  useEffect(
    () =>
      client.on("webhook.disabled", (event) => {
        announce(`Webhook ${event.url} was disabled: ${event.reason}`);
        void reload();
      }),
    [client, announce, reload],
  );

  const remove = async (hook: Webhook) => {
    setActionProblem(null);
    try {
      await client.webhooks.remove(hook.id);
      announce(`Webhook ${hook.url} deleted.`);
    } catch (error) {
      setActionProblem(describeError(error));
    }
    await reload();
  };

  return (
    <>
      <h1 className="page-title" tabIndex={-1}>
        Webhooks
      </h1>
      <p className="lead">Have every verdict POSTed to your server as soon as it is ready.</p>
      <CreateWebhook
        onCreated={(hook) => {
          setCreated(hook);
          void reload();
        }}
      />
      {created ? (
        <SecretOnce
          label="Its signing secret"
          value={created.secret}
          onDone={() => setCreated(null)}
        />
      ) : null}
      <section aria-labelledby="hooks-title">
        <h2 id="hooks-title">Your webhooks</h2>
        <ErrorNotice problem={problem ?? actionProblem} />
        {loading && !data ? <p className="muted">Loading…</p> : null}
        {data && data.length === 0 ? <p className="empty">No webhooks yet.</p> : null}
        <ul className="item-list" aria-label="Webhooks">
          {data?.map((hook) => (
            <WebhookRow key={hook.id} hook={hook} onDelete={remove} />
          ))}
        </ul>
      </section>
    </>
  );
}
