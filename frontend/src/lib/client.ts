// The app's one SatyaMark client (one WebSocket for every page), wired to storage so
// a reload keeps the login and resumes the event stream where it stopped.
import { SatyaMark } from "@satyamark/client";
import { loadLastEventId, loadSession, saveLastEventId, saveSession } from "./storage";

export function createClient(): SatyaMark {
  return new SatyaMark({
    baseUrl: "", // same origin: the gateway serves the app and the API
    session: loadSession(),
    lastEventId: loadLastEventId(),
    onSession: saveSession,
    onLastEventId: saveLastEventId,
    reconnect: { initialMs: 500, maxMs: 15_000 },
  });
}
