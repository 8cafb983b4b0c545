// Who the client acts as: a login (access + refresh token) or an API key, and the
// renewal of an expired access token. A refresh token is single use and presenting a
// spent one revokes the whole login, so there is never more than one refresh in flight:
// everyone who needs one waits for the same.

import { isRecord } from "./errors.js";
import type { Session, TokenResponse } from "./types.js";

export type RefreshOutcome = "ok" | "expired" | "unavailable";
/** Why the session changed: the client closes or reopens its socket accordingly. */
export type SessionChange = "login" | "refresh" | "logout" | "expired";

type PostJson = (path: string, body: unknown) => Promise<Response>;

export function sessionFrom(body: TokenResponse): Session {
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

export function isSession(value: unknown): value is Session {
  return (
    isRecord(value) &&
    typeof value.accessToken === "string" &&
    typeof value.refreshToken === "string"
  );
}

export class Credentials {
  private current: Session | null;
  private refreshing: Promise<RefreshOutcome> | null = null;
  // Bumped by every change, so a refresh that a logout overtook does not log back in.
  private generation = 0;

  constructor(
    private readonly apiKey: string | null,
    session: Session | null,
    private readonly post: PostJson,
    private readonly changed: (session: Session | null, why: SessionChange) => void,
  ) {
    this.current = isSession(session) ? session : null;
  }

  get session(): Session | null {
    return this.current;
  }

  /** The bearer to send: the login's access token, else the API key. */
  token(): string | null {
    return this.current?.accessToken ?? this.apiKey;
  }

  /** Whether `token` is a login's access token (only those can be renewed). */
  isRenewable(token: string | null): boolean {
    return token !== null && token === this.current?.accessToken;
  }

  set(session: Session | null, why: SessionChange): void {
    this.generation += 1;
    this.current = session;
    this.changed(session, why);
  }

  /** Renew the access token: "ok", "expired" (log in again; the session is dropped) or
   * "unavailable" (try later; the session is kept). */
  refresh(): Promise<RefreshOutcome> {
    this.refreshing ??= this.renew().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async renew(): Promise<RefreshOutcome> {
    const session = this.current;
    if (session === null) return "expired";
    const generation = this.generation;
    let response: Response;
    try {
      response = await this.post("/v1/auth/refresh", { refresh_token: session.refreshToken });
    } catch {
      return "unavailable";
    }
    if (generation !== this.generation) return this.current === null ? "expired" : "ok";
    if (response.status >= 500 || response.status === 429) return "unavailable";
    if (!response.ok) {
      this.set(null, "expired");
      return "expired";
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return "unavailable";
    }
    if (!isRecord(body) || typeof body.access_token !== "string") return "unavailable";
    if (generation !== this.generation) return this.current === null ? "expired" : "ok";
    this.set(sessionFrom(body as TokenResponse), "refresh");
    return "ok";
  }
}
