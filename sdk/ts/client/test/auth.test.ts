// The bearer token, the one shared refresh of an expired token, and the retry after it.

import { describe, expect, it, vi } from "vitest";

import { SatyaMark } from "../src/client.js";
import { SatyaMarkError } from "../src/errors.js";
import type { Session } from "../src/types.js";
import { type Call, deferred, fakeFetch, fakeSockets, json, tokens } from "./fakes.js";

const OLD: Session = { accessToken: "access-1", refreshToken: "refresh-1" };
const PAGE = { items: [], nextCursor: null };

/** A server whose access tokens are valid once renewed: `access-1` is expired. */
function server(
  refresh: (call: Call) => Response | Promise<Response> = () =>
    json(200, tokens("access-2", "refresh-2")),
) {
  return fakeFetch((call) => {
    if (call.path === "/v1/auth/refresh") return refresh(call);
    if (call.headers.authorization === "Bearer access-1") {
      return json(401, { errorCode: "GW-AUTH-401", message: "token is invalid or expired" });
    }
    return json(200, PAGE);
  });
}

function client(
  fetchFn: typeof fetch,
  extra: Partial<ConstructorParameters<typeof SatyaMark>[0]> = {},
) {
  return new SatyaMark({ baseUrl: "http://api.test", fetch: fetchFn, session: OLD, ...extra });
}

const refreshes = (calls: Call[]) => calls.filter((c) => c.path === "/v1/auth/refresh");

describe("a 401 on an API call", () => {
  it("refreshes once and retries with the new token", async () => {
    const { fetch, calls } = server();
    const onSession = vi.fn();
    const sm = client(fetch, { onSession });
    const sessions: (Session | null)[] = [];
    sm.on("session", (s) => sessions.push(s));

    await expect(sm.tasks.list({ limit: 5 })).resolves.toEqual(PAGE);

    expect(calls.map((c) => [c.path, c.headers.authorization])).toEqual([
      ["/v1/tasks", "Bearer access-1"],
      ["/v1/auth/refresh", undefined],
      ["/v1/tasks", "Bearer access-2"],
    ]);
    expect(calls[0]?.url).toBe("http://api.test/v1/tasks?limit=5");
    expect(refreshes(calls)[0]?.body).toEqual({ refresh_token: "refresh-1" });
    const renewed = { accessToken: "access-2", refreshToken: "refresh-2" };
    expect(sm.session).toEqual(renewed);
    expect(onSession).toHaveBeenCalledWith(renewed);
    expect(sessions).toEqual([renewed]);
  });

  it("shares one refresh between concurrent calls (refresh tokens are single use)", async () => {
    const gate = deferred<Response>();
    const { fetch, calls } = server(() => gate.promise);
    const sm = client(fetch);
    const pending = [sm.tasks.list(), sm.tasks.get("01ABC"), sm.apiKeys.list(), sm.webhooks.list()];
    await vi.waitFor(() => expect(refreshes(calls)).toHaveLength(1));
    gate.resolve(json(200, tokens("access-2", "refresh-2")));
    await Promise.all(pending);
    expect(refreshes(calls)).toHaveLength(1);
    const retried = calls.filter((c) => c.headers.authorization === "Bearer access-2");
    expect(retried.map((c) => c.path).sort()).toEqual([
      "/v1/api-keys",
      "/v1/tasks",
      "/v1/tasks/01ABC",
      "/v1/webhooks",
    ]);
  });

  it("retries a call refused with a token renewed meanwhile, without refreshing again", async () => {
    const late = deferred<void>();
    const { fetch, calls } = fakeFetch(async (call) => {
      if (call.path === "/v1/auth/refresh") return json(200, tokens("access-2", "refresh-2"));
      if (call.headers.authorization === "Bearer access-1") {
        if (call.path === "/v1/tasks") await late.promise; // answers after the refresh
        return json(401, { errorCode: "GW-AUTH-401", message: "expired" });
      }
      return json(200, PAGE);
    });
    const sm = client(fetch);
    const slow = sm.tasks.list();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(await sm.refresh()).toBe("ok");
    late.resolve();
    await expect(slow).resolves.toEqual(PAGE);
    expect(refreshes(calls)).toHaveLength(1);
    expect(calls.at(-1)?.headers.authorization).toBe("Bearer access-2");
  });

  it("retries once only: a second 401 is the caller's", async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.path === "/v1/auth/refresh"
        ? json(200, tokens("access-2", "refresh-2"))
        : json(401, { errorCode: "GW-AUTH-401", message: "no" }),
    );
    const sm = client(fetch);
    const error = await sm.tasks.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SatyaMarkError);
    expect((error as SatyaMarkError).status).toBe(401);
    expect(calls.map((c) => c.path)).toEqual(["/v1/tasks", "/v1/auth/refresh", "/v1/tasks"]);
  });

  it("logs out when the refresh token is refused (expired)", async () => {
    const { fetch } = server(() =>
      json(401, { errorCode: "AUTH-REFRESH-401", message: "expired" }),
    );
    const onSession = vi.fn();
    const sm = client(fetch, { onSession });
    const sessions: (Session | null)[] = [];
    sm.on("session", (s) => sessions.push(s));
    await expect(sm.tasks.list()).rejects.toMatchObject({ status: 401, errorCode: "GW-AUTH-401" });
    expect(sm.session).toBeNull();
    expect(onSession).toHaveBeenCalledWith(null);
    expect(sessions).toEqual([null]);
  });

  it("keeps the session when the refresh is unavailable (try later)", async () => {
    const { fetch } = server(() => json(503, { errorCode: "GW-DEP-503", message: "down" }));
    const sm = client(fetch);
    await expect(sm.tasks.list()).rejects.toMatchObject({ status: 401 });
    expect(sm.session).toEqual(OLD);
    expect(await sm.refresh()).toBe("unavailable");
  });

  it("never refreshes for an API key", async () => {
    const { fetch, calls } = fakeFetch(() =>
      json(401, { errorCode: "GW-AUTH-401", message: "revoked" }),
    );
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch, apiKey: "sm_live_x_y" });
    await expect(sm.tasks.list()).rejects.toMatchObject({ status: 401 });
    expect(calls.map((c) => [c.path, c.headers.authorization])).toEqual([
      ["/v1/tasks", "Bearer sm_live_x_y"],
    ]);
    expect(await sm.refresh()).toBe("expired");
  });
});

