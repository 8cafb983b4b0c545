import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@satyamark/react/badge.css";
import { App } from "./App";
import { applyTheme } from "./hooks/useTheme";
import { loadTheme } from "./lib/storage";
import "./styles/app.css";

// Before the first paint: a saved dark choice must not flash light.
applyTheme(loadTheme());

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
