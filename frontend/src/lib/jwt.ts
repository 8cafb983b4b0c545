// Reads (never verifies) the access token's claims: only to decide what to show. The
// server checks the role on every admin call.
interface Claims {
  sub?: string;
  role?: string;
  exp?: number;
}

export function tokenClaims(token: string | null | undefined): Claims {
  const payload = token?.split(".")[1];
  if (!payload) return {}; // an API key or a malformed token
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const value: unknown = JSON.parse(json);
    return typeof value === "object" && value !== null ? (value as Claims) : {};
  } catch {
    return {};
  }
}

export const isAdmin = (token: string | null | undefined): boolean =>
  tokenClaims(token).role === "admin";
