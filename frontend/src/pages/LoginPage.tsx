import { useSatyaMark } from "@satyamark/react";
import { useId, useRef, useState, type FormEvent } from "react";
import { ErrorNotice } from "../components/ErrorNotice";
import { Icon } from "../components/Icon";
import { ThemeToggle } from "../components/ThemeToggle";
import { describeError, type Problem } from "../lib/errors";
import { loadEmail } from "../lib/storage";

type Mode = "login" | "register";

export function LoginPage({
  notice,
  onLoggedIn,
}: {
  notice: string | null;
  onLoggedIn: (email: string) => void;
}) {
  const client = useSatyaMark();
  const id = useId();
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState(() => loadEmail() ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const passwordField = useRef<HTMLInputElement>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      if (mode === "register") await client.register(email, password);
      else await client.login(email, password);
      onLoggedIn(email);
    } catch (error) {
      setProblem(describeError(error));
      passwordField.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const registering = mode === "register";
  return (
    <div className="login-screen">
      <div className="login-tools">
        <ThemeToggle />
      </div>
      <main id="main" className="login-card">
        <p className="brand brand-large">
          <span className="logo" aria-hidden="true">
            <Icon name="check" />
          </span>
          SatyaMark
        </p>
        <h1>{registering ? "Create your account" : "Log in"}</h1>
        <p className="muted">
          Check texts against known facts, with the evidence behind every verdict.
        </p>
        {notice ? (
          <p className="notice notice-info" role="status">
            {notice}
          </p>
        ) : null}
        <form className="stack" onSubmit={submit} aria-describedby={`${id}-hint`}>
          <div className="field">
            <label htmlFor={`${id}-email`}>E-mail</label>
            <input
              id={`${id}-email`}
              type="email"
              autoComplete="username"
              required
              maxLength={254}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              ref={passwordField}
              type="password"
              autoComplete={registering ? "new-password" : "current-password"}
              required
              minLength={8}
              maxLength={128}
              aria-describedby={`${id}-hint`}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            <p id={`${id}-hint`} className="hint">
              At least 8 characters{registering ? "; not one of the most common passwords" : ""}.
            </p>
          </div>
          <ErrorNotice problem={problem} />
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Please wait…" : registering ? "Create account" : "Log in"}
          </button>
        </form>
        <p className="switch-mode">
          {registering ? "Already have an account?" : "New to SatyaMark?"}{" "}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setMode(registering ? "login" : "register");
              setProblem(null);
            }}
          >
            {registering ? "Log in" : "Create an account"}
          </button>
        </p>
      </main>
    </div>
  );
}
