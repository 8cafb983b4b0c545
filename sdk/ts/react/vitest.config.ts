import { fileURLToPath } from "node:url";

import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // the client's sources, not its build: these tests need no `npm run build` first
    alias: {
      "@satyamark/client": fileURLToPath(new URL("../client/src/index.ts", import.meta.url)),
    },
  },
  esbuild: { jsx: "automatic" },
  test: {
    include: ["test/**/*.test.{ts,tsx}"],
    environment: "jsdom",
  },
});
