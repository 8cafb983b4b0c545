// SatyaMark: the client of one deployment. Mirrors the Python SDK (satyamark/client):
// verify() answers at once for a cache hit, else waits for the verdict pushed over the
// shared WebSocket, which survives reconnects (the socket resumes after the last event
// it saw); when the server says events may be gone, the task API has the truth.

import { Credentials, type RefreshOutcome, type SessionChange, sessionFrom } from "./auth.js";
import { SatyaMarkError } from "./errors.js";
import { Http, type Query } from "./http.js";
import { LiveSocket, type WebSocketConstructor } from "./socket.js";
import type {
  ApiKey,
  AuditPage,
  ConnectionState,
  CreatedApiKey,
  CreatedWebhook,
  DeadLetterAction,
  DeadLetterPage,
  DeliveryPage,
  EventMap,
  EventType,
  FailedEvent,
  IntakeView,
  Mark,
  ProgressEvent,
  QueueView,
  ResultEvent,
  ServerEvent,
  Session,
  SocketEventType,
  SubmitResult,
  Task,
  TaskPage,
  TokenResponse,
  Verdict,
  VerdictPublic,
  Webhook,
} from "./types.js";

export interface ClientOptions {
  /** "" or omitted in a browser: the page's own origin */
  baseUrl?: string;
  /** sm_live_…: act as a platform instead of a login */
  apiKey?: string;
  /** a saved login */
  session?: Session | null;
  /** after login/register/refresh/logout: persist the session (null: forget it) */
  onSession?: (session: Session | null) => void;
  /** a saved replay position */
  lastEventId?: string | null;
  /** persist the replay position */
  onLastEventId?: (id: string) => void;
  fetch?: typeof fetch;
  /** a WebSocket constructor: the browser's by default; in Node 20 the `ws` package's */
  WebSocket?: unknown;
  /** jittered exponential backoff between reconnects */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** an app-level ping this often while connected, to notice a dead connection (0: off) */
  pingIntervalMs?: number;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  /** give up waiting after this long (default 10 minutes): rejects with SDK-TIMEOUT */
  timeoutMs?: number;
  /** the text was accepted: its taskId (and, for a cache hit, its result) */
  onSubmitted?: (result: SubmitResult) => void;
  /** a worker started the job, or will retry it */
  onProgress?: (event: ProgressEvent) => void;
}

export interface SubmitOptions {
  /** the same key and text within 24 h get the first request's task (a safe retry) */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const DEFAULT_VERIFY_TIMEOUT_MS = 10 * 60_000;
// Final events kept for a verify() whose submit answer came after its push.
const RECENT_FINALS = 256;
const SOCKET_TYPES = new Set<string>([
  "result",
  "failed",
  "progress",
  "queue",
  "resync",
  "truncated",
  "error",
  "ready",
  "webhook.disabled",
  "event",
]);

type Listener = (value: never) => void;
type FinalEvent = ResultEvent | FailedEvent;

/** One verification in flight, shared by every verify() of the same text meanwhile (a
 * page with the same text twice, React's StrictMode running an effect twice). */
interface SharedVerify {
  submitted: Promise<SubmitResult>;
  verdict: Promise<Verdict>;
  callers: number;
  settled: boolean;
  controller: AbortController;
}

interface Waiter {
  taskId: string;
  /** ask the task API once the socket is live: a verdict pushed before our socket
   * registered is history, neither pushed nor replayed to it */
  checkWhenLive: boolean;
  resolve: (verdict: Verdict) => void;
  reject: (error: unknown) => void;
}

export class SatyaMark {
  readonly tasks: {
    list(q?: { status?: string; limit?: number; cursor?: string }): Promise<TaskPage>;
    get(taskId: string): Promise<Task>;
    cancel(taskId: string): Promise<Task>;
  };
  readonly apiKeys: {
    list(): Promise<ApiKey[]>;
    create(b: {
      name: string;
      scopes?: string[];
      expiresAt?: string | null;
    }): Promise<CreatedApiKey>;
    revoke(id: string): Promise<void>;
  };
  readonly webhooks: {
    list(): Promise<Webhook[]>;
    create(b: { url: string; events?: string[] }): Promise<CreatedWebhook>;
    remove(id: string): Promise<void>;
    rotateSecret(id: string): Promise<CreatedWebhook>;
    deliveries(id: string, q?: { limit?: number; cursor?: string }): Promise<DeliveryPage>;
  };
  readonly admin: {
    queue(): Promise<QueueView>;
    setIntake(b: { paused: boolean; reason?: string | null }): Promise<IntakeView>;
    deadLetters(q?: { limit?: number; cursor?: string }): Promise<DeadLetterPage>;
    replay(entryId: string, reason?: string | null): Promise<DeadLetterAction>;
    discard(entryId: string, reason?: string | null): Promise<DeadLetterAction>;
    audit(q?: { limit?: number; cursor?: number }): Promise<AuditPage>;
  };

