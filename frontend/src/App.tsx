// The shell: a login screen, or the workspace (header, tabs, the page) once logged in.
import type { SatyaMark } from "@satyamark/client";
import { SatyaMarkProvider } from "@satyamark/react";
import { useEffect, useRef, useState } from "react";
import { AnnouncerProvider } from "./components/Announcer";
import { Header } from "./components/Header";
import { useSessionOf } from "./hooks/useClientState";
import { useRoute } from "./hooks/useRoute";
import { TasksProvider } from "./hooks/useTasks";
import { createClient } from "./lib/client";
import { isAdmin, tokenClaims } from "./lib/jwt";
import { loadEmail, saveEmail, saveLastEventId } from "./lib/storage";
import { KeysPage } from "./pages/KeysPage";
import { LoginPage } from "./pages/LoginPage";
import { OpsPage } from "./pages/OpsPage";
import { VerifyPage } from "./pages/VerifyPage";
import { WebhooksPage } from "./pages/WebhooksPage";

function Workspace({
  admin,
  email,
  onLogout,
}: {
  admin: boolean;
  email: string | null;
  onLogout: () => void;
}) {
  const [route, navigate] = useRoute();
  const shown = route === "ops" && !admin ? "verify" : route;
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  // After a tab change, the focus goes to the new page's title (not left on the tab),
  // so a screen reader says where it is; the first render leaves the focus alone.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.querySelector<HTMLElement>(".page-title")?.focus();
    document.title = `${main.current?.querySelector(".page-title")?.textContent ?? ""} · SatyaMark`;
  }, [shown]);

  return (
    <TasksProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header route={shown} navigate={navigate} admin={admin} email={email} onLogout={onLogout} />
      <main id="main" ref={main} className="page" tabIndex={-1}>
        {shown === "verify" ? <VerifyPage onLogin={onLogout} /> : null}
        {shown === "keys" ? <KeysPage /> : null}
        {shown === "webhooks" ? <WebhooksPage /> : null}
        {shown === "ops" ? <OpsPage /> : null}
      </main>
    </TasksProvider>
  );
}

export function App() {
  const [client, setClient] = useState<SatyaMark>(createClient);
  const session = useSessionOf(client);
  const [notice, setNotice] = useState<string | null>(null);
  const [email, setEmail] = useState<string | null>(loadEmail);
  const hadSession = useRef(session !== null);
  const loggingOut = useRef(false);

  // The login ended (a logout, or a refresh token that expired): a fresh client, so the
  // next user starts with no one else's event position or socket.
  useEffect(() => {
    if (session) {
      hadSession.current = true;
      return;
    }
    if (!hadSession.current) return;
    hadSession.current = false;
    setNotice(
      loggingOut.current ? "You are logged out." : "Your session has ended. Please log in again.",
    );
    loggingOut.current = false;
    saveLastEventId(null);
    client.close();
    setClient(createClient());
  }, [session, client]);

  const logout = async () => {
    loggingOut.current = true;
    try {
      await client.logout(); // revokes the login server-side, closes the socket
    } catch {
      /* the SDK forgets the login even when the server cannot be reached */
    }
  };

  // Keyed by user: another login never sees the previous user's state.
  const user = session ? (tokenClaims(session.accessToken).sub ?? "user") : null;
  return (
    <AnnouncerProvider>
      <SatyaMarkProvider client={client}>
        {session ? (
          <Workspace
            key={user}
            admin={isAdmin(session.accessToken)}
            email={email}
            onLogout={() => void logout()}
          />
        ) : (
          <LoginPage
            notice={notice}
            onLoggedIn={(address) => {
              saveEmail(address);
              setEmail(address);
              setNotice(null);
            }}
          />
        )}
      </SatyaMarkProvider>
    </AnnouncerProvider>
  );
}
