// The verdict on a text as React state. Verifications of the same text share one
// request in the client, so StrictMode's double effect and repeated badges submit once.

import { useEffect, useState } from "react";

import {
  type ProgressEvent,
  type SatyaMark,
  SatyaMarkError,
  type Verdict,
} from "@satyamark/client";

import { useClient } from "./context.js";

export type VerificationStatus = "idle" | "pending" | "done" | "failed";

export interface Verification {
  status: VerificationStatus;
  verdict: Verdict | null;
  error: SatyaMarkError | null;
  /** what the job is doing while pending ("queued", "started (attempt 1)" …) */
  progress: string | null;
}

const IDLE: Verification = { status: "idle", verdict: null, error: null, progress: null };
const PENDING: Verification = { status: "pending", verdict: null, error: null, progress: null };

export function describeProgress(event: ProgressEvent): string {
  return event.stage === "retried"
    ? `retrying (attempt ${event.attempt} failed)`
    : `started (attempt ${event.attempt})`;
}

function asError(error: unknown): SatyaMarkError {
  if (error instanceof SatyaMarkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SatyaMarkError(0, "SDK-UNKNOWN", message, { cause: error });
}

export function useVerification(
  text: string | null,
  opts: { client?: SatyaMark } = {},
): Verification {
  const client = useClient(opts.client);
  // The state names the text and client it is about, so a new text never shows the
  // last one's verdict, not even for one render.
  const [state, setState] = useState<{
    text: string;
    client: SatyaMark;
    value: Verification;
  } | null>(null);

  useEffect(() => {
    if (!text) return undefined;
    const controller = new AbortController();
    const set = (value: Verification) => {
      if (!controller.signal.aborted) setState({ text, client, value });
    };
    set(PENDING);
    client
      .verify(text, {
        signal: controller.signal,
        onSubmitted: (result) => {
          if (result.cached !== true) set({ ...PENDING, progress: "queued" });
        },
        onProgress: (event) => set({ ...PENDING, progress: describeProgress(event) }),
      })
      .then(
        (verdict) => set({ status: "done", verdict, error: null, progress: null }),
        (error: unknown) =>
          set({ status: "failed", verdict: null, error: asError(error), progress: null }),
      );
    return () => controller.abort();
  }, [client, text]);

  if (!text) return IDLE;
  if (state === null || state.text !== text || state.client !== client) return PENDING;
  return state.value;
}