  private readonly baseUrl: string;
  private readonly http: Http;
  private readonly credentials: Credentials;
  private readonly socket: LiveSocket;
  private readonly WebSocketCtor: WebSocketConstructor | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly recentFinals = new Map<string, FinalEvent>();
  private readonly waiters = new Set<Waiter>();
  private readonly inflight = new Map<string, SharedVerify>();
  // Why pending verifications end when the socket closes for good.
  private closing: SatyaMarkError | null = null;

  constructor(private readonly options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    const fetchFn: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.credentials = new Credentials(
      options.apiKey ?? null,
      options.session ?? null,
      (path, body) => this.http.post(path, body),
      (session, why) => this.sessionChanged(session, why),
    );
    this.http = new Http(this.baseUrl, fetchFn, this.credentials);
    this.WebSocketCtor = (options.WebSocket ?? globalThis.WebSocket) as
      WebSocketConstructor | undefined;
    this.socket = new LiveSocket({
      url: () => this.socketUrl(),
      // only reached through connect(), which checks that there is a constructor
      create: (url) => new (this.WebSocketCtor as WebSocketConstructor)(url),
      token: () => this.credentials.token(),
      refresh: () => this.credentials.refresh(),
      lastEventId: options.lastEventId ?? null,
      onLastEventId: options.onLastEventId,
      backoff: options.reconnect,
      onEvent: (event) => this.dispatch(event),
      onState: (state) => this.stateChanged(state),
      ...(options.pingIntervalMs === undefined ? {} : { pingIntervalMs: options.pingIntervalMs }),
    });

    const json = <T>(method: string, path: string, extra: Parameters<Http["json"]>[2] = {}) =>
      this.http.json<T>(method, path, extra);
    const id = encodeURIComponent;
    this.tasks = {
      list: (q = {}) => json<TaskPage>("GET", "/v1/tasks", { query: q as Query }),
      get: (taskId) => json<Task>("GET", `/v1/tasks/${id(taskId)}`),
      cancel: (taskId) => json<Task>("DELETE", `/v1/tasks/${id(taskId)}`),
    };
    this.apiKeys = {
      list: async () => (await json<{ items: ApiKey[] }>("GET", "/v1/api-keys")).items,
      create: (b) =>
        json<CreatedApiKey>("POST", "/v1/api-keys", { body: withoutUndefined(b), expect: [201] }),
      revoke: (keyId) => json<void>("DELETE", `/v1/api-keys/${id(keyId)}`, { expect: [204] }),
    };
    this.webhooks = {
      list: async () => (await json<{ items: Webhook[] }>("GET", "/v1/webhooks")).items,
      create: (b) =>
        json<CreatedWebhook>("POST", "/v1/webhooks", { body: withoutUndefined(b), expect: [201] }),
      remove: (hookId) => json<void>("DELETE", `/v1/webhooks/${id(hookId)}`, { expect: [204] }),
      rotateSecret: (hookId) =>
        json<CreatedWebhook>("POST", `/v1/webhooks/${id(hookId)}/rotate-secret`),
      deliveries: (hookId, q = {}) =>
        json<DeliveryPage>("GET", `/v1/webhooks/${id(hookId)}/deliveries`, { query: q }),
    };
    this.admin = {
      queue: () => json<QueueView>("GET", "/v1/admin/queue"),
      setIntake: (b) =>
        json<IntakeView>("POST", "/v1/admin/intake", {
          body: { paused: b.paused, reason: b.reason ?? null },
        }),
      deadLetters: (q = {}) => json<DeadLetterPage>("GET", "/v1/admin/dlq", { query: q }),
      replay: (entryId, reason = null) =>
        json<DeadLetterAction>("POST", `/v1/admin/dlq/${id(entryId)}/replay`, {
          body: { reason },
        }),
      discard: (entryId, reason = null) =>
        json<DeadLetterAction>("DELETE", `/v1/admin/dlq/${id(entryId)}`, {
          query: { reason: reason || undefined },
        }),
      audit: (q = {}) => json<AuditPage>("GET", "/v1/admin/audit", { query: q }),
    };
  }

