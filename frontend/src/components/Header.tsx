import type { MouseEvent } from "react";
import { PATHS, type Route } from "../hooks/useRoute";
import { ConnectionPill } from "./ConnectionPill";
import { Icon } from "./Icon";
import { ThemeToggle } from "./ThemeToggle";

const TABS: { route: Route; label: string; admin?: boolean }[] = [
  { route: "verify", label: "Verify" },
  { route: "keys", label: "API keys" },
  { route: "webhooks", label: "Webhooks" },
  { route: "ops", label: "Operations", admin: true },
];

export function Header({
  route,
  navigate,
  admin,
  email,
  onLogout,
}: {
  route: Route;
  navigate: (route: Route) => void;
  admin: boolean;
  email: string | null;
  onLogout: () => void;
}) {
  // Real links (open in a new tab works); a plain click stays in the page.
  const follow = (event: MouseEvent<HTMLAnchorElement>, to: Route) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
      return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <header className="topbar">
      <div className="topbar-row">
        <a className="brand" href="/" onClick={(e) => follow(e, "verify")}>
          <span className="logo" aria-hidden="true">
            <Icon name="check" />
          </span>
          SatyaMark
        </a>
        <div className="topbar-tools">
          <ConnectionPill />
          <ThemeToggle />
          {email ? (
            <span className="who" title={email}>
              {email}
            </span>
          ) : null}
          <button type="button" className="button button-quiet" onClick={onLogout}>
            Log out
          </button>
        </div>
      </div>
      <nav aria-label="Main">
        <ul className="tabs">
          {TABS.filter((tab) => !tab.admin || admin).map((tab) => (
            <li key={tab.route}>
              <a
                className="tab"
                href={PATHS[tab.route]}
                aria-current={route === tab.route ? "page" : undefined}
                onClick={(e) => follow(e, tab.route)}
              >
                {tab.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
    </header>
  );
}
