// The badges and hooks in jsdom, driving a real client over a fake fetch and socket.

import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import axe from "axe-core";
import { StrictMode } from "react";
import { afterEach, describe, expect, it } from "vitest";

import { type Mark, SatyaMark } from "@satyamark/client";

import {
  type FakeWebSocket,
  fakeFetch,
  fakeSockets,
  json,
  VERDICT,
} from "../../client/test/fakes.js";
import {
  MarkBadge,
  SatyaMarkBadge,
  SatyaMarkProvider,
  useConnectionState,
  useSatyaMark,
  useVerification,
} from "../src/index.js";

afterEach(() => cleanup());

const TEXT = "The Pacific is the largest ocean on Earth.";

/** A client over `fetch` and a fake socket the test plays the server of. */
function fakeClient(fetch: typeof globalThis.fetch, options: { lastEventId?: string } = {}) {
  const { WebSocket, sockets } = fakeSockets();
  const client = new SatyaMark({
    baseUrl: "http://api.test",
    apiKey: "k",
    fetch,
    WebSocket,
    pingIntervalMs: 0,
    ...options,
  });
  return { client, sockets };
}

function cachedClient(mark: Mark = "Correct") {
  const { fetch, calls } = fakeFetch(() =>
    json(200, { taskId: "T1", cached: true, result: { ...VERDICT, mark } }),
  );
  return { ...fakeClient(fetch), calls };
}

function queuedClient(taskId = "T2") {
  const { fetch, calls } = fakeFetch(() => json(202, { taskId, queued: true }));
  return { ...fakeClient(fetch, { lastEventId: "1-0" }), calls };
}

/** Wait for the client's socket and let it in; then `push` sends it server events. */
async function serve(sockets: FakeWebSocket[]) {
  await waitFor(() => expect(sockets).toHaveLength(1));
  const socket = sockets[0]!;
  act(() => socket.accept("1-0"));
  return (event: Record<string, unknown>) => act(() => socket.push(event));
}

async function noAxeViolations(container: Element): Promise<void> {
  // jsdom cannot compute colours: contrast is kept by the stylesheet's palette
  const results = await axe.run(container, { rules: { "color-contrast": { enabled: false } } });
  expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

describe("MarkBadge", () => {
  it.each(["Correct", "Incorrect", "Insufficient", "Subjective"] as const)(
    "shows %s as icon + word + colour class",
    (mark) => {
      const { container } = render(<MarkBadge mark={mark} confidence={91.6} />);
      const badge = container.querySelector(".sm-badge")!;
      expect(badge.classList.contains(`sm-badge--${mark.toLowerCase()}`)).toBe(true);
      expect(badge.querySelector("svg")?.getAttribute("aria-hidden")).toBe("true");
      expect(screen.getByRole("img", { name: `${mark}, confidence 92%` })).toBe(badge);
      // the word is on screen, not only in the accessible name
      expect(screen.getByText(mark).className).toBe("sm-badge__label");
      expect(screen.getByText("92%").className).toBe("sm-badge__confidence");
    },
  );

  it("has no confidence part without a confidence", () => {
    const { container } = render(<MarkBadge mark="Subjective" />);
    expect(container.textContent).toBe("Subjective");
    expect(screen.getByRole("img", { name: "Subjective" })).toBeTruthy();
    expect(container.querySelector("[style]")).toBeNull(); // CSP: no inline styles
  });
});

describe("SatyaMarkBadge", () => {
  it("shows the verdict with its reason as the accessible description", async () => {
    const { client } = cachedClient();
    const { container } = render(
      <SatyaMarkProvider client={client}>
        <p>
          {TEXT} <SatyaMarkBadge text={TEXT} />
        </p>
      </SatyaMarkProvider>,
    );
    expect(container.textContent).toContain("Checking…");
    const button = await screen.findByRole("button", {
      name: "SatyaMark verdict: Correct, confidence 91%",
    });
    const tip = document.getElementById(button.getAttribute("aria-describedby")!)!;
    expect(tip.getAttribute("role")).toBe("tooltip");
    expect(tip.textContent).toBe(VERDICT.reason);
    expect(tip.hidden).toBe(true);

    // keyboard: focus opens, Escape closes, focus stays
    act(() => button.focus());
    expect(tip.hidden).toBe(false);
    fireEvent.keyDown(button, { key: "Escape" });
    expect(tip.hidden).toBe(true);
    expect(document.activeElement).toBe(button);
    fireEvent.blur(button);

    // pointer: hover opens and leaving closes; a tap pins it open
    fireEvent.mouseEnter(button.parentElement!);
    expect(tip.hidden).toBe(false);
    fireEvent.mouseLeave(button.parentElement!);
    expect(tip.hidden).toBe(true);
    fireEvent.click(button);
    expect(tip.hidden).toBe(false);
    fireEvent.click(button);
    expect(tip.hidden).toBe(true);

    await noAxeViolations(container);
    expect(container.querySelector("[style]")).toBeNull();
    expect(container.querySelector("style")).toBeNull();
  });

  it("compact keeps the word, and moves the confidence into the description", async () => {
    const { client } = cachedClient("Incorrect");
    render(<SatyaMarkBadge text={TEXT} client={client} compact />);
    const button = await screen.findByRole("button", { name: "SatyaMark verdict: Incorrect" });
    const tip = document.getElementById(button.getAttribute("aria-describedby")!)!;
    expect(tip.textContent).toBe(`Confidence 91%. ${VERDICT.reason}`);
  });

  it("says when a text could not be verified, and why", async () => {
    const { client, sockets } = queuedClient("T3");
    const { container } = render(<SatyaMarkBadge text={TEXT} client={client} />);
    const push = await serve(sockets);
    await waitFor(() => expect(container.textContent).toContain("queued"));
    push({
      type: "failed",
      eventId: "2-0",
      taskId: "T3",
      errorCode: "TASK-CANCELLED",
      message: "cancelled by its owner",
    });
    const button = await screen.findByRole("button", { name: "SatyaMark verdict: Not verified" });
    const tip = document.getElementById(button.getAttribute("aria-describedby")!)!;
    expect(tip.textContent).toBe("cancelled by its owner (TASK-CANCELLED)");
    await noAxeViolations(container);
  });

  it("submits once under StrictMode", async () => {
    const { client, calls } = cachedClient();
    render(
      <StrictMode>
        <SatyaMarkProvider client={client}>
          <SatyaMarkBadge text={TEXT} />
          <SatyaMarkBadge text={TEXT} compact />
        </SatyaMarkProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getAllByRole("button")).toHaveLength(2));
    expect(calls).toHaveLength(1);
  });
});

