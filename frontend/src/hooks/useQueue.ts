import type { QueueView } from "@satyamark/client";
import { useSatyaMark } from "@satyamark/react";
import { useEffect, useState } from "react";

/** The queue at a glance: fetched once, then pushed to admins over the socket every 2 s. */
export function useQueue(): {
  view: QueueView | null;
  at: Date | null;
  set: (view: QueueView) => void;
} {
  const client = useSatyaMark();
  const [view, setView] = useState<QueueView | null>(null);
  const [at, setAt] = useState<Date | null>(null);

  useEffect(() => {
    let live = false;
    const show = (next: QueueView) => {
      setView(next);
      setAt(new Date());
    };
    const off = client.on("queue", (event) => {
      live = true;
      const { type: _type, ...next } = event;
      show(next);
    });
    client.admin
      .queue()
      .then((first) => {
        if (!live) show(first); // a push that came first is newer
      })
      .catch(() => {
        /* the socket's first push fills it */
      });
    return off;
  }, [client]);

  return {
    view,
    at,
    set: (next) => {
      setView(next);
      setAt(new Date());
    },
  };
}
