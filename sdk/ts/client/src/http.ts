// Calls to the HTTP API: the bearer token, JSON in and out, every refused call turned
// into a SatyaMarkError, and an expired access token renewed once and the call retried.

import type { Credentials } from "./auth.js";
import { SatyaMarkError } from "./errors.js";

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  /** JSON body; a function is called again for the retry (a login's refresh token
   * changes when the retry follows a refresh) */
  body?: unknown | (() => unknown);
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** statuses that count as success (default: any 2xx) */
  expect?: readonly number[];
  /** send the bearer token, renewing it on 401 (default true) */
  auth?: boolean;
}

export class Http {
  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: typeof fetch,
    private readonly credentials: Credentials,
  ) {}

  url(path: string, query?: Query): string {
    let url = this.baseUrl + path;
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) params.set(name, String(value));
    }
    const search = params.toString();
    if (search) url += `?${search}`;
    return url;
  }

  /** The JSON body of a successful answer (undefined for 204). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const auth = options.auth ?? true;
    const sent = auth ? this.credentials.token() : null;
    if (auth && sent === null) {
      throw new SatyaMarkError(
        401,
        "SDK-AUTH-401",
        "not logged in: log in, register or pass an apiKey",
      );
    }
    // Only a login's access token can be renewed (decided now: a refresh may replace it
    // while this call is on its way).
    const renewable = this.credentials.isRenewable(sent);
    let response = await this.once(method, path, options, sent);
    if (response.status === 401 && renewable) {
      const now = this.credentials.token();
      // Renewed meanwhile (another call, the socket): retry, never spend the new refresh token.
      if (now !== sent && now !== null) {
        await discard(response);
        response = await this.once(method, path, options, now);
      } else if ((await this.credentials.refresh()) === "ok") {
        await discard(response);
        response = await this.once(method, path, options, this.credentials.token());
      }
    }
    const expected = options.expect ? options.expect.includes(response.status) : response.ok;
    if (!expected) throw await SatyaMarkError.fromResponse(response);
    return response;
  }

  /** Without a bearer and without the 401 handling: the auth endpoints. */
  post(path: string, body: unknown): Promise<Response> {
    return this.once("POST", path, { body, auth: false }, null);
  }

  private async once(
    method: string,
    path: string,
    options: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers };
    const body =
      typeof options.body === "function" ? (options.body as () => unknown)() : options.body;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (options.signal) init.signal = options.signal;
    try {
      return await this.fetchFn(this.url(path, options.query), init);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw new SatyaMarkError(0, "SDK-NETWORK", `${method} ${path} failed: ${String(error)}`, {
        cause: error,
      });
    }
  }
}

/** Let the connection be reused: read (and drop) an answer we will not look at. */
async function discard(response: Response): Promise<void> {
  try {
    await response.arrayBuffer();
  } catch {
    // already gone: nothing to free
  }
}
