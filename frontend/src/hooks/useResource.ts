import { useCallback, useEffect, useRef, useState } from "react";
import { describeError, type Problem } from "../lib/errors";

/** Data loaded from the API, with its problem and a reload; a stale answer is dropped. */
export function useResource<T>(load: () => Promise<T>): {
  data: T | null;
  problem: Problem | null;
  loading: boolean;
  reload: () => Promise<void>;
} {
  const [data, setData] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);

  const reload = useCallback(async () => {
    const call = ++latest.current;
    setLoading(true);
    try {
      const value = await load();
      if (call !== latest.current) return;
      setData(value);
      setProblem(null);
    } catch (error) {
      if (call === latest.current) setProblem(describeError(error));
    } finally {
      if (call === latest.current) setLoading(false);
    }
  }, [load]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return { data, problem, loading, reload };
}
