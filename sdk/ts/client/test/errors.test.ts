import { describe, expect, it } from "vitest";

import { parseRetryAfter, SatyaMarkError } from "../src/errors.js";
import { json } from "./fakes.js";

describe("SatyaMarkError.fromResponse", () => {
  it("reads the API's error body and Retry-After", async () => {
    const response = json(
      429,
      { errorCode: "GW-RATE-429", message: "rate limit for verify exceeded, retry in 7s" },
      { "retry-after": "7" },
    );
    const error = await SatyaMarkError.fromResponse(response);
    expect(error).toBeInstanceOf(SatyaMarkError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("SatyaMarkError");
    expect(error.status).toBe(429);
    expect(error.errorCode).toBe("GW-RATE-429");
    expect(error.message).toBe("rate limit for verify exceeded, retry in 7s");
    expect(error.retryAfterS).toBe(7);
  });

  it("still gives a code for a body that is not ours", async () => {
    const error = await SatyaMarkError.fromResponse(
      new Response("<h1>Bad gateway</h1>", { status: 502 }),
    );
    expect(error.status).toBe(502);
    expect(error.errorCode).toBe("HTTP-502");
    expect(error.message).toContain("Bad gateway");
    expect(error.retryAfterS).toBeNull();
  });
});

describe("parseRetryAfter", () => {
  it("takes seconds or an HTTP date", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
    const now = Date.parse("2030-01-01T00:00:00Z");
    expect(parseRetryAfter("Tue, 01 Jan 2030 00:00:30 GMT", now)).toBe(30);
    expect(parseRetryAfter("Mon, 31 Dec 2029 00:00:00 GMT", now)).toBe(0);
  });
});