describe("calls", () => {
  it("turn every refusal into a SatyaMarkError", async () => {
    const { fetch } = fakeFetch(() =>
      json(429, { errorCode: "GW-RATE-429", message: "slow down" }, { "Retry-After": "3" }),
    );
    const sm = new SatyaMark({ baseUrl: "http://api.test/", fetch, apiKey: "k" });
    const error = (await sm.submit("x").catch((e: unknown) => e)) as SatyaMarkError;
    expect(error).toBeInstanceOf(SatyaMarkError);
    expect([error.status, error.errorCode, error.message, error.retryAfterS]).toEqual([
      429,
      "GW-RATE-429",
      "slow down",
      3,
    ]);
  });

  it("say so without a credential, before any request", async () => {
    const { fetch, calls } = fakeFetch(() => json(200, {}));
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch });
    await expect(sm.tasks.list()).rejects.toMatchObject({ status: 401, errorCode: "SDK-AUTH-401" });
    expect(calls).toHaveLength(0);
  });

  it("report a network failure as SDK-NETWORK, and an abort as the abort", async () => {
    const sm = new SatyaMark({
      baseUrl: "http://api.test",
      apiKey: "k",
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    await expect(sm.tasks.list()).rejects.toMatchObject({ status: 0, errorCode: "SDK-NETWORK" });
    const { fetch } = fakeFetch(() => json(200, {}));
    const aborted = new SatyaMark({ baseUrl: "http://api.test", apiKey: "k", fetch });
    const controller = new AbortController();
    controller.abort(new Error("user left"));
    await expect(aborted.submit("x", { signal: controller.signal })).rejects.toThrow("user left");
  });

  it("submit a text with its Idempotency-Key", async () => {
    const { fetch, calls } = fakeFetch(() => json(202, { taskId: "01T", queued: true }));
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch, apiKey: "k" });
    await expect(sm.submit("Some text.", { idempotencyKey: "retry-1" })).resolves.toEqual({
      taskId: "01T",
      queued: true,
    });
    expect(calls[0]).toMatchObject({
      method: "POST",
      path: "/v1/verify",
      body: { text: "Some text." },
      headers: { "idempotency-key": "retry-1", "content-type": "application/json" },
    });
  });

  it("reach the management and admin routes", async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.method === "DELETE" && !call.path.includes("/admin/")) return json(204, null);
      if (call.method === "POST" && !call.path.includes("/admin/")) return json(201, { id: "x" });
      return json(200, { items: [] });
    });
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch, apiKey: "k" });
    await sm.apiKeys.create({ name: "cms", scopes: ["verify"] });
    await sm.apiKeys.revoke("abc");
    await sm.webhooks.create({ url: "https://example.com/h", events: ["task.failed"] });
    await sm.webhooks.remove("wh_1");
    await sm.webhooks.deliveries("wh_1", { limit: 3 });
    await sm.admin.setIntake({ paused: true, reason: "maintenance" });
    await sm.admin.deadLetters({ limit: 50 });
    await sm.admin.replay("1-0", "fixed");
    await sm.admin.discard("2-0", "spam");
    await sm.admin.audit({ limit: 20 });
    await sm.tasks.cancel("01T");
    expect(calls.map((c) => `${c.method} ${c.url.replace("http://api.test", "")}`)).toEqual([
      "POST /v1/api-keys",
      "DELETE /v1/api-keys/abc",
      "POST /v1/webhooks",
      "DELETE /v1/webhooks/wh_1",
      "GET /v1/webhooks/wh_1/deliveries?limit=3",
      "POST /v1/admin/intake",
      "GET /v1/admin/dlq?limit=50",
      "POST /v1/admin/dlq/1-0/replay",
      "DELETE /v1/admin/dlq/2-0?reason=spam",
      "GET /v1/admin/audit?limit=20",
      "DELETE /v1/tasks/01T",
    ]);
    expect(calls[0]?.body).toEqual({ name: "cms", scopes: ["verify"] });
    expect(calls[5]?.body).toEqual({ paused: true, reason: "maintenance" });
    expect(calls[7]?.body).toEqual({ reason: "fixed" });
  });
});

