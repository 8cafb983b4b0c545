// Light, dark or the system's choice; the choice persists and is applied to <html> so the
// CSS variables switch (the stylesheet follows prefers-color-scheme when none is set).
import { useEffect, useState } from "react";
import { loadTheme, saveTheme, type ThemeChoice } from "../lib/storage";

export function applyTheme(theme: ThemeChoice): void {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

const prefersDark = () => matchMedia("(prefers-color-scheme: dark)").matches;

export function useTheme(): { theme: ThemeChoice; dark: boolean; toggle: () => void } {
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
  const [systemDark, setSystemDark] = useState(prefersDark);

  useEffect(() => {
    const query = matchMedia("(prefers-color-scheme: dark)");
    const onChange = () => setSystemDark(query.matches);
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, []);

  useEffect(() => {
    applyTheme(theme);
    saveTheme(theme);
  }, [theme]);

  const dark = theme === "system" ? systemDark : theme === "dark";
  // A toggle, not a menu: switch to the other look (an explicit choice from then on).
  const toggle = () => setTheme(dark ? "light" : "dark");
  return { theme, dark, toggle };
}
