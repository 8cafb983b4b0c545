// @satyamark/client: verify texts with SatyaMark from a browser or Node 20+.

export { SatyaMark, fromEvent, fromResult } from "./client.js";
export type { ClientOptions, SubmitOptions, VerifyOptions } from "./client.js";
export { SatyaMarkError, parseRetryAfter } from "./errors.js";
export { Backoff, backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export type { RefreshOutcome } from "./auth.js";
export { CLOSE_UNAUTHORIZED, isEventId } from "./socket.js";
export type { WebSocketConstructor, WebSocketLike } from "./socket.js";
export { MARKS } from "./types.js";
export type * from "./types.js";
export type { components, operations, paths } from "./schema.js";
