// The user's checks, shared by every page: the history from GET /v1/tasks (a page at a
// time), updated in place by pushed events, reloaded when the server says events were
// lost (truncated / resync).
import type { FailedEvent, ResultEvent, SatyaMark } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { useAnnounce } from "../components/Announcer";
import { describeError, type Problem } from "../lib/errors";
import {
  fromSubmit,
  fromTask,
  initialTasks,
  isFinal,
  tasksReducer,
  type TaskItem,
  type TasksState,
} from "../lib/tasks";

const PAGE = 20;

interface Tasks {
  state: TasksState;
  loadingMore: boolean;
  loadProblem: Problem | null;
  submit(text: string): Promise<TaskItem>;
  cancel(taskId: string): Promise<void>;
  loadMore(): Promise<void>;
  reload(): Promise<void>;
}

const TasksContext = createContext<Tasks | null>(null);

export function useTasks(): Tasks {
  const tasks = useContext(TasksContext);
  if (!tasks) throw new Error("useTasks outside <TasksProvider>");
  return tasks;
}

function shortText(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function spoken(event: ResultEvent | FailedEvent, text: string | undefined): string {
  const about = text ? ` for “${shortText(text)}”` : "";
  return event.type === "result"
    ? `Verdict${about}: ${event.mark}, ${event.confidence}% confidence.`
    : `Check${about} failed.`;
}

export function TasksProvider({ children }: { children: ReactNode }) {
  const client: SatyaMark = useSatyaMark();
  const announce = useAnnounce();
  const [state, dispatch] = useReducer(tasksReducer, initialTasks);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadProblem, setLoadProblem] = useState<Problem | null>(null);
  // Listeners read the latest state without re-subscribing (and so without missing events).
  const current = useRef(state);
  current.current = state;

  const fetchOne = useCallback(
    async (taskId: string, live: boolean) => {
      try {
        const task = await client.tasks.get(taskId);
        dispatch({ type: "upsert", item: { ...fromTask(task), live } });
      } catch {
        /* not ours or gone: the next reload shows what exists */
      }
    },
    [client],
  );

  const reload = useCallback(async () => {
    try {
      const page = await client.tasks.list({ limit: PAGE });
      dispatch({
        type: "page",
        items: page.items,
        nextCursor: page.nextCursor ?? null,
        replace: true,
      });
      setLoadProblem(null);
      // Anything still waiting that the first page no longer holds: ask for it by id.
      const shown = new Set(page.items.map((task) => task.taskId));
      const waiting = current.current.items.filter(
        (item) => !shown.has(item.taskId) && item.stage !== "done" && item.stage !== "failed",
      );
      await Promise.all(waiting.map((item) => fetchOne(item.taskId, false)));
    } catch (error) {
      setLoadProblem(describeError(error));
    }
  }, [client, fetchOne]);

  const loadMore = useCallback(async () => {
    const cursor = current.current.nextCursor;
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await client.tasks.list({ limit: PAGE, cursor });
      dispatch({
        type: "page",
        items: page.items,
        nextCursor: page.nextCursor ?? null,
        replace: false,
      });
      setLoadProblem(null);
    } catch (error) {
      setLoadProblem(describeError(error));
    } finally {
      setLoadingMore(false);
    }
  }, [client]);

  useEffect(() => {
    void reload();
    const onFinal = (event: ResultEvent | FailedEvent) => {
      const known = current.current.items.find((item) => item.taskId === event.taskId);
      if (event.type === "result") dispatch({ type: "result", event });
      else dispatch({ type: "failed", event });
      // A replay of what the page already shows is not news.
      if (!known || !isFinal(known)) announce(spoken(event, known?.text));
      // Submitted elsewhere (another tab, an API key) or before this page loaded it.
      if (!known) void fetchOne(event.taskId, true);
    };
    const offs = [
      client.on("result", onFinal),
      client.on("failed", onFinal),
      client.on("progress", (event) => dispatch({ type: "progress", event })),
      client.on("truncated", () => void reload()),
      client.on("resync", () => void reload()),
    ];
    client.connect();
    return () => offs.forEach((off) => off());
  }, [client, reload, fetchOne, announce]);

  const submit = useCallback(
    async (text: string) => {
      const answer = await client.submit(text);
      const item = fromSubmit(text, answer);
      // The pushed verdict may have come first (a fast worker): upsert never undoes it.
      dispatch({ type: "upsert", item });
      if (item.verdict)
        announce(
          `Verdict (from the cache): ${item.verdict.mark}, ${item.verdict.confidence}% confidence.`,
        );
      return item;
    },
    [client, announce],
  );

  const cancel = useCallback(
    async (taskId: string) => {
      try {
        const task = await client.tasks.cancel(taskId);
        dispatch({ type: "upsert", item: { ...fromTask(task), live: true } });
      } catch (error) {
        await fetchOne(taskId, true); // it finished meanwhile (409): show how
        throw error;
      }
    },
    [client, fetchOne],
  );

  const value = useMemo(
    () => ({ state, loadingMore, loadProblem, submit, cancel, loadMore, reload }),
    [state, loadingMore, loadProblem, submit, cancel, loadMore, reload],
  );
  return <TasksContext.Provider value={value}>{children}</TasksContext.Provider>;
}
