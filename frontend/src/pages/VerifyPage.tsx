import { useId, useState, type FormEvent, type KeyboardEvent } from "react";
import { ErrorNotice } from "../components/ErrorNotice";
import { TaskCard } from "../components/TaskCard";
import { useTasks } from "../hooks/useTasks";
import { describeError, type Problem } from "../lib/errors";
import { number } from "../lib/format";
import { MAX_BODY_BYTES, MAX_TEXT_CHARS, bodyBytes } from "../lib/limits";

function sizeProblem(text: string): string | null {
  if (text.length > MAX_TEXT_CHARS)
    return `${number(text.length - MAX_TEXT_CHARS)} characters over the limit: shorten the text.`;
  const bytes = bodyBytes(text);
  if (bytes > MAX_BODY_BYTES)
    return `The text is ${Math.ceil(bytes / 1024)} KB once encoded; the server accepts ${MAX_BODY_BYTES / 1024} KB. Shorten it.`;
  return null;
}

function SubmitForm({ onLogin }: { onLogin: () => void }) {
  const id = useId();
  const { submit } = useTasks();
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const tooBig = sizeProblem(text);
  // While a countdown runs (429, paused), sending again would only be refused again.
  const waiting = problem?.retryAt !== undefined && problem.retryAt > Date.now();
  const canSend = text.trim().length > 0 && !tooBig && !busy && !waiting;

  const send = async () => {
    if (!canSend) return;
    setBusy(true);
    setProblem(null);
    try {
      await submit(text);
      setText("");
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send();
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <form className="card compose" onSubmit={onSubmit}>
      <label htmlFor={`${id}-text`} className="compose-label">
        Text to check
      </label>
      <textarea
        id={`${id}-text`}
        rows={5}
        value={text}
        placeholder="For example: The Pacific is the largest ocean on Earth. It covers about a third of the planet."
        aria-describedby={`${id}-count ${id}-help`}
        aria-invalid={tooBig ? true : undefined}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="compose-foot">
        <p id={`${id}-count`} className={tooBig ? "counter counter-over" : "counter"}>
          {number(text.length)} / {number(MAX_TEXT_CHARS)} characters
          {tooBig ? <span className="counter-problem"> — {tooBig}</span> : null}
        </p>
        <p id={`${id}-help`} className="hint">
          Ctrl+Enter sends. Each sentence is checked as its own claim.
        </p>
        <button type="submit" className="button button-primary" disabled={!canSend}>
          {busy ? "Sending…" : "Verify"}
        </button>
      </div>
      <ErrorNotice
        problem={problem}
        onLogin={onLogin}
        onExpired={() => setProblem((p) => (p ? { ...p } : p))}
      />
    </form>
  );
}

function History() {
  const { state, loadMore, loadingMore, loadProblem, cancel } = useTasks();
  // How verdicts are reached is the same for every result: said once, for the newest.
  const method = state.items.find((item) => item.verdict?.method)?.verdict?.method;
  return (
    <section className="history" aria-labelledby="history-title">
      <div className="section-head">
        <h2 id="history-title">Your checks</h2>
      </div>
      {method ? (
        <p className="method" data-testid="method">
          <strong>How verdicts are reached:</strong> {method}
        </p>
      ) : null}
      <ErrorNotice problem={loadProblem} />
      {!state.loaded && !loadProblem ? <p className="muted">Loading your checks…</p> : null}
      {state.loaded && state.items.length === 0 ? (
        <p className="empty">No checks yet. Submit a text above: its verdict appears here.</p>
      ) : null}
      <ul className="task-list" aria-label="Checks, newest first">
        {state.items.map((item) => (
          <li key={item.taskId}>
            <TaskCard item={item} onCancel={cancel} />
          </li>
        ))}
      </ul>
      {state.nextCursor ? (
        <button
          type="button"
          className="button load-more"
          onClick={() => void loadMore()}
          disabled={loadingMore}
        >
          {loadingMore ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </section>
  );
}

export function VerifyPage({ onLogin }: { onLogin: () => void }) {
  return (
    <>
      <h1 className="page-title" tabIndex={-1}>
        Check a text
      </h1>
      <p className="lead">
        Paste a statement or a paragraph. It is checked against known facts, and the verdict, with
        its evidence, appears below as soon as it is ready.
      </p>
      <SubmitForm onLogin={onLogin} />
      <History />
    </>
  );
}
