// A destructive action asks once more in place (no modal dialog to trap the focus).
import { useEffect, useRef, useState } from "react";

export function ConfirmButton({
  label,
  confirmLabel,
  onConfirm,
  describedBy,
  disabled,
}: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<void>;
  describedBy?: string;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);

  if (!asking)
    return (
      <button
        type="button"
        className="button button-quiet"
        aria-describedby={describedBy}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  return (
    <span className="confirm">
      <button
        ref={confirm}
        type="button"
        className="button button-danger"
        aria-describedby={describedBy}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button button-quiet" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}
