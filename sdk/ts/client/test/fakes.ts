// Test doubles for the client's own logic: a WebSocket the test plays the server of, and
// a fetch answered by a function. Unit tests only; e2e/verify.mjs runs the real thing.

import type { WebSocketLike } from "../src/socket.js";

export class FakeWebSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason?: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** frames the client sent, parsed */
  readonly sent: Record<string, unknown>[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }

  // -- the server's side -----------------------------------------------------------------

  open(): void {
    this.onopen?.({});
  }

  push(event: Record<string, unknown>): void {
    this.onmessage?.({ data: JSON.stringify(event) });
  }

  /** Open, then answer the auth message with `ready`. */
  accept(lastEventId: string | null = null): void {
    this.open();
    this.push({ type: "ready", socketId: "s1", userId: "u1", lastEventId });
  }

  drop(code = 1006): void {
    this.onclose?.({ code });
  }
}

/** A WebSocket class whose instances the test can reach. */
export function fakeSockets(): { WebSocket: typeof FakeWebSocket; sockets: FakeWebSocket[] } {
  const sockets: FakeWebSocket[] = [];
  class Recorded extends FakeWebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: Recorded, sockets };
}

export interface Call {
  method: string;
  path: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

/** A fetch whose answers come from `handler`; every call is recorded. */
export function fakeFetch(handler: Handler): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const fetchFn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = String(input);
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as unknown) : undefined;
    const call: Call = {
      method: init.method ?? "GET",
      path: new URL(url, "http://api.test").pathname,
      url,
      headers,
      body,
    };
    calls.push(call);
    if (init.signal?.aborted) throw init.signal.reason;
    return handler(call);
  };
  return { fetch: fetchFn as typeof fetch, calls };
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function tokens(access: string, refresh: string): Record<string, unknown> {
  return {
    access_token: access,
    token_type: "bearer",
    expires_in: 900,
    refresh_token: refresh,
    refresh_expires_in: 86_400,
    userId: "u1",
  };
}

export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const VERDICT = {
  mark: "Correct",
  reason: "The knowledge base agrees.",
  confidence: 91,
  claims: [
    {
      text: "The Pacific is the largest ocean on Earth.",
      mark: "Correct",
      confidence: 91,
      reason: "entailed by a known claim",
      stance: "entails",
      evidence: {
        claim: "The Pacific Ocean is the largest ocean.",
        verdict: "true",
        explanation: "by area",
        sourceUrl: "https://example.org/pacific",
        sourceName: "Example",
        similarity: 0.93,
      },
    },
  ],
  method: "knowledge base + stance check",
} as const;
