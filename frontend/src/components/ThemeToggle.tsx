import { useTheme } from "../hooks/useTheme";
import { Icon } from "./Icon";

export function ThemeToggle() {
  const { dark, toggle } = useTheme();
  return (
    <button
      type="button"
      className="button button-quiet theme-toggle"
      aria-label="Dark mode"
      aria-pressed={dark}
      onClick={toggle}
    >
      <Icon name={dark ? "moon" : "sun"} />
      <span className="theme-word" aria-hidden="true">
        Dark mode
      </span>
    </button>
  );
}
