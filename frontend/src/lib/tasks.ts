// The history as the page shows it: one entry per task, newest first, whatever told us
// about it (the task API, a submit, a pushed or replayed event). Keyed by taskId, so a
// replayed event updates its row instead of adding one.
import type {
  ClaimVerdict,
  FailedEvent,
  Mark,
  ProgressEvent,
  ResultEvent,
  SubmitResult,
  Task,
} from "@satyamark/client";

export interface VerdictView {
  mark: Mark;
  reason: string;
  confidence: number;
  claims: ClaimVerdict[];
  method: string | null;
}

export type Stage = "queued" | "started" | "retried" | "done" | "failed";

export interface TaskItem {
  taskId: string;
  text: string;
  stage: Stage;
  attempt: number | null;
  createdAt: string | null;
  cached: boolean;
  verdict: VerdictView | null;
  error: { errorCode: string; message: string } | null;
  /** finished while the page watched: shown expanded */
  live: boolean;
}

export interface TasksState {
  items: TaskItem[];
  nextCursor: string | null;
  /** the first page arrived (before that, say "loading", not "no checks yet") */
  loaded: boolean;
}

export const initialTasks: TasksState = { items: [], nextCursor: null, loaded: false };

const final = (item: TaskItem) => item.stage === "done" || item.stage === "failed";

function verdictOf(result: NonNullable<Task["result"]>): VerdictView {
  return {
    mark: result.mark as Mark,
    reason: result.reason,
    confidence: result.confidence,
    claims: result.claims,
    method: result.method ?? null,
  };
}

/** A task from the API; a queued one shows its latest worker stage (started / retried). */
export function fromTask(task: Task): TaskItem {
  let stage: Stage = task.status;
  let attempt: number | null = null;
  if (task.status === "queued") {
    for (const step of task.stages ?? []) {
      if (step.stage === "started" || step.stage === "retried") {
        stage = step.stage;
        const n = (step as { attempt?: unknown }).attempt;
        attempt = typeof n === "number" ? n : attempt;
      }
    }
  }
  return {
    taskId: task.taskId,
    text: task.text,
    stage,
    attempt,
    createdAt: task.createdAt,
    cached: task.cached,
    verdict: task.status === "done" && task.result ? verdictOf(task.result) : null,
    error: task.status === "failed" && task.error ? task.error : null,
    live: false,
  };
}

export function fromSubmit(text: string, answer: SubmitResult): TaskItem {
  const cached = "result" in answer && answer.cached === true;
  return {
    taskId: answer.taskId,
    text,
    stage: cached ? "done" : "queued",
    attempt: null,
    createdAt: new Date().toISOString(),
    cached,
    verdict: cached ? verdictOf(answer.result) : null,
    error: null,
    live: true,
  };
}

export type TasksAction =
  | { type: "page"; items: Task[]; nextCursor: string | null; replace: boolean }
  | { type: "upsert"; item: TaskItem }
  | { type: "result"; event: ResultEvent }
  | { type: "failed"; event: FailedEvent }
  | { type: "progress"; event: ProgressEvent }
  | { type: "reset" };

function update(
  state: TasksState,
  taskId: string,
  change: (item: TaskItem) => TaskItem,
): TasksState {
  const index = state.items.findIndex((item) => item.taskId === taskId);
  if (index < 0) return state;
  const items = state.items.slice();
  items[index] = change(items[index]!);
  return { ...state, items };
}

/** Newest first by creation time; entries without one (just pushed) stay on top. */
function insert(items: TaskItem[], item: TaskItem): TaskItem[] {
  const at = items.findIndex((other) => (other.createdAt ?? "") < (item.createdAt ?? "~"));
  return at < 0 ? [...items, item] : [...items.slice(0, at), item, ...items.slice(at)];
}

/** What we knew wins over older news: a final state is never undone by a queued one. */
function merge(known: TaskItem, news: TaskItem): TaskItem {
  if (final(known) && !final(news)) return known;
  return { ...news, live: known.live || news.live, createdAt: known.createdAt ?? news.createdAt };
}

function upsert(state: TasksState, item: TaskItem): TasksState {
  const exists = state.items.some((other) => other.taskId === item.taskId);
  if (exists) return update(state, item.taskId, (known) => merge(known, item));
  return { ...state, items: insert(state.items, item) };
}

export function tasksReducer(state: TasksState, action: TasksAction): TasksState {
  switch (action.type) {
    case "page": {
      // A reload (a resync) merges into what is shown and keeps the paging position.
      const cursor = action.replace && state.loaded ? state.nextCursor : action.nextCursor;
      let next: TasksState = { ...state, loaded: true, nextCursor: cursor };
      for (const task of action.items) next = upsert(next, fromTask(task));
      return next;
    }
    case "upsert":
      return upsert(state, action.item);
    case "result": {
      const { event } = action;
      return update(state, event.taskId, (item) => ({
        ...item,
        stage: "done",
        cached: event.cached ?? false,
        verdict: {
          mark: event.mark,
          reason: event.reason,
          confidence: event.confidence,
          claims: event.claims ?? [],
          method: event.method ?? null,
        },
        error: null,
        live: true,
      }));
    }
    case "failed": {
      const { event } = action;
      return update(state, event.taskId, (item) => ({
        ...item,
        stage: "failed",
        verdict: null,
        error: { errorCode: event.errorCode, message: event.message },
        live: true,
      }));
    }
    case "progress": {
      const { event } = action;
      return update(state, event.taskId, (item) =>
        final(item) ? item : { ...item, stage: event.stage, attempt: event.attempt },
      );
    }
    case "reset":
      return initialTasks;
  }
}

export const isFinal = final;
