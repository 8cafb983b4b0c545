// Path routes with the History API: real URLs (/keys, /webhooks, /ops) that the gateway
// answers with index.html, so a reload or a shared link lands on the same page.
import { useCallback, useEffect, useState } from "react";

export type Route = "verify" | "keys" | "webhooks" | "ops";

export const PATHS: Record<Route, string> = {
  verify: "/",
  keys: "/keys",
  webhooks: "/webhooks",
  ops: "/ops",
};

function routeOf(pathname: string): Route {
  const path = pathname.replace(/\/+$/, "") || "/";
  const found = (Object.keys(PATHS) as Route[]).find((route) => PATHS[route] === path);
  return found ?? "verify";
}

export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState<Route>(() => routeOf(location.pathname));

  useEffect(() => {
    const onPop = () => setRoute(routeOf(location.pathname));
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  const navigate = useCallback((next: Route) => {
    if (location.pathname !== PATHS[next]) history.pushState(null, "", PATHS[next]);
    setRoute(next);
  }, []);

  return [route, navigate];
}