describe("login and logout", () => {
  it("keep the session and hand it to onSession", async () => {
    const { fetch, calls } = fakeFetch((call) => {
      if (call.path === "/v1/auth/register") return json(201, tokens("a", "r"));
      if (call.path === "/v1/auth/logout") return json(204, null);
      return json(404, {});
    });
    const onSession = vi.fn();
    const { WebSocket, sockets } = fakeSockets();
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch, onSession, WebSocket });
    await expect(sm.register("ada@example.com", "a-long-password")).resolves.toEqual({
      accessToken: "a",
      refreshToken: "r",
    });
    expect(calls[0]?.body).toEqual({ email: "ada@example.com", password: "a-long-password" });
    expect(calls[0]?.headers.authorization).toBeUndefined();
    sm.connect();
    sockets[0]?.accept("5-0");
    expect(sm.connectionState).toBe("live");

    await sm.logout();
    expect(calls[1]).toMatchObject({
      path: "/v1/auth/logout",
      body: { refresh_token: "r" },
      headers: { authorization: "Bearer a" },
    });
    expect(sm.session).toBeNull();
    expect(onSession.mock.calls).toEqual([[{ accessToken: "a", refreshToken: "r" }], [null]]);
    expect(sm.connectionState).toBe("closed");
    expect(sockets[0]?.closedWith?.code).toBe(1000);
  });

  it("logout forgets the login even when the server cannot be reached", async () => {
    const sm = new SatyaMark({
      baseUrl: "http://api.test",
      session: OLD,
      fetch: (async () => {
        throw new TypeError("offline");
      }) as typeof fetch,
    });
    await sm.logout();
    expect(sm.session).toBeNull();
  });

  it("a refused login is a SatyaMarkError and keeps no session", async () => {
    const { fetch } = fakeFetch(() => json(401, { errorCode: "AUTH-LOGIN-401", message: "wrong" }));
    const sm = new SatyaMark({ baseUrl: "http://api.test", fetch });
    await expect(sm.login("a@b.co", "password-1")).rejects.toMatchObject({
      errorCode: "AUTH-LOGIN-401",
    });
    expect(sm.session).toBeNull();
  });
});
