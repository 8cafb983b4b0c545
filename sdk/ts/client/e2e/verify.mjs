#!/usr/bin/env node
// End to end against a running stack, through the BUILT package (dist/), the way a Node
// platform uses it: register, verify a text (cache hit or pushed verdict), make an API
// key, verify with the key (its own socket), read the task back. Prints one JSON line.
//
//   npm run build -w sdk/ts/client && node sdk/ts/client/e2e/verify.mjs http://127.0.0.1:8000

import WebSocket from "ws";

import { SatyaMark, SatyaMarkError } from "../dist/index.js";

const baseUrl = process.argv[2] ?? process.env.SATYAMARK_URL;
const text = process.argv[3] ?? "The Pacific is the largest ocean on Earth.";
if (!baseUrl) {
  console.error("usage: node verify.mjs <gateway URL> [text]");
  process.exit(2);
}
const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const timeoutMs = 120_000;

async function main() {
  const states = [];
  const person = new SatyaMark({ baseUrl, WebSocket });
  person.on("connection", (state) => states.push(state));
  let platform = null;
  try {
    const session = await person.register(`ts-sdk-${unique}@example.com`, `ts-sdk-pw-${unique}`);
    const user = await person.verify(text, { timeoutMs });

    const key = await person.apiKeys.create({
      name: "ts-sdk e2e",
      scopes: ["verify", "tasks:read"],
    });
    const keys = await person.apiKeys.list();

    platform = new SatyaMark({ baseUrl, apiKey: key.key, WebSocket });
    const progress = [];
    const apiKey = await platform.verify(`The TypeScript SDK claim ${unique} is true.`, {
      timeoutMs,
      onProgress: (event) => progress.push(event.stage),
    });
    const again = await platform.verify(text, { timeoutMs });
    const task = await platform.tasks.get(apiKey.taskId);
    let scopeError = null;
    try {
      await platform.apiKeys.list();
    } catch (error) {
      scopeError = error instanceof SatyaMarkError ? error.errorCode : String(error);
    }

    await person.logout();
    let afterLogout = null;
    try {
      await person.tasks.list();
    } catch (error) {
      afterLogout = error instanceof SatyaMarkError ? error.errorCode : String(error);
    }
    const out = {
      user,
      apiKey,
      again,
      task: { taskId: task.taskId, status: task.status, mark: task.result?.mark ?? null },
      keyPrefix: key.prefix,
      keys: keys.map((k) => k.id),
      keyId: key.id,
      scopeError,
      afterLogout,
      refreshTokenKept: typeof session.refreshToken === "string",
      progress,
      states,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    platform?.close();
    person.close();
  }
}

main().catch((error) => {
  const detail = error instanceof SatyaMarkError ? ` [${error.status} ${error.errorCode}]` : "";
  console.error(`verify.mjs failed${detail}: ${error?.stack ?? error}`);
  process.exitCode = 1;
});