  get session(): Session | null {
    return this.credentials.session;
  }

  get connectionState(): ConnectionState {
    return this.socket.state;
  }

  /** The id of the last pushed event seen (the replay position). */
  get lastEventId(): string | null {
    return this.socket.lastEventId;
  }

  // -- logging in ----------------------------------------------------------------------

  register(email: string, password: string): Promise<Session> {
    return this.authenticate("/v1/auth/register", email, password);
  }

  login(email: string, password: string): Promise<Session> {
    return this.authenticate("/v1/auth/login", email, password);
  }

  /** Renew the access token now: "ok", "expired" (logged out) or "unavailable". */
  refresh(): Promise<RefreshOutcome> {
    return this.credentials.refresh();
  }

  /** Revoke the login server-side (its refresh tokens too) and close the socket. Local
   * state is cleared even when the server cannot be reached. */
  async logout(): Promise<void> {
    if (this.credentials.session === null) {
      this.close();
      return;
    }
    try {
      await this.http.send("POST", "/v1/auth/logout", {
        // read at each try: a retry after a refresh must name the new refresh token
        body: () => ({ refresh_token: this.credentials.session?.refreshToken ?? null }),
        expect: [204],
      });
    } catch {
      // the tokens expire on their own; what matters here is forgetting them
    } finally {
      if (this.credentials.session !== null) this.credentials.set(null, "logout");
    }
  }

  private async authenticate(path: string, email: string, password: string): Promise<Session> {
    const body = await this.http.json<TokenResponse>("POST", path, {
      body: { email, password },
      auth: false,
    });
    const session = sessionFrom(body);
    this.credentials.set(session, "login");
    return session;
  }

  // -- verifying -----------------------------------------------------------------------

  /** POST /v1/verify: queued (taskId), or a cache hit with its result. */
  submit(text: string, opts: SubmitOptions = {}): Promise<SubmitResult> {
    return this.http.json<SubmitResult>("POST", "/v1/verify", {
      body: { text },
      expect: [200, 202],
      ...(opts.idempotencyKey ? { headers: { "Idempotency-Key": opts.idempotencyKey } } : {}),
      signal: opts.signal,
    });
  }

