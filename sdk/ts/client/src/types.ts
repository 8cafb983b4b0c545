// The SDK's public types. Shapes the API documents come from the generated `schema.ts`
// (from the gateway's OpenAPI document) under friendly names; what the OpenAPI document
// cannot describe (the verdict as the SDK returns it, the WebSocket's events) is written
// here, checked against the schema where the two meet (test/types.test.ts).

import type { components } from "./schema.js";

type Schemas = components["schemas"];

export type Mark = "Correct" | "Incorrect" | "Insufficient" | "Subjective";
export const MARKS: readonly Mark[] = ["Correct", "Incorrect", "Insufficient", "Subjective"];

/** The knowledge-base entry a claim was checked against. */
export interface Evidence {
  claim: string;
  /** whether the known claim is "true" or "false" */
  verdict: string;
  explanation?: string | null;
  sourceName?: string | null;
  sourceUrl: string;
  similarity?: number | null;
  /** kept for callers that read it here; the API puts the stance on the claim */
  stance?: string | null;
}

/** The verdict on one claim (sentence) of a text. */
export interface ClaimVerdict {
  text: string;
  mark: Mark;
  confidence: number;
  reason: string;
  /** how the evidence relates to the claim; null where none was used */
  stance?: "entails" | "contradicts" | "neutral" | null;
  evidence?: Evidence | null;
}

/** How a text was judged: from a cache hit, a pushed `result` event or the task API. */
export interface Verdict {
  taskId: string;
  mark: Mark;
  reason: string;
  /** 0–100 */
  confidence: number;
  /** how the verdict was reached, said once for the whole result */
  method?: string | null;
  claims: ClaimVerdict[];
  /** answered from the cache: no model ran for it */
  cached: boolean;
}

/** A login: keep both; the refresh token is single use (each refresh returns a new one). */
export interface Session {
  accessToken: string;
  refreshToken: string;
}

export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "closed";

// -- shapes of the HTTP API, generated from the OpenAPI document ---------------------------

export type VerdictPublic = Schemas["VerdictPublic"];
export type ErrorBody = Schemas["ErrorBody"];
export type TokenResponse = Schemas["TokenResponse"];
export type VerifyAccepted = Schemas["VerifyAccepted"];
export type VerifyCached = Schemas["VerifyCached"];
/** What POST /v1/verify answers: queued (202), or a cache hit with its result (200). */
export type SubmitResult = (VerifyAccepted & { cached?: false }) | VerifyCached;
export type Task = Schemas["TaskPublic"];
export type TaskStatus = Task["status"];
export type TaskStage = Schemas["TaskStage"];
export type TaskPage = Schemas["shared__schemas__TaskPage"];
export type ApiKeyScope = Schemas["ApiKeyPublic"]["scopes"][number];
export type ApiKey = Schemas["ApiKeyPublic"];
export type CreatedApiKey = Schemas["ApiKeyCreated"];
export type NewApiKey = Schemas["ApiKeyCreate"];
export type WebhookEventType = Schemas["WebhookPublic"]["events"][number];
export type Webhook = Schemas["WebhookPublic"];
export type CreatedWebhook = Schemas["WebhookCreated"];
export type WebhookDelivery = Schemas["WebhookDelivery"];
export type DeliveryPage = Schemas["DeliveryPage"];
export type QueueView = Schemas["QueueView"];
export type IntakeView = Schemas["IntakeView"];
export type DeadLetter = Schemas["DeadLetter"];
export type DeadLetterPage = Schemas["DeadLetterPage"];
export type DeadLetterAction = Schemas["ActionResult"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["AuditPage"];

// -- events pushed over /v1/ws (ws_service/messages.py, shared/events.py) ----------------

/** The first frame after authenticating: `lastEventId` is the newest logged event then. */
export interface ReadyEvent {
  type: "ready";
  socketId: string;
  userId: string;
  lastEventId: string | null;
}

/** A task's verdict. Logged events carry `eventId` (the replay position). */
export interface ResultEvent {
  type: "result";
  eventId?: string;
  taskId: string;
  mark: Mark;
  reason: string;
  confidence: number;
  claims: ClaimVerdict[];
  method?: string | null;
  cached?: boolean;
}

/** Why a task got no verdict (TASK-CANCELLED, OPS-DISCARDED, a worker's error …). */
export interface FailedEvent {
  type: "failed";
  eventId?: string;
  taskId: string;
  errorCode: string;
  message: string;
}

/** A worker started the job, or will retry it (`attempt` counts from 1). */
export interface ProgressEvent {
  type: "progress";
  eventId?: string;
  taskId: string;
  stage: "started" | "retried";
  attempt: number;
}

/** Admins only, every few seconds: the queue at a glance (never replayed). */
export type QueueEvent = QueueView & { type: "queue" };

/** Events after the sent lastEventId may be missing: reload from the task API. */
export interface TruncatedEvent {
  type: "truncated";
  oldestEventId: string | null;
}

/** The server lost events (Redis lost its data): reload from the task API. */
export interface ResyncEvent {
  type: "resync";
  reason: string;
}

/** The server refused a frame, or (before `ready`) the socket itself. */
export interface ErrorEvent {
  type: "error";
  errorCode: string;
  message: string;
}

/** One of the user's webhooks failed for 24 h and was disabled. */
export interface WebhookDisabledEvent {
  type: "webhook.disabled";
  eventId?: string;
  webhookId: string;
  url: string;
  reason: string;
}

export type ServerEvent =
  | ReadyEvent
  | ResultEvent
  | FailedEvent
  | ProgressEvent
  | QueueEvent
  | TruncatedEvent
  | ResyncEvent
  | ErrorEvent
  | WebhookDisabledEvent;

/** What `on(type, listener)` hands each listener. */
export interface EventMap {
  result: ResultEvent;
  failed: FailedEvent;
  progress: ProgressEvent;
  queue: QueueEvent;
  resync: ResyncEvent;
  truncated: TruncatedEvent;
  error: ErrorEvent;
  ready: ReadyEvent;
  "webhook.disabled": WebhookDisabledEvent;
  /** every frame from the server, whatever its type (unknown types included) */
  event: ServerEvent;
  connection: ConnectionState;
  session: Session | null;
}

export type EventType = keyof EventMap;
/** The types that come over the socket (listening to one opens it). */
export type SocketEventType = Exclude<EventType, "connection" | "session">;