describe("useVerification", () => {
  function Probe(props: { text: string | null }) {
    const client = useSatyaMark();
    const state = useVerification(props.text, { client });
    const connection = useConnectionState();
    return (
      <output>
        {state.status}|{state.progress ?? "-"}|{state.verdict?.mark ?? "-"}|
        {state.error?.errorCode ?? "-"}|{connection}
      </output>
    );
  }

  it("goes pending → queued → started → done, and idle without a text", async () => {
    const { client, sockets } = queuedClient("T4");
    const { container, rerender } = render(
      <SatyaMarkProvider client={client}>
        <Probe text={null} />
      </SatyaMarkProvider>,
    );
    expect(container.textContent).toBe("idle|-|-|-|idle");
    rerender(
      <SatyaMarkProvider client={client}>
        <Probe text={TEXT} />
      </SatyaMarkProvider>,
    );
    expect(container.textContent).toMatch(/^pending\|/);
    const push = await serve(sockets);
    await waitFor(() => expect(container.textContent).toBe("pending|queued|-|-|live"));
    push({ type: "progress", eventId: "1-1", taskId: "T4", stage: "started", attempt: 1 });
    expect(container.textContent).toBe("pending|started (attempt 1)|-|-|live");
    push({ type: "result", eventId: "1-2", taskId: "T4", ...VERDICT, mark: "Subjective" });
    await waitFor(() => expect(container.textContent).toBe("done|-|Subjective|-|live"));
    rerender(
      <SatyaMarkProvider client={client}>
        <Probe text="" />
      </SatyaMarkProvider>,
    );
    expect(container.textContent).toBe("idle|-|-|-|live");
  });

  it("fails with the API's error", async () => {
    const { fetch } = fakeFetch(() =>
      json(429, { errorCode: "GW-RATE-429", message: "slow down" }, { "retry-after": "5" }),
    );
    const { client } = fakeClient(fetch);
    const { container } = render(
      <SatyaMarkProvider client={client}>
        <Probe text={TEXT} />
      </SatyaMarkProvider>,
    );
    await waitFor(() => expect(container.textContent).toMatch(/^failed\|-\|-\|GW-RATE-429\|/));
  });

  it("useSatyaMark outside a provider is a clear error", () => {
    const quiet = console.error;
    console.error = () => undefined; // React logs the thrown render error
    try {
      expect(() => render(<Probe text={TEXT} />)).toThrow(/SatyaMarkProvider/);
    } finally {
      console.error = quiet;
    }
  });
});
