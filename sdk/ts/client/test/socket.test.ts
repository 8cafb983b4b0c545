// The shared socket: first-message auth, replay bookkeeping, reconnects with backoff,
// 4401 handling, event routing.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { SatyaMark } from "../src/client.js";
import type { ConnectionState, ServerEvent, Session } from "../src/types.js";
import { fakeFetch, fakeSockets, json, tokens } from "./fakes.js";

const SESSION: Session = { accessToken: "access-1", refreshToken: "refresh-1" };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

// Server events, as the socket service sends them.
function progress(eventId: string): Record<string, unknown> {
  return { type: "progress", eventId, taskId: "t", stage: "started", attempt: 1 };
}

function result(eventId: string, taskId: string, confidence = 1): Record<string, unknown> {
  return { type: "result", eventId, taskId, mark: "Correct", reason: "r", confidence, claims: [] };
}

function setup(options: ConstructorParameters<typeof SatyaMark>[0] = {}) {
  const { WebSocket, sockets } = fakeSockets();
  const saved: string[] = [];
  const states: ConnectionState[] = [];
  const { fetch, calls } = fakeFetch((call) =>
    call.path === "/v1/auth/refresh" ? json(200, tokens("access-2", "refresh-2")) : json(200, {}),
  );
  const sm = new SatyaMark({
    baseUrl: "https://satyamark.example",
    session: SESSION,
    fetch,
    WebSocket,
    onLastEventId: (id) => saved.push(id),
    reconnect: { initialMs: 100, maxMs: 1_000 },
    pingIntervalMs: 0,
    ...options,
  });
  sm.on("connection", (state) => states.push(state));
  return { sm, sockets, saved, states, calls };
}

