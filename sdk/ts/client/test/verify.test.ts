// verify(): a cache hit at once, else the pushed result; a failed task rejects; after
// lost events the task API answers.

import { describe, expect, it, vi } from "vitest";

import { SatyaMark } from "../src/client.js";
import { SatyaMarkError } from "../src/errors.js";
import type { ProgressEvent } from "../src/types.js";
import { type Call, deferred, fakeFetch, fakeSockets, json, VERDICT } from "./fakes.js";

const TEXT = "The Pacific is the largest ocean on Earth.";

function setup(
  handler: (call: Call) => Response | Promise<Response>,
  options: ConstructorParameters<typeof SatyaMark>[0] = {},
) {
  const { WebSocket, sockets } = fakeSockets();
  const { fetch, calls } = fakeFetch(handler);
  const sm = new SatyaMark({
    baseUrl: "http://api.test",
    apiKey: "sm_live_k_s",
    fetch,
    WebSocket,
    pingIntervalMs: 0,
    ...options,
  });
  return { sm, sockets, calls };
}

const queued = (taskId: string) => json(202, { taskId, queued: true });
const resultEvent = (taskId: string, eventId = "5-0") => ({
  type: "result",
  eventId,
  taskId,
  ...VERDICT,
  cached: false,
});

describe("verify", () => {
  it("answers a cache hit at once", async () => {
    const { sm } = setup(() => json(200, { taskId: "T1", cached: true, result: VERDICT }));
    const verdict = await sm.verify(TEXT);
    expect(verdict).toEqual({
      taskId: "T1",
      mark: "Correct",
      reason: VERDICT.reason,
      confidence: 91,
      method: VERDICT.method,
      claims: VERDICT.claims,
      cached: true,
    });
  });

  it("otherwise waits for the pushed result on the shared socket", async () => {
    const { sm, sockets, calls } = setup(() => queued("T2"), { lastEventId: "4-0" });
    const seen: string[] = [];
    const submitted: string[] = [];
    const progress: ProgressEvent[] = [];
    const pending = sm.verify(TEXT, {
      onSubmitted: (r) => submitted.push(r.taskId),
      onProgress: (e) => progress.push(e),
    });
    const other = sm.verify("Another text.");
    expect(sockets).toHaveLength(1); // one socket for every verification
    sockets[0]!.accept("4-0");
    await vi.waitFor(() => expect(submitted).toEqual(["T2"]));
    sockets[0]!.push({
      type: "progress",
      eventId: "4-1",
      taskId: "T2",
      stage: "started",
      attempt: 1,
    });
    sockets[0]!.push({
      type: "progress",
      eventId: "4-2",
      taskId: "elsewhere",
      stage: "started",
      attempt: 1,
    });
    sm.on("result", (e) => seen.push(e.taskId));
    sockets[0]!.push(resultEvent("T2"));
    const verdict = await pending;
    expect(verdict).toMatchObject({ taskId: "T2", mark: "Correct", confidence: 91, cached: false });
    expect(verdict.claims[0]?.evidence?.sourceUrl).toBe("https://example.org/pacific");
    expect(progress.map((e) => e.taskId)).toEqual(["T2"]);
    expect(seen).toEqual(["T2"]);
    // a known position: no need to ask the task API
    expect(calls.filter((c) => c.path.startsWith("/v1/tasks"))).toHaveLength(0);
    void other.catch(() => undefined);
    sm.close();
  });

  it("gets a push that came before the submit's answer", async () => {
    const answer = deferred<Response>();
    const { sm, sockets } = setup(() => answer.promise, { lastEventId: "1-0" });
    const pending = sm.verify(TEXT);
    sockets[0]!.accept("1-0");
    sockets[0]!.push(resultEvent("T3", "2-0"));
    answer.resolve(queued("T3"));
    await expect(pending).resolves.toMatchObject({ taskId: "T3", mark: "Correct" });
  });

  it("rejects with the failed event's errorCode", async () => {
    const { sm, sockets, calls } = setup(() => queued("T4"), { lastEventId: "1-0" });
    const pending = sm.verify(TEXT);
    sockets[0]!.accept("1-0");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 0));
    sockets[0]!.push({
      type: "failed",
      eventId: "2-0",
      taskId: "T4",
      errorCode: "TASK-CANCELLED",
      message: "cancelled",
    });
    const error = (await pending.catch((e: unknown) => e)) as SatyaMarkError;
    expect(error).toBeInstanceOf(SatyaMarkError);
    expect(error.errorCode).toBe("TASK-CANCELLED");
    expect(error.message).toBe("cancelled");
    expect(error.taskId).toBe("T4");
  });

  it("asks the task API after a truncated (or resync) answer", async () => {
    let status = "queued";
    const { sm, sockets, calls } = setup(
      (call) =>
        call.path === "/v1/verify"
          ? queued("T5")
          : json(200, {
              taskId: "T5",
              text: TEXT,
              status,
              cached: false,
              result: status === "done" ? VERDICT : null,
              error: null,
              model: null,
              createdAt: "",
              updatedAt: "",
              completedAt: null,
              stages: [],
            }),
      { lastEventId: "1-0" },
    );
    const truncations: unknown[] = [];
    sm.on("truncated", (e) => truncations.push(e));
    const pending = sm.verify(TEXT);
    sockets[0]!.accept("9-0");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 0));
    sockets[0]!.push({ type: "resync", reason: "redis lost its data" }); // still queued
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    status = "done";
    sockets[0]!.push({ type: "truncated", oldestEventId: "8-0" });
    await expect(pending).resolves.toMatchObject({ taskId: "T5", mark: "Correct" });
    expect(calls.map((c) => c.path)).toEqual(["/v1/verify", "/v1/tasks/T5", "/v1/tasks/T5"]);
    expect(truncations).toEqual([{ type: "truncated", oldestEventId: "8-0" }]);
  });

  it("a fresh client (no replay position) reads the task once its socket is live", async () => {
    const { sm, sockets, calls } = setup((call) =>
      call.path === "/v1/verify"
        ? queued("T6")
        : json(200, {
            taskId: "T6",
            status: "failed",
            cached: false,
            result: null,
            error: { errorCode: "AI-INPUT-422", message: "bad text" },
          }),
    );
    const pending = sm.verify(TEXT);
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    // the verdict may have been pushed before the socket registered: then it is history
    sockets[0]!.accept("12-0");
    await expect(pending).rejects.toMatchObject({ errorCode: "AI-INPUT-422", taskId: "T6" });
    expect(calls.map((c) => c.path)).toEqual(["/v1/verify", "/v1/tasks/T6"]);
  });

  it("submits a text once for concurrent verifications of it", async () => {
    const { sm, sockets, calls } = setup(() => queued("T7"), { lastEventId: "1-0" });
    const a = sm.verify(TEXT);
    const b = sm.verify(TEXT);
    sockets[0]!.accept("1-0");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 0));
    sockets[0]!.push(resultEvent("T7"));
    const [va, vb] = await Promise.all([a, b]);
    expect(va).toEqual(vb);
    expect(calls).toHaveLength(1);
  });

  it("a caller that aborts leaves; one who joins at once keeps the verification", async () => {
    const { sm, sockets, calls } = setup(() => queued("T8"), { lastEventId: "1-0" });
    const first = new AbortController();
    const a = sm.verify(TEXT, { signal: first.signal });
    first.abort(new Error("unmounted"));
    await expect(a).rejects.toThrow("unmounted");
    const b = sm.verify(TEXT); // React's StrictMode: mounted again straight away
    sockets[0]!.accept("1-0");
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 0));
    sockets[0]!.push(resultEvent("T8"));
    await expect(b).resolves.toMatchObject({ taskId: "T8" });
    expect(calls).toHaveLength(1);
  });

  it("times out with SDK-TIMEOUT", async () => {
    const { sm, sockets } = setup(() => queued("T9"), { lastEventId: "1-0" });
    const pending = sm.verify(TEXT, { timeoutMs: 20 });
    sockets[0]!.accept("1-0");
    await expect(pending).rejects.toMatchObject({ errorCode: "SDK-TIMEOUT" });
  });

  it("rejects pending verifications on logout", async () => {
    const { sm, sockets } = setup(
      (call) => (call.path === "/v1/auth/logout" ? json(204, null) : queued("T10")),
      { apiKey: undefined, session: { accessToken: "a", refreshToken: "r" }, lastEventId: "1-0" },
    );
    const pending = sm.verify(TEXT);
    sockets[0]!.accept("1-0");
    await new Promise((r) => setTimeout(r, 5));
    await sm.logout();
    await expect(pending).rejects.toMatchObject({ status: 401, errorCode: "SDK-AUTH-401" });
    expect(sm.connectionState).toBe("closed");
  });

  it("rejects when the client is closed while the text is being submitted", async () => {
    const answer = deferred<Response>();
    const { sm } = setup(() => answer.promise, { lastEventId: "1-0" });
    const pending = sm.verify(TEXT);
    sm.close();
    answer.resolve(queued("T11"));
    await expect(pending).rejects.toMatchObject({ errorCode: "SDK-CLOSED" });
  });

  it("a refused submit rejects with the API's error", async () => {
    const { sm } = setup(() =>
      json(503, { errorCode: "BE-PAUSED-503", message: "paused" }, { "retry-after": "30" }),
    );
    await expect(sm.verify(TEXT)).rejects.toMatchObject({
      status: 503,
      errorCode: "BE-PAUSED-503",
      retryAfterS: 30,
    });
  });
});
