import type { ApiKey, CreatedApiKey } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useCallback, useId, useState, type FormEvent } from "react";
import { useAnnounce } from "../components/Announcer";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { SecretOnce } from "../components/SecretOnce";
import { useResource } from "../hooks/useResource";
import { describeError, type Problem } from "../lib/errors";
import { when } from "../lib/format";

const SCOPES = [
  { value: "verify", label: "Submit texts", hint: "POST /v1/verify" },
  { value: "tasks:read", label: "Read tasks", hint: "GET /v1/tasks" },
] as const;

function CreateKey({ onCreated }: { onCreated: (key: CreatedApiKey) => void }) {
  const client = useSatyaMark();
  const id = useId();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(SCOPES.map((s) => s.value));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (scopes.length === 0) {
      setProblem({ kind: "invalid", title: "Choose at least one scope." });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      onCreated(await client.apiKeys.create({ name: name.trim(), scopes }));
      setName("");
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (scope: string, on: boolean) =>
    setScopes((now) => (on ? [...now, scope] : now.filter((s) => s !== scope)));

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>New key</h2>
      <div className="field">
        <label htmlFor={`${id}-name`}>Name</label>
        <input
          id={`${id}-name`}
          required
          maxLength={100}
          value={name}
          placeholder="e.g. my newsroom plugin"
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <fieldset className="choices">
        <legend>What it may do</legend>
        {SCOPES.map((scope) => (
          <label key={scope.value} className="choice">
            <input
              type="checkbox"
              name="scope"
              value={scope.value}
              checked={scopes.includes(scope.value)}
              onChange={(e) => toggle(scope.value, e.target.checked)}
            />
            {scope.label} <code>{scope.value}</code>
          </label>
        ))}
      </fieldset>
      <ErrorNotice problem={problem} />
      <div>
        <button type="submit" className="button button-primary" disabled={busy}>
          Create key
        </button>
      </div>
    </form>
  );
}

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
  const announce = useAnnounce();
  const load = useCallback(() => client.apiKeys.list(), [client]);
  const { data, problem, loading, reload } = useResource<ApiKey[]>(load);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);

  const revoke = async (key: ApiKey) => {
    setActionProblem(null);
    try {
      await client.apiKeys.revoke(key.id);
      announce(`Key “${key.name}” revoked.`);
    } catch (error) {
      setActionProblem(describeError(error));
    }
    await reload();
  };

  return (
    <>
      <h1 className="page-title" tabIndex={-1}>
        API keys
      </h1>
      <p className="lead">
        For platforms and scripts: send a key as <code>Authorization: Bearer &lt;key&gt;</code> to
        the API, or as the token of the WebSocket's first message.
      </p>
      <CreateKey
        onCreated={(key) => {
          setCreated(key);
          void reload();
        }}
      />
      {created ? (
        <SecretOnce
          label={`Your new key “${created.name}”`}
          value={created.key}
          onDone={() => setCreated(null)}
        />
      ) : null}
      <section aria-labelledby="keys-title">
        <h2 id="keys-title">Your keys</h2>
        <ErrorNotice problem={problem ?? actionProblem} />
        {loading && !data ? <p className="muted">Loading…</p> : null}
        {data && data.length === 0 ? <p className="empty">No keys yet.</p> : null}
        <ul className="item-list" aria-label="API keys">
          {data?.map((key) => (
            <KeyRow key={key.id} apiKey={key} onRevoke={revoke} />
          ))}
        </ul>
      </section>
    </>
  );
}
