import { describe, expect, it } from "vitest";

import { Backoff, backoffDelay, DEFAULT_BACKOFF } from "../src/backoff.js";

describe("backoffDelay", () => {
  it("stays within [ceiling/2, ceiling], the ceiling doubling up to maxMs", () => {
    const options = { initialMs: 100, maxMs: 5_000 };
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(5_000, 100 * 2 ** attempt);
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        const delay = backoffDelay(attempt, options, () => r);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it("never exceeds maxMs, however many attempts (no Infinity, no NaN)", () => {
    for (const attempt of [60, 1_024, 1e9, Number.MAX_SAFE_INTEGER]) {
      const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 8_000 }, () => 0.999);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(8_000);
      expect(delay).toBeGreaterThanOrEqual(4_000);
    }
  });

  it("spreads clients out: the random part moves the delay", () => {
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, () => 0)).toBe(400);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, () => 1)).toBe(800);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(backoffDelay(6, { initialMs: 100, maxMs: 60_000 }));
    expect(seen.size).toBeGreaterThan(50);
  });

  it("uses sane defaults and survives nonsense options", () => {
    expect(backoffDelay(0, {}, () => 1)).toBe(DEFAULT_BACKOFF.initialMs);
    expect(backoffDelay(100, {}, () => 1)).toBe(DEFAULT_BACKOFF.maxMs);
    // maxMs below initialMs: the initial delay wins; negative attempts count as 0
    expect(backoffDelay(5, { initialMs: 1_000, maxMs: 10 }, () => 1)).toBe(1_000);
    expect(backoffDelay(-3, { initialMs: 100 }, () => 1)).toBe(100);
  });
});

describe("Backoff", () => {
  it("counts failures until reset", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 }, () => 1);
    expect([
      backoff.next(),
      backoff.next(),
      backoff.next(),
      backoff.next(),
      backoff.next(),
    ]).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.attempts).toBe(5);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});
