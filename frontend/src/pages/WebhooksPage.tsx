import type { CreatedWebhook, DeliveryPage, Webhook } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useCallback, useEffect, useId, useState } from "react";
import { ConfirmButton } from "../components/ConfirmButton";
import { type ChoiceSet, type TextField } from "../components/CreateForm";
import { DataTable } from "../components/DataTable";
import { ErrorNotice } from "../components/ErrorNotice";
import { OwnListPage, useOwnList } from "../components/OwnList";
import { useResource } from "../hooks/useResource";
import { when } from "../lib/format";

const EVENTS: ChoiceSet = {
  legend: "Send when",
  name: "event",
  options: { "task.completed": "A check got its verdict", "task.failed": "A check failed" },
  none: "Choose at least one event.",
};

const URL_FIELD: TextField = {
  label: "URL",
  name: "url",
  type: "url",
  maxLength: 2048,
  placeholder: "https://example.com/satyamark",
  hint: "Each outcome is POSTed there, signed (Standard Webhooks), and retried for 24 hours.",
};

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
        <DataTable
          label="Deliveries"
          columns={["Event", "Task", "Status", "Attempts", "Last answer", "Next try"]}
        >
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
        </DataTable>
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
  const load = useCallback(() => client.webhooks.list(), [client]);
  const hooks = useOwnList<Webhook, CreatedWebhook>(load);
  const { announce, reload } = hooks;

  // An endpoint that failed for 24 h is disabled by the server: show it at once.
  useEffect(
    () =>
      client.on("webhook.disabled", (event) => {
        announce(`Webhook ${event.url} was disabled: ${event.reason}`);
        void reload();
      }),
    [client, announce, reload],
  );

  const remove = (hook: Webhook) =>
    hooks.act(() => client.webhooks.remove(hook.id), `Webhook ${hook.url} deleted.`);

  return (
    <OwnListPage
      title="Webhooks"
      lead="Have every verdict POSTed to your server as soon as it is ready."
      form={{
        title: "New webhook",
        field: URL_FIELD,
        choices: EVENTS,
        submitLabel: "Add webhook",
        create: async (url, events) =>
          hooks.onCreated(await client.webhooks.create({ url, events })),
      }}
      list={hooks}
      reveal={(hook) => ({ label: "Its signing secret", secret: hook.secret })}
      listTitle="Your webhooks"
      listLabel="Webhooks"
      empty="No webhooks yet."
      item={(hook) => <WebhookRow key={hook.id} hook={hook} onDelete={remove} />}
    />
  );
}
