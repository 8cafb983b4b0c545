import { useId, useState } from "react";
import { describeError, describeFailure, type Problem } from "../lib/errors";
import { when } from "../lib/format";
import type { TaskItem } from "../lib/tasks";
import { ErrorNotice } from "./ErrorNotice";
import { Icon } from "./Icon";
import { Progress } from "./Progress";
import { Verdict } from "./Verdict";

function Failure({ error }: { error: NonNullable<TaskItem["error"]> }) {
  const cancelled = error.errorCode === "TASK-CANCELLED";
  return (
    <div className="failure">
      <span className={`badge ${cancelled ? "badge-cancelled" : "badge-failed"}`}>
        <Icon name={cancelled ? "ban" : "warning"} /> {cancelled ? "Cancelled" : "Failed"}
      </span>
      <p>{describeFailure(error.errorCode)}</p>
      <p className="notice-code">Code: {error.errorCode}</p>
    </div>
  );
}

export function TaskCard({
  item,
  onCancel,
}: {
  item: TaskItem;
  onCancel: (taskId: string) => Promise<void>;
}) {
  const id = useId();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const waiting = item.stage !== "done" && item.stage !== "failed";

  const cancel = async () => {
    setCancelling(true);
    setProblem(null);
    try {
      await onCancel(item.taskId);
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setCancelling(false);
    }
  };

  return (
    <article
      className="task"
      data-task-id={item.taskId}
      data-stage={item.stage}
      aria-labelledby={`${id}-text`}
    >
      <header className="task-head">
        <p className="task-text" id={`${id}-text`}>
          {item.text}
        </p>
        <time className="task-time muted" dateTime={item.createdAt ?? undefined}>
          {when(item.createdAt)}
        </time>
      </header>
      {item.verdict ? (
        <Verdict verdict={item.verdict} cached={item.cached} expanded={item.live} />
      ) : null}
      {item.error ? <Failure error={item.error} /> : null}
      {waiting ? (
        <div className="task-waiting">
          <Progress stage={item.stage} attempt={item.attempt} />
          <button
            type="button"
            className="button button-quiet"
            onClick={cancel}
            disabled={cancelling}
            aria-describedby={`${id}-text`}
          >
            {cancelling ? "Cancelling…" : "Cancel"}
          </button>
        </div>
      ) : null}
      <ErrorNotice problem={problem} />
    </article>
  );
}
