import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const sdk = (path: string) => fileURLToPath(new URL(`../sdk/ts/${path}`, import.meta.url));

// The SDK is built from source with the app, so the app never waits for its build.
// Exact matches: "@satyamark/react/badge.css" must not become ".../index.ts/badge.css".
export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^@satyamark\/client$/, replacement: sdk("client/src/index.ts") },
      { find: /^@satyamark\/react$/, replacement: sdk("react/src/index.ts") },
      { find: /^@satyamark\/react\/badge\.css$/, replacement: sdk("react/src/badge.css") },
    ],
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    // Modern browsers only: no inline polyfill, nothing the CSP would block.
    modulePreload: { polyfill: false },
    target: "es2022",
  },
  server: {
    // `npm run dev -w frontend` next to `satyamark run`: the API and socket on :8000.
    proxy: { "/v1": { target: "http://127.0.0.1:8000", ws: true } },
  },
});
