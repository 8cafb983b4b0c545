// Event typing: each `on(type)` listener gets its own event type (checked by tsc, which
// typechecks these tests: `npx tsc -p sdk/ts/client --noEmit`), and the public names of
// the contract exist.

import { describe, expect, expectTypeOf, it } from "vitest";

import * as sdk from "../src/index.js";
import type {
  ConnectionState,
  ErrorEvent,
  FailedEvent,
  Mark,
  ProgressEvent,
  QueueEvent,
  ResultEvent,
  ResyncEvent,
  ServerEvent,
  Session,
  Task,
  TruncatedEvent,
  Verdict,
} from "../src/index.js";
import type { components } from "../src/schema.js";
import { fakeSockets } from "./fakes.js";

type Schemas = components["schemas"];

describe("event types", () => {
  it("each listener gets its own type", () => {
    const { WebSocket } = fakeSockets();
    const sm = new sdk.SatyaMark({
      apiKey: "k",
      baseUrl: "http://x",
      WebSocket,
      pingIntervalMs: 0,
    });
    sm.on("result", (e) => expectTypeOf(e).toEqualTypeOf<ResultEvent>());
    sm.on("failed", (e) => expectTypeOf(e).toEqualTypeOf<FailedEvent>());
    sm.on("progress", (e) => expectTypeOf(e).toEqualTypeOf<ProgressEvent>());
    sm.on("queue", (e) => expectTypeOf(e).toEqualTypeOf<QueueEvent>());
    sm.on("resync", (e) => expectTypeOf(e).toEqualTypeOf<ResyncEvent>());
    sm.on("truncated", (e) => expectTypeOf(e).toEqualTypeOf<TruncatedEvent>());
    sm.on("error", (e) => expectTypeOf(e).toEqualTypeOf<ErrorEvent>());
    sm.on("event", (e) => expectTypeOf(e).toEqualTypeOf<ServerEvent>());
    sm.on("connection", (s) => expectTypeOf(s).toEqualTypeOf<ConnectionState>());
    sm.on("session", (s) => expectTypeOf(s).toEqualTypeOf<Session | null>());
    // @ts-expect-error: not an event type
    sm.on("nonsense", () => undefined);
    sm.close();
  });

  it("narrows ServerEvent by its type", () => {
    const handle = (e: ServerEvent): string => {
      switch (e.type) {
        case "result":
          expectTypeOf(e.mark).toEqualTypeOf<Mark>();
          return `${e.taskId}: ${e.mark} ${e.confidence}`;
        case "failed":
          return `${e.taskId}: ${e.errorCode}`;
        case "progress":
          expectTypeOf(e.stage).toEqualTypeOf<"started" | "retried">();
          return `${e.taskId}: ${e.stage} #${e.attempt}`;
        case "queue":
          return `${e.backlog} queued`;
        default:
          return e.type;
      }
    };
    expect(handle({ type: "progress", taskId: "t", stage: "retried", attempt: 2 })).toBe(
      "t: retried #2",
    );
  });

  it("the verdict and the API's shapes", () => {
    expectTypeOf<Verdict["mark"]>().toEqualTypeOf<Mark>();
    expectTypeOf<Verdict["claims"][number]["mark"]>().toEqualTypeOf<Mark>();
    expectTypeOf<Task["status"]>().toEqualTypeOf<"queued" | "done" | "failed">();
    expectTypeOf<sdk.SubmitResult["taskId"]>().toEqualTypeOf<string>();
    expectTypeOf<sdk.SatyaMark["refresh"]>().returns.resolves.toEqualTypeOf<
      "ok" | "expired" | "unavailable"
    >();
    expectTypeOf<sdk.SatyaMarkError["retryAfterS"]>().toEqualTypeOf<number | null>();
  });

  it("what the API sends fits the hand-written types (the schema is generated)", () => {
    expectTypeOf<Schemas["ClaimVerdict"]>().toExtend<sdk.ClaimVerdict>();
    expectTypeOf<Schemas["Evidence"]>().toExtend<sdk.Evidence>();
    expectTypeOf<Schemas["Mark"]>().toEqualTypeOf<Mark>();
    expectTypeOf<Schemas["VerdictPublic"]["claims"]>().toExtend<sdk.ClaimVerdict[]>();
    expectTypeOf<Schemas["TaskPublic"]["result"]>().toEqualTypeOf<sdk.VerdictPublic | null>();
    expectTypeOf<sdk.ResultEvent>().toExtend<Omit<sdk.Verdict, "taskId" | "cached">>();
  });

  it("exports the contract's names", () => {
    expect(typeof sdk.SatyaMark).toBe("function");
    expect(typeof sdk.SatyaMarkError).toBe("function");
    expect(sdk.MARKS).toEqual(["Correct", "Incorrect", "Insufficient", "Subjective"]);
    const sm = new sdk.SatyaMark({ apiKey: "k", baseUrl: "http://x" });
    for (const name of [
      "register",
      "login",
      "logout",
      "refresh",
      "submit",
      "verify",
      "connect",
      "close",
      "on",
    ]) {
      expect(typeof (sm as unknown as Record<string, unknown>)[name]).toBe("function");
    }
    expect(Object.keys(sm.tasks).sort()).toEqual(["cancel", "get", "list"]);
    expect(Object.keys(sm.apiKeys).sort()).toEqual(["create", "list", "revoke"]);
    expect(Object.keys(sm.webhooks).sort()).toEqual([
      "create",
      "deliveries",
      "list",
      "remove",
      "rotateSecret",
    ]);
    expect(Object.keys(sm.admin).sort()).toEqual([
      "audit",
      "deadLetters",
      "discard",
      "queue",
      "replay",
      "setIntake",
    ]);
    expect(sm.session).toBeNull();
    expect(sm.connectionState).toBe("idle");
  });
});
