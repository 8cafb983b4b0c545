import type { ApiKey, CreatedApiKey } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useCallback, useId } from "react";
import { ConfirmButton } from "../components/ConfirmButton";
import { type ChoiceSet } from "../components/CreateForm";
import { OwnListPage, useOwnList } from "../components/OwnList";
import { when } from "../lib/format";

const SCOPES: ChoiceSet = {
  legend: "What it may do",
  name: "scope",
  options: { verify: "Submit texts", "tasks:read": "Read tasks" },
  none: "Choose at least one scope.",
};

function KeyRow({
  apiKey,
  onRevoke,
}: {
  apiKey: ApiKey;
  onRevoke: (key: ApiKey) => Promise<void>;
}) {
  const id = useId();
  return (
    <li className="item" data-key-id={apiKey.id}>
      <div className="item-main">
        <p className="item-title" id={id}>
          {apiKey.name}
        </p>
        <p className="item-meta">
          <code>{apiKey.prefix}…</code> · {apiKey.scopes.join(", ")}
        </p>
        <p className="item-meta muted">
          Created {when(apiKey.createdAt)} ·{" "}
          {apiKey.lastUsedAt ? `last used ${when(apiKey.lastUsedAt)}` : "never used"}
          {apiKey.expiresAt ? ` · expires ${when(apiKey.expiresAt)}` : ""}
        </p>
      </div>
      <ConfirmButton
        label="Revoke"
        confirmLabel="Revoke now"
        describedBy={id}
        onConfirm={() => onRevoke(apiKey)}
      />
    </li>
  );
}

export function KeysPage() {
  const client = useSatyaMark();
  const load = useCallback(() => client.apiKeys.list(), [client]);
  const keys = useOwnList<ApiKey, CreatedApiKey>(load);

  const revoke = (key: ApiKey) =>
    keys.act(() => client.apiKeys.revoke(key.id), `Key “${key.name}” revoked.`);

  return (
    <OwnListPage
      title="API keys"
      lead={
        <>
          For platforms and scripts: send a key as <code>Authorization: Bearer &lt;key&gt;</code> to
          the API, or as the token of the WebSocket's first message.
        </>
      }
      form={{
        title: "New key",
        field: {
          label: "Name",
          name: "name",
          maxLength: 100,
          placeholder: "e.g. my newsroom plugin",
        },
        choices: SCOPES,
        submitLabel: "Create key",
        create: async (name, scopes) =>
          keys.onCreated(await client.apiKeys.create({ name, scopes })),
      }}
      list={keys}
      reveal={(key) => ({ label: `Your new key “${key.name}”`, secret: key.key })}
      listTitle="Your keys"
      listLabel="API keys"
      empty="No keys yet."
      item={(key) => <KeyRow key={key.id} apiKey={key} onRevoke={revoke} />}
    />
  );
}
