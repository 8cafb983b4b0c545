// The one error the SDK rejects with for a refused call, mirroring the Python SDK's
// SatyaMarkError: the HTTP status, the body's errorCode and message, and Retry-After.

export class SatyaMarkError extends Error {
  /** HTTP status; 0 when there was no HTTP answer (network, a failed task, a timeout). */
  readonly status: number;
  /** the API's errorCode (`GW-RATE-429` …), a failed task's, or `SDK-…` for the SDK's own */
  readonly errorCode: string;
  /** seconds to wait before retrying, when the server said (Retry-After) */
  readonly retryAfterS: number | null;
  /** set when a task failed (`failed` event or the task API) */
  readonly taskId: string | null;

  constructor(
    status: number,
    errorCode: string,
    message: string,
    options: { retryAfterS?: number | null; taskId?: string | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SatyaMarkError";
    this.status = status;
    this.errorCode = errorCode;
    this.retryAfterS = options.retryAfterS ?? null;
    this.taskId = options.taskId ?? null;
  }

  /** From a non-2xx answer; a body that is not our error format still gives a code. */
  static async fromResponse(response: Response): Promise<SatyaMarkError> {
    let errorCode = `HTTP-${response.status}`;
    let message = response.statusText || "request failed";
    try {
      const text = await response.text();
      message = text.slice(0, 500) || message;
      const body: unknown = JSON.parse(text);
      if (isRecord(body) && typeof body.errorCode === "string") {
        errorCode = body.errorCode;
        if (typeof body.message === "string") message = body.message;
      }
    } catch {
      // not JSON: keep the status and the start of the text
    }
    return new SatyaMarkError(response.status, errorCode, message, {
      retryAfterS: parseRetryAfter(response.headers.get("retry-after")),
    });
  }
}

/** Retry-After as seconds: a number of seconds, or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