  /** The verdict on `text`: at once for a cache hit, else pushed over the shared socket.
   * A failed task rejects with its errorCode (TASK-CANCELLED …). */
  verify(text: string, opts: VerifyOptions = {}): Promise<Verdict> {
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let op = this.inflight.get(text);
    let offProgress: (() => void) | null = null;
    let taskId: string | null = null;
    try {
      if (op === undefined) {
        op = this.startVerify(text);
        this.inflight.set(text, op);
      }
      if (opts.onProgress) {
        offProgress = this.on("progress", (event) => {
          if (event.taskId === taskId) opts.onProgress?.(event);
        });
      }
    } catch (error) {
      return Promise.reject(error); // no WebSocket, no baseUrl: say so the promise way
    }
    const shared = op;
    shared.callers += 1;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS;

    return new Promise<Verdict>((resolve, reject) => {
      let done = false;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
        offProgress?.();
        this.release(text, shared);
        settle();
      };
      const aborted = () => finish(() => reject(signal?.reason));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new SatyaMarkError(0, "SDK-TIMEOUT", `no verdict within ${timeoutMs} ms`)),
          ),
        timeoutMs,
      );
      signal?.addEventListener("abort", aborted, { once: true });
      shared.submitted.then(
        (result) => {
          if (done) return;
          taskId = result.taskId;
          opts.onSubmitted?.(result);
        },
        () => undefined, // the verdict promise carries the error
      );
      shared.verdict.then(
        (verdict) => finish(() => resolve(verdict)),
        (error: unknown) => finish(() => reject(error)),
      );
    });
  }

  private startVerify(text: string): SharedVerify {
    const controller = new AbortController();
    this.connect();
    // With a replay position, whatever is pushed from now on reaches us (live, or
    // replayed on reconnect); without one, the push may beat our socket's registration.
    const positioned = this.socket.lastEventId !== null;
    const submitted = this.submit(text, { signal: controller.signal });
    const verdict = submitted.then((result) =>
      result.cached === true
        ? fromResult(result.taskId, result.result, true)
        : this.waitFor(result.taskId, controller.signal, !positioned),
    );
    const op: SharedVerify = { submitted, verdict, callers: 0, settled: false, controller };
    const settle = () => {
      op.settled = true;
      if (this.inflight.get(text) === op) this.inflight.delete(text);
    };
    verdict.then(settle, settle);
    return op;
  }

  private release(text: string, op: SharedVerify): void {
    op.callers -= 1;
    if (op.callers > 0 || op.settled) return;
    // Next tick: React's StrictMode unmounts and mounts again at once, and the second
    // caller should join this verification, not submit the text again.
    setTimeout(() => {
      if (op.callers > 0 || op.settled) return;
      if (this.inflight.get(text) === op) this.inflight.delete(text);
      op.controller.abort(new SatyaMarkError(0, "SDK-ABORTED", "nobody waits for this verdict"));
    }, 0);
  }

  /** Wait for the final event of `taskId` (or read the task when events were lost). */
  private waitFor(taskId: string, signal: AbortSignal, checkWhenLive: boolean): Promise<Verdict> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const early = this.recentFinals.get(taskId);
    if (early !== undefined) return settleFromEvent(early);
    if (this.socket.state === "closed") {
      // closed (or logged out) while the text was being submitted: nothing will come
      return Promise.reject(
        this.closing ?? new SatyaMarkError(0, "SDK-CLOSED", "the client was closed"),
      );
    }
    return new Promise<Verdict>((resolve, reject) => {
      const waiter: Waiter = {
        taskId,
        checkWhenLive,
        resolve: (verdict) => {
          this.waiters.delete(waiter);
          signal.removeEventListener("abort", aborted);
          resolve(verdict);
        },
        reject: (error) => {
          this.waiters.delete(waiter);
          signal.removeEventListener("abort", aborted);
          reject(error);
        },
      };
      const aborted = () => waiter.reject(signal.reason);
      signal.addEventListener("abort", aborted, { once: true });
      this.waiters.add(waiter);
      if (checkWhenLive && this.socket.state === "live") {
        waiter.checkWhenLive = false;
        this.check(waiter);
      }
    });
  }

  /** Ask the task API how the task ended; still queued: keep waiting for the push. */
  private check(waiter: Waiter): void {
    this.tasks.get(waiter.taskId).then(
      (task) => {
        if (!this.waiters.has(waiter)) return;
        if (task.status === "done" && task.result) {
          waiter.resolve(fromResult(task.taskId, task.result, task.cached));
        } else if (task.status === "failed") {
          const error = task.error ?? { errorCode: "TASK-FAILED", message: "the task failed" };
          waiter.reject(taskFailed(task.taskId, error.errorCode, error.message));
        }
      },
      (error: unknown) => {
        if (this.waiters.has(waiter)) waiter.reject(error);
      },
    );
  }

  // -- live events ---------------------------------------------------------------------

  /** Open the shared socket (idempotent). Needs a login or an API key; until there is
   * one it stays idle, and a later login opens it. */
  connect(): void {
    if (this.WebSocketCtor === undefined) {
      throw new SatyaMarkError(
        0,
        "SDK-NO-WEBSOCKET",
        "no WebSocket here: pass options.WebSocket (in Node 20, the ws package's WebSocket)",
      );
    }
    this.closing = null;
    this.socket.connect();
  }

  /** Close the socket; pending verify() calls reject. */
  close(): void {
    this.closing = new SatyaMarkError(0, "SDK-CLOSED", "the client was closed");
    this.socket.close();
  }

  on<K extends EventType>(type: K, listener: (event: EventMap[K]) => void): () => void {
    if (SOCKET_TYPES.has(type)) this.connect();
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const entry = listener as Listener;
    set.add(entry);
    return () => {
      this.listeners.get(type)?.delete(entry);
    };
  }

  private emit<K extends EventType>(type: K, value: EventMap[K]): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) {
      try {
        (listener as (value: EventMap[K]) => void)(value);
      } catch (error) {
        // One broken listener must not stop the others or the socket's bookkeeping;
        // it is still reported, as an uncaught error.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }

  private dispatch(event: ServerEvent): void {
    switch (event.type) {
      case "result":
      case "failed":
        this.rememberFinal(event);
        for (const waiter of [...this.waiters]) {
          if (waiter.taskId === event.taskId) {
            settleFromEvent(event).then(waiter.resolve, waiter.reject);
          }
        }
        break;
      case "truncated":
      case "resync":
        for (const waiter of [...this.waiters]) this.check(waiter);
        break;
      case "ready":
        for (const waiter of [...this.waiters]) {
          if (waiter.checkWhenLive) {
            waiter.checkWhenLive = false;
            this.check(waiter);
          }
        }
        break;
    }
    const type = (event as { type: string }).type;
    if (SOCKET_TYPES.has(type) && type !== "event") {
      this.emit(type as SocketEventType, event as never);
    }
    this.emit("event", event);
  }

  private rememberFinal(event: FinalEvent): void {
    this.recentFinals.delete(event.taskId);
    this.recentFinals.set(event.taskId, event);
    if (this.recentFinals.size > RECENT_FINALS) {
      const oldest = this.recentFinals.keys().next().value;
      if (oldest !== undefined) this.recentFinals.delete(oldest);
    }
  }

  private stateChanged(state: ConnectionState): void {
    if (state === "closed") {
      const error =
        this.closing ?? new SatyaMarkError(401, "SDK-AUTH-401", "the login expired: log in again");
      for (const waiter of [...this.waiters]) waiter.reject(error);
    }
    this.emit("connection", state);
  }

  private sessionChanged(session: Session | null, why: SessionChange): void {
    this.options.onSession?.(session);
    if (why === "login") {
      // event ids belong to one user's log: a new login starts from its newest event
      this.socket.resetPosition(null);
      if (this.WebSocketCtor !== undefined && (this.socket.active || this.wantsSocket())) {
        this.closing = null;
        this.socket.restart();
      }
    } else if (session === null) {
      this.socket.resetPosition(null);
      if (this.credentials.token() === null) {
        this.closing = new SatyaMarkError(
          401,
          "SDK-AUTH-401",
          why === "logout" ? "logged out" : "the login expired: log in again",
        );
        this.socket.close();
      } else if (this.socket.active) {
        this.socket.restart(); // an API key carries on
      }
    }
    this.emit("session", session);
  }

  private wantsSocket(): boolean {
    if (this.waiters.size > 0) return true;
    for (const [type, set] of this.listeners) {
      if (set.size > 0 && SOCKET_TYPES.has(type)) return true;
    }
    return false;
  }

  private socketUrl(): string {
    const here = (globalThis as { location?: { href: string; origin: string } }).location;
    const base = this.baseUrl || here?.origin;
    if (!base) {
      throw new SatyaMarkError(0, "SDK-URL", "no baseUrl: pass options.baseUrl outside a browser");
    }
    const url = new URL(`${base}/v1/ws`, here?.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }
}

/** The SDK's Verdict from the API's result (a cache hit, a task). */
export function fromResult(taskId: string, result: VerdictPublic, cached: boolean): Verdict {
  return {
    taskId,
    mark: result.mark as Mark,
    reason: result.reason,
    confidence: result.confidence,
    method: result.method ?? null,
    claims: result.claims ?? [],
    cached,
  };
}

/** The SDK's Verdict from a pushed `result` event. */
export function fromEvent(event: ResultEvent): Verdict {
  return {
    taskId: event.taskId,
    mark: event.mark,
    reason: event.reason,
    confidence: event.confidence,
    method: event.method ?? null,
    claims: Array.isArray(event.claims) ? event.claims : [],
    cached: event.cached ?? false,
  };
}

function taskFailed(taskId: string, errorCode: string, message: string): SatyaMarkError {
  return new SatyaMarkError(0, errorCode, message, { taskId });
}

function settleFromEvent(event: FinalEvent): Promise<Verdict> {
  return event.type === "result"
    ? Promise.resolve(fromEvent(event))
    : Promise.reject(taskFailed(event.taskId, event.errorCode, event.message));
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