describe("connecting", () => {
  it("authenticates with the first message, never in the URL", () => {
    const { sm, sockets, states } = setup();
    sm.connect();
    sm.connect(); // idempotent
    expect(sockets).toHaveLength(1);
    const ws = sockets[0]!;
    expect(ws.url).toBe("wss://satyamark.example/v1/ws");
    expect(ws.url).not.toContain("access");
    ws.open();
    expect(ws.sent).toEqual([{ type: "auth", token: "access-1", lastEventId: null }]);
    expect(states).toEqual(["connecting"]);
    ws.push({ type: "ready", socketId: "s", userId: "u", lastEventId: "17-0" });
    expect(states).toEqual(["connecting", "live"]);
    expect(sm.connectionState).toBe("live");
  });

  it("uses ws:// for an http base URL and waits idle without a credential", () => {
    const { sm, sockets } = setup({ baseUrl: "http://127.0.0.1:8000", session: null });
    sm.connect();
    expect(sockets).toHaveLength(0);
    expect(sm.connectionState).toBe("idle");
    const withKey = setup({
      baseUrl: "http://127.0.0.1:8000/",
      session: null,
      apiKey: "sm_live_a_b",
    });
    withKey.sm.connect();
    expect(withKey.sockets[0]?.url).toBe("ws://127.0.0.1:8000/v1/ws");
    withKey.sockets[0]?.open();
    expect(withKey.sockets[0]?.sent[0]).toMatchObject({ token: "sm_live_a_b" });
  });

  it("listening to a socket event opens the socket; connection and session do not", () => {
    const { sm, sockets } = setup();
    sm.on("session", () => undefined);
    expect(sockets).toHaveLength(0);
    sm.on("result", () => undefined);
    expect(sockets).toHaveLength(1);
  });

  it("asks for a WebSocket where there is none (Node 20)", async () => {
    vi.stubGlobal("WebSocket", undefined);
    try {
      const sm = new SatyaMark({ baseUrl: "http://x", apiKey: "k" });
      expect(() => sm.connect()).toThrow(/options.WebSocket/);
      await expect(sm.verify("text")).rejects.toMatchObject({ errorCode: "SDK-NO-WEBSOCKET" });
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("replay bookkeeping", () => {
  it("a fresh client starts from ready's lastEventId, then remembers every event id", () => {
    const { sm, sockets, saved } = setup();
    sm.connect();
    const ws = sockets[0]!;
    ws.accept("17-0");
    expect(saved).toEqual(["17-0"]);
    ws.push(progress("18-0"));
    ws.push({ type: "queue", backlog: 1 }); // not logged: no eventId, not remembered
    ws.push(result("19-3", "t", 90));
    expect(saved).toEqual(["17-0", "18-0", "19-3"]);
    expect(sm.lastEventId).toBe("19-3");
  });

  it("an empty log starts from 0-0, so a first disconnection loses nothing", () => {
    const { sm, sockets, saved } = setup();
    sm.connect();
    sockets[0]!.accept(null);
    expect(saved).toEqual(["0-0"]);
  });

  it("a saved position is sent on the first connect and kept over ready's", () => {
    const { sm, sockets, saved } = setup({ lastEventId: "42-1" });
    sm.connect();
    sockets[0]!.open();
    expect(sockets[0]!.sent[0]).toEqual({ type: "auth", token: "access-1", lastEventId: "42-1" });
    sockets[0]!.push({ type: "ready", socketId: "s", userId: "u", lastEventId: "50-0" });
    expect(saved).toEqual([]);
    expect(sm.lastEventId).toBe("42-1");
  });

  it("a malformed saved position is forgotten rather than sent", () => {
    const { sm, sockets } = setup({ lastEventId: "not-an-id" });
    sm.connect();
    sockets[0]!.open();
    expect(sockets[0]!.sent[0]).toMatchObject({ lastEventId: null });
  });

  it("reconnects with backoff after a drop, naming the last event seen", async () => {
    const { sm, sockets, states } = setup();
    sm.connect();
    sockets[0]!.accept("10-0");
    const failed = { type: "failed", eventId: "11-0", taskId: "t", errorCode: "X-Y", message: "m" };
    sockets[0]!.push(failed);
    sockets[0]!.drop(1006);
    expect(sm.connectionState).toBe("reconnecting");
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100); // the first delay is at most initialMs
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toEqual({ type: "auth", token: "access-1", lastEventId: "11-0" });
    // it fails again: the next delay is longer (50–100 ms, then 100–200 ms)
    sockets[1]!.drop(1013);
    await vi.advanceTimersByTimeAsync(99);
    expect(sockets).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(101);
    expect(sockets).toHaveLength(3);
    sockets[2]!.accept("11-0");
    expect(states).toEqual(["connecting", "live", "reconnecting", "live"]);
    // a success resets the backoff: the next drop waits initialMs at most again
    sockets[2]!.drop(1001);
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets).toHaveLength(4);
  });

  it("close() stops reconnecting", async () => {
    const { sm, sockets, states } = setup();
    sm.connect();
    sockets[0]!.accept("1-0");
    sockets[0]!.drop(1006);
    sm.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sockets).toHaveLength(1);
    expect(states.at(-1)).toBe("closed");
    sm.connect(); // and connect() opens again
    expect(sockets).toHaveLength(2);
  });
});

describe("close code 4401", () => {
  it("refreshes the token once and reconnects at once with the new one", async () => {
    const { sm, sockets, calls } = setup();
    sm.connect();
    sockets[0]!.accept("3-0");
    sockets[0]!.push({ type: "error", errorCode: "WS-AUTH-401", message: "token expired" });
    sockets[0]!.drop(4401);
    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    expect(calls.filter((c) => c.path === "/v1/auth/refresh")).toHaveLength(1);
    sockets[1]!.open();
    expect(sockets[1]!.sent[0]).toEqual({ type: "auth", token: "access-2", lastEventId: "3-0" });
    expect(sm.session).toEqual({ accessToken: "access-2", refreshToken: "refresh-2" });
  });

  it("reconnects without refreshing when an API call renewed the token meanwhile", async () => {
    const { sm, sockets, calls } = setup();
    sm.connect();
    sockets[0]!.accept("3-0");
    expect(await sm.refresh()).toBe("ok");
    sockets[0]!.drop(4401);
    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    expect(calls.filter((c) => c.path === "/v1/auth/refresh")).toHaveLength(1);
  });

  it("ends in closed, with the session dropped, when the login expired", async () => {
    const { WebSocket, sockets } = fakeSockets();
    const { fetch } = fakeFetch(() =>
      json(401, { errorCode: "AUTH-REFRESH-401", message: "expired" }),
    );
    const sessions: (Session | null)[] = [];
    const sm = new SatyaMark({
      baseUrl: "http://x",
      session: SESSION,
      fetch,
      WebSocket,
      pingIntervalMs: 0,
    });
    sm.on("session", (s) => sessions.push(s));
    sm.connect();
    sockets[0]!.accept("1-0");
    sockets[0]!.drop(4401);
    await vi.waitFor(() => expect(sm.connectionState).toBe("closed"));
    expect(sm.session).toBeNull();
    expect(sessions).toEqual([null]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(1);
  });

  it("backs off when the renewed token is refused too", async () => {
    const { sm, sockets, calls } = setup();
    sm.connect();
    sockets[0]!.drop(4401);
    await vi.waitFor(() => expect(sockets).toHaveLength(2));
    sockets[1]!.drop(4401);
    await vi.advanceTimersByTimeAsync(0);
    // waitFor advances fake time by its interval on every check: 1 ms keeps it far below
    // the shortest backoff (50 ms), which the default 50 ms could reach in one check.
    await vi.waitFor(
      () => expect(calls.filter((c) => c.path === "/v1/auth/refresh")).toHaveLength(2),
      { interval: 1 },
    );
    expect(sockets).toHaveLength(2); // not at once: after a backoff delay
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets).toHaveLength(3);
  });
});

describe("events", () => {
  it("reach the listeners of their type, and every one reaches 'event'", () => {
    const { sm, sockets } = setup();
    const results: unknown[] = [];
    const everything: ServerEvent[] = [];
    const off = sm.on("result", (e) => results.push(e.taskId));
    sm.on("event", (e) => everything.push(e));
    const errors: string[] = [];
    sm.on("error", (e) => errors.push(e.errorCode));
    sockets[0]!.open();
    // a refused set-up is told by its close code, not as an error event
    sockets[0]!.push({ type: "error", errorCode: "WS-DEP-503", message: "retry" });
    sockets[0]!.push({ type: "ready", socketId: "s", userId: "u", lastEventId: "1-0" });
    sockets[0]!.push(result("2-0", "a"));
    sockets[0]!.push({ type: "pong" });
    sockets[0]!.push({ type: "error", errorCode: "WS-MSG-400", message: "bad" });
    off();
    sockets[0]!.push(result("3-0", "b"));
    expect(results).toEqual(["a"]);
    expect(errors).toEqual(["WS-MSG-400"]);
    expect(everything.map((e) => e.type)).toEqual(["ready", "result", "error", "result"]);
  });

  it("a throwing listener does not stop the others", async () => {
    const { sm, sockets } = setup();
    const seen: string[] = [];
    sm.on("progress", () => {
      throw new Error("listener bug");
    });
    sm.on("progress", (e) => seen.push(e.taskId));
    sockets[0]!.accept("1-0");
    sockets[0]!.push(progress("2-0"));
    expect(seen).toEqual(["t"]);
    expect(sm.lastEventId).toBe("2-0");
    // the error is still reported, as an uncaught one
    await expect(vi.advanceTimersByTimeAsync(1)).rejects.toThrow("listener bug");
  });

  it("a silent connection is noticed by the app-level ping and replaced", async () => {
    const { sm, sockets } = setup({ pingIntervalMs: 1_000 });
    sm.connect();
    sockets[0]!.accept("1-0");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sockets[0]!.sent.at(-1)).toEqual({ type: "ping" });
    sockets[0]!.push({ type: "pong" });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sockets[0]!.closedWith).toBeNull(); // it answered: still fine
    await vi.advanceTimersByTimeAsync(1_000); // no answer to the second ping
    expect(sockets[0]!.closedWith?.code).toBe(4000);
    expect(sm.connectionState).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(100);
    expect(sockets).toHaveLength(2);
  });
});
