// One client for the whole tree: its socket and its login are shared by every badge.

import { createContext, type JSX, type ReactNode, useContext, useSyncExternalStore } from "react";

import type { ConnectionState, SatyaMark, Session } from "@satyamark/client";

const SatyaMarkContext = createContext<SatyaMark | null>(null);

export function SatyaMarkProvider(props: { client: SatyaMark; children: ReactNode }): JSX.Element {
  return (
    <SatyaMarkContext.Provider value={props.client}>{props.children}</SatyaMarkContext.Provider>
  );
}

/** The provider's client; throws outside a SatyaMarkProvider (a bug worth hearing of). */
export function useSatyaMark(): SatyaMark {
  const client = useContext(SatyaMarkContext);
  if (client === null) {
    throw new Error(
      "useSatyaMark: no client here; wrap the tree in <SatyaMarkProvider client={…}>",
    );
  }
  return client;
}

/** `client` when given, else the provider's. */
export function useClient(client?: SatyaMark): SatyaMark {
  const fromContext = useContext(SatyaMarkContext);
  const chosen = client ?? fromContext;
  if (chosen === null) {
    throw new Error("no SatyaMark client: pass `client` or wrap the tree in <SatyaMarkProvider>");
  }
  return chosen;
}

/** The shared socket's state, re-rendering when it changes. */
export function useConnectionState(client?: SatyaMark): ConnectionState {
  const sm = useClient(client);
  return useSyncExternalStore(
    (changed) => sm.on("connection", changed),
    () => sm.connectionState,
    () => "idle",
  );
}

/** The current login (null: logged out), re-rendering when it changes. */
export function useSession(client?: SatyaMark): Session | null {
  const sm = useClient(client);
  return useSyncExternalStore(
    (changed) => sm.on("session", changed),
    () => sm.session,
    () => null,
  );
}
