// What the API keys and webhooks pages share: the caller's list (loaded, reloaded), the
// one just created (its secret shown once), actions on an item (announced when done, their
// problem shown with the list's), and the page that shows them.
import { useId, useState, type ComponentProps, type ReactNode } from "react";
import { useAnnounce } from "./Announcer";
import { CreateForm } from "./CreateForm";
import { ErrorNotice } from "./ErrorNotice";
import { SecretOnce } from "./SecretOnce";
import { describeError, type Problem } from "../lib/errors";
import { useResource } from "../hooks/useResource";

export type OwnList<T, Created> = ReturnType<typeof useOwnList<T, Created>>;

export function useOwnList<T, Created>(load: () => Promise<T[]>) {
  const announce = useAnnounce();
  const { data, problem, loading, reload } = useResource<T[]>(load);
  const [created, setCreated] = useState<Created | null>(null);
  const [actionProblem, setActionProblem] = useState<Problem | null>(null);

  /** Run ``work`` on an item, announce ``done`` when it worked, then reload. */
  const act = async (work: () => Promise<unknown>, done: string) => {
    setActionProblem(null);
    try {
      await work();
      announce(done);
    } catch (error) {
      setActionProblem(describeError(error));
    }
    await reload();
  };

  return {
    data,
    problem: problem ?? actionProblem,
    loading,
    reload,
    announce,
    act,
    created,
    onCreated: (item: Created) => {
      setCreated(item);
      void reload();
    },
    dismissCreated: () => setCreated(null),
  };
}

/** A page of the caller's own things: its title and lead, the form that creates one, the
 * one just created (its secret shown once, until dismissed), and the list with its loading,
 * empty and problem states. */
export function OwnListPage<T, Created>({
  title,
  lead,
  form,
  list,
  reveal,
  listTitle,
  listLabel,
  empty,
  item,
}: {
  title: string;
  lead: ReactNode;
  form: ComponentProps<typeof CreateForm>;
  list: OwnList<T, Created>;
  /** The label and the secret shown for the one just created. */
  reveal: (created: Created) => { label: string; secret: string };
  listTitle: string;
  listLabel: string;
  empty: string;
  item: (value: T) => ReactNode;
}) {
  const id = useId();
  const { data, problem, loading, created, dismissCreated } = list;
  const shown = created === null ? null : reveal(created);
  return (
    <>
      <h1 className="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p className="lead">{lead}</p>
      <CreateForm {...form} />
      {shown ? (
        <SecretOnce label={shown.label} value={shown.secret} onDone={dismissCreated} />
      ) : null}
      <section aria-labelledby={`${id}-list`}>
        <h2 id={`${id}-list`}>{listTitle}</h2>
        <ErrorNotice problem={problem} />
        {loading && !data ? <p className="muted">Loading…</p> : null}
        {data && data.length === 0 ? <p className="empty">{empty}</p> : null}
        <ul className="item-list" aria-label={listLabel}>
          {data?.map(item)}
        </ul>
      </section>
    </>
  );
}
