// The number is the information; the bar only shows it at a glance (hidden from readers).
export function ConfidenceBar({ value, label = "Confidence" }: { value: number; label?: string }) {
  const percent = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div className="confidence">
      <span className="confidence-label">
        {label} <strong>{percent}%</strong>
      </span>
      <span className="confidence-track" aria-hidden="true">
        <span className="confidence-fill" style={{ width: `${percent}%` }} />
      </span>
    </div>
  );
}
