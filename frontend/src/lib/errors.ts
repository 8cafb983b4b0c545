// Turns any failure into words a person can act on. Decided by status and errorCode,
// never by parsing the server's message (it may change; codes do not).
import { SatyaMarkError } from "@satyamark/client";
import { MAX_TEXT_CHARS } from "./limits";

export type ProblemKind =
  | "session" // log in again
  | "credentials"
  | "rate" // wait for the countdown
  | "paused" // intake paused by an operator
  | "unavailable" // a service is down or busy
  | "too-large"
  | "invalid"
  | "conflict"
  | "forbidden"
  | "not-found"
  | "network"
  | "other";

export interface Problem {
  kind: ProblemKind;
  title: string;
  detail?: string;
  /** When a retry may succeed (ms since the epoch), from Retry-After. */
  retryAt?: number;
  code?: string;
}

const DETAILS: Record<string, Omit<Problem, "kind" | "code">> = {
  "AUTH-CRED-401": { title: "Wrong e-mail or password.", detail: "Check both and try again." },
  "AUTH-CONF-409": {
    title: "An account with this e-mail already exists.",
    detail: "Log in instead, or use another e-mail address.",
  },
  "AUTH-PWD-422": {
    title: "This password is too common.",
    detail: "Choose a longer, less guessable one (8 to 128 characters).",
  },
  "AUTH-KEYS-409": {
    title: "You already have the maximum of 50 API keys.",
    detail: "Revoke one you no longer use, then create the new one.",
  },
  "BE-HOOK-409": {
    title: "You already have the maximum of 20 webhooks.",
    detail: "Delete one first.",
  },
  "BE-HOOK-422": {
    title: "This webhook URL is not accepted.",
    detail: "Use an https:// URL on a public address.",
  },
  "BE-TASK-409": { title: "This check already finished; it can no longer be cancelled." },
  "BE-VAL-400": {
    title: "The text contains characters that are not plain text.",
    detail: "Remove control characters (for example pasted binary data) and try again.",
  },
  "GW-SCOPE-403": { title: "An API key cannot do this; log in with your account." },
  "GW-ADMIN-403": { title: "Only administrators can do this." },
  "BE-ADMIN-403": { title: "Only administrators can do this." },
  "GW-IDEM-422": { title: "This request was already sent with another text." },
};

function retryAt(error: SatyaMarkError): number | undefined {
  return error.retryAfterS != null ? Date.now() + error.retryAfterS * 1000 : undefined;
}

// What a person is told for a status (DETAILS says more for the codes it knows).
const BY_KIND: Partial<Record<ProblemKind, Pick<Problem, "title" | "detail">>> = {
  network: {
    title: "SatyaMark cannot be reached.",
    detail: "Check your connection and try again.",
  },
  session: { title: "Your session has ended.", detail: "Please log in again." },
  rate: { title: "Too many requests.", detail: "Wait for the countdown, then try again." },
  "too-large": {
    title: "The text is too large for the server.",
    detail: "Shorten it (at most 64 KB once encoded) and send it again.",
  },
  invalid: {
    title: "The server could not accept this input.",
    detail: `Check the fields: a text must be 1 to ${MAX_TEXT_CHARS.toLocaleString()} characters of plain text.`,
  },
  paused: {
    title: "New checks are paused for maintenance.",
    detail: "Your history and finished verdicts are still available. Try again later.",
  },
  unavailable: {
    title: "SatyaMark is temporarily unavailable.",
    detail: "Nothing was lost; try again in a moment.",
  },
  forbidden: { title: "You are not allowed to do this." },
  "not-found": { title: "It no longer exists.", detail: "Reload the list." },
  conflict: { title: "This conflicts with the current state.", detail: "Reload and try again." },
};

function kindOf(status: number, errorCode: string): ProblemKind {
  if (status === 0 && errorCode.startsWith("SDK-")) return "network";
  if (status === 401) return "session";
  if (status === 429) return "rate";
  if (status === 413 || errorCode.endsWith("-VAL-413")) return "too-large";
  if (status === 422 && errorCode.endsWith("-VAL-422")) return "invalid";
  if (status === 503 && errorCode === "BE-PAUSED-503") return "paused";
  if (status >= 500) return "unavailable";
  if (status === 403) return "forbidden";
  if (status === 404) return "not-found";
  if (status === 409) return "conflict";
  return "other";
}

function byStatus(error: SatyaMarkError): Problem {
  const { status, errorCode } = error;
  const kind = kindOf(status, errorCode);
  const words = BY_KIND[kind] ?? {
    title: "Something went wrong.",
    detail: `Error ${errorCode || status}.`,
  };
  return { code: errorCode, retryAt: retryAt(error), kind, ...words };
}

export function describeError(error: unknown): Problem {
  if (error instanceof SatyaMarkError) {
    const known = DETAILS[error.errorCode];
    const general = byStatus(error);
    return known ? { ...general, ...known, kind: general.kind } : general;
  }
  if (error instanceof DOMException && error.name === "AbortError")
    return { kind: "other", title: "Cancelled." };
  // fetch() rejects with a TypeError when the network or the server is unreachable.
  return {
    kind: "network",
    title: "SatyaMark cannot be reached.",
    detail: "Check your connection; the page reconnects by itself.",
  };
}

/** Why a failed task failed, from the errorCode of its `failed` event. */
export function describeFailure(errorCode: string): string {
  if (errorCode === "TASK-CANCELLED") return "You cancelled this check.";
  if (errorCode.includes("TIMEOUT")) return "The check took too long and was stopped.";
  if (errorCode.endsWith("-VAL-422") || errorCode.endsWith("-VAL-413"))
    return "The text could not be checked as sent (too long or not plain text).";
  return "The check could not be completed. Submit the text again to retry.";
}
