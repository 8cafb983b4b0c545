// A secret the server shows once (an API key, a webhook's signing secret): shown with a
// copy button until dismissed; after that only its prefix is ever seen again.
import { useId, useRef, useState } from "react";

export function SecretOnce({
  label,
  value,
  onDone,
}: {
  label: string;
  value: string;
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const field = useRef<HTMLInputElement>(null);
  const id = useId();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied("yes");
    } catch {
      // No clipboard (insecure origin, denied): select it for Ctrl+C instead.
      field.current?.select();
      setCopied("no");
    }
  };

  return (
    <section className="secret" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{label}</h3>
      <p>Copy it now: it is not shown again.</p>
      <div className="secret-row">
        <label htmlFor={id} className="sm-visually-hidden">
          {label}
        </label>
        <input
          id={id}
          ref={field}
          className="secret-value"
          readOnly
          value={value}
          onFocus={(e) => e.currentTarget.select()}
        />
        <button type="button" className="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p className="muted" aria-live="polite">
        {copied === "yes"
          ? "Copied to the clipboard."
          : copied === "no"
            ? "Selected: press Ctrl+C (⌘C) to copy."
            : ""}
      </p>
      <button type="button" className="button button-quiet" onClick={onDone}>
        I have saved it
      </button>
    </section>
  );
}
