// The one WebSocket a client keeps to /v1/ws. It authenticates with its first message
// (a token never goes in a URL), remembers the id of the last event it saw and names it
// on every reconnect, so the server replays what was pushed while the socket was down.

import type { RefreshOutcome } from "./auth.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { isRecord } from "./errors.js";
import type { ConnectionState, ServerEvent } from "./types.js";

/** What the SDK needs of a WebSocket: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The close code for a refused or expired token (ws_service/connection.py). */
export const CLOSE_UNAUTHORIZED = 4401;

// Redis stream ids ("<ms>-<seq>"): anything else would only earn a WS-MSG-400 on every
// reconnect and no replay, so a malformed saved id is forgotten instead.
const EVENT_ID = /^\d{1,20}-\d{1,20}$/;

function noop(): void {}

export function isEventId(value: unknown): value is string {
  return typeof value === "string" && EVENT_ID.test(value);
}

export interface SocketOptions {
  url: () => string;
  /** opens a WebSocket (the client's `new options.WebSocket(url)`) */
  create: (url: string) => WebSocketLike;
  /** the bearer to authenticate with; null: nothing to connect as */
  token: () => string | null;
  /** renew the token after a 4401 (shared with the HTTP calls) */
  refresh: () => Promise<RefreshOutcome>;
  lastEventId?: string | null;
  onLastEventId?: ((id: string) => void) | undefined;
  backoff?: BackoffOptions | undefined;
  onEvent: (event: ServerEvent) => void;
  onState: (state: ConnectionState) => void;
  /** an app-level ping this often while live (0: never); browsers cannot see protocol
   * pings, so a connection that died silently is only noticed this way */
  pingIntervalMs?: number;
  random?: () => number;
}

export class LiveSocket {
  private ws: WebSocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private awaitingPong = false;
  private sentToken: string | null = null;
  private isReady = false;
  private wasLive = false;
  private stopped = true;
  // 4401s in a row since the last ready: a token refused right after a refresh waits
  // before the next try instead of looping.
  private refusals = 0;
  private readonly backoff: Backoff;
  private current: ConnectionState = "idle";
  private position: string | null;

  constructor(private readonly options: SocketOptions) {
    this.backoff = new Backoff(options.backoff, options.random);
    this.position = isEventId(options.lastEventId) ? options.lastEventId : null;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The id of the last event seen: replay starts after it. */
  get lastEventId(): string | null {
    return this.position;
  }

  /** Whether a socket is open or being opened (or a reconnect is scheduled). */
  get active(): boolean {
    return this.ws !== null || this.timer !== null || this.current === "reconnecting";
  }

  /** Open the socket unless it is open, opening or about to reconnect. */
  connect(): void {
    if (this.active) return;
    this.stopped = false;
    this.backoff.reset();
    this.refusals = 0;
    this.wasLive = false;
    this.open();
  }

  /** Close for good (until the next connect). */
  close(): void {
    this.stopped = true;
    this.drop(1000, "client closed");
    this.setState("closed");
  }

  /** Another login: drop the socket and open a new one with the new token. */
  restart(): void {
    this.drop(1000, "new credentials");
    this.stopped = false;
    this.backoff.reset();
    this.refusals = 0;
    this.wasLive = false;
    this.open();
  }

  /** Forget the replay position (event ids belong to one user's log). */
  resetPosition(id: string | null = null): void {
    this.position = isEventId(id) ? id : null;
  }

  private open(): void {
    this.clearTimer();
    const token = this.options.token();
    if (token === null) {
      this.setState("idle");
      return;
    }
    this.setState(this.wasLive || this.backoff.attempts > 0 ? "reconnecting" : "connecting");
    let ws: WebSocketLike;
    try {
      ws = this.options.create(this.options.url());
    } catch {
      this.retryLater();
      return;
    }
    this.ws = ws;
    this.sentToken = token;
    this.isReady = false;
    this.awaitingPong = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      ws.send(JSON.stringify({ type: "auth", token, lastEventId: this.position }));
    };
    ws.onmessage = (message) => this.receive(ws, message.data);
    ws.onclose = (event) => this.closed(ws, event.code);
    ws.onerror = () => {
      // a close event follows: the reconnect is decided there
    };
  }

  private receive(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws) return;
    let event: unknown;
    try {
      event = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      return;
    }
    if (!isRecord(event) || typeof event.type !== "string") return;
    this.awaitingPong = false;
    if (event.type === "pong") return;
    if (event.type === "ready") {
      this.isReady = true;
      this.wasLive = true;
      this.backoff.reset();
      this.refusals = 0;
      // A first connection starts from the newest event; an empty log from its start
      // ("0-0"), or a verdict pushed during our first disconnection would be lost.
      if (this.position === null) {
        this.remember(isEventId(event.lastEventId) ? event.lastEventId : "0-0");
      }
      this.startPinging(ws);
      this.setState("live");
    } else if (!this.isReady && event.type === "error") {
      return; // a refused set-up: its close code says what to do next
    } else if (isEventId(event.eventId)) {
      this.remember(event.eventId);
    }
    this.options.onEvent(event as unknown as ServerEvent);
  }

  private remember(id: string): void {
    this.position = id;
    this.options.onLastEventId?.(id);
  }

  private closed(ws: WebSocketLike, code: number): void {
    if (ws !== this.ws) return;
    this.detach();
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      void this.unauthorized();
      return;
    }
    this.retryLater();
  }

  private async unauthorized(): Promise<void> {
    const sent = this.sentToken;
    this.setState("reconnecting");
    const now = this.options.token();
    let outcome: RefreshOutcome;
    if (now !== null && now !== sent)
      outcome = "ok"; // renewed meanwhile by an API call
    else outcome = await this.options.refresh();
    if (this.stopped || this.ws !== null || this.timer !== null) return;
    if (outcome === "expired") {
      this.stopped = true;
      this.setState("closed");
    } else if (outcome === "ok" && this.refusals++ === 0) {
      this.open();
    } else {
      this.retryLater();
    }
  }

  private retryLater(): void {
    this.clearTimer();
    this.setState("reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.open();
    }, this.backoff.next());
  }

  private startPinging(ws: WebSocketLike): void {
    this.stopPinging();
    const every = this.options.pingIntervalMs ?? 30_000;
    if (every <= 0) return;
    this.pinger = setInterval(() => {
      if (ws !== this.ws) return;
      if (this.awaitingPong) {
        // Nothing came back for a whole interval: the connection is gone.
        this.drop(4000, "no pong");
        if (!this.stopped) this.retryLater();
        return;
      }
      this.awaitingPong = true;
      try {
        ws.send(JSON.stringify({ type: "ping" }));
      } catch {
        // a socket that cannot send closes: the close event decides
      }
    }, every);
  }

  private stopPinging(): void {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Forget the current socket without waiting for its close event. */
  private drop(code: number, reason: string): void {
    this.clearTimer();
    const ws = this.ws;
    this.detach();
    if (ws !== null) {
      try {
        ws.close(code, reason);
      } catch {
        // still connecting in some implementations: it is forgotten all the same
      }
    }
  }

  private detach(): void {
    this.stopPinging();
    const ws = this.ws;
    this.ws = null;
    this.isReady = false;
    if (ws !== null) {
      // No-ops rather than null: the `ws` package throws an "error" event nobody
      // listens to, and a late event of a forgotten socket means nothing.
      ws.onopen = noop;
      ws.onmessage = noop;
      ws.onerror = noop;
      ws.onclose = noop;
    }
  }

  private setState(state: ConnectionState): void {
    if (state === this.current) return;
    this.current = state;
    this.options.onState(state);
  }
}
