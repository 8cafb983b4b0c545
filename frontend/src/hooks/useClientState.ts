// The client's login and socket state as React state. Built on the contract's
// `on("session" | "connection")` and getters only, so any SDK that keeps the contract fits.
import type { ConnectionState, SatyaMark, Session } from "@satyamark/client";
import { useCallback, useSyncExternalStore } from "react";

export function useSessionOf(client: SatyaMark): Session | null {
  const subscribe = useCallback((changed: () => void) => client.on("session", changed), [client]);
  return useSyncExternalStore(subscribe, () => client.session);
}

export function useConnectionOf(client: SatyaMark): ConnectionState {
  const subscribe = useCallback(
    (changed: () => void) => client.on("connection", changed),
    [client],
  );
  return useSyncExternalStore(subscribe, () => client.connectionState);
}
