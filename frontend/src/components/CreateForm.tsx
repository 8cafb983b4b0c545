// The card form that creates an API key or a webhook: one text field (its name, its URL),
// the checkboxes of what it is for (at least one ticked), the problem if any, the button.
import { useId, useState, type FormEvent } from "react";
import { describeError, type Problem } from "../lib/errors";
import { ErrorNotice } from "./ErrorNotice";

/** The checkboxes: ``name`` theirs, ``options`` each box's value and its label (in order),
 * ``none`` what to say when no box is ticked. */
export interface ChoiceSet {
  legend: string;
  name: string;
  options: Readonly<Record<string, string>>;
  none: string;
}

export interface TextField {
  label: string;
  /** Ends the input's element id. */
  name: string;
  type?: "url";
  maxLength: number;
  placeholder: string;
  hint?: string;
}

export function CreateForm({
  title,
  field,
  choices,
  submitLabel,
  create,
}: {
  title: string;
  field: TextField;
  choices: ChoiceSet;
  submitLabel: string;
  /** Create it from the field's text (trimmed) and the ticked values; what it throws is
   * shown, else the field is emptied. */
  create: (text: string, chosen: string[]) => Promise<void>;
}) {
  const id = useId();
  const [text, setText] = useState("");
  const [chosen, setChosen] = useState<string[]>(Object.keys(choices.options));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (chosen.length === 0) {
      setProblem({ kind: "invalid", title: choices.none });
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      await create(text.trim(), chosen);
      setText("");
    } catch (error) {
      setProblem(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  const toggle = (value: string, on: boolean) =>
    setChosen((now) => (on ? [...now, value] : now.filter((v) => v !== value)));

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <div className="field">
        <label htmlFor={`${id}-${field.name}`}>{field.label}</label>
        <input
          id={`${id}-${field.name}`}
          type={field.type}
          required
          maxLength={field.maxLength}
          placeholder={field.placeholder}
          aria-describedby={field.hint ? `${id}-hint` : undefined}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {field.hint ? (
          <p id={`${id}-hint`} className="hint">
            {field.hint}
          </p>
        ) : null}
      </div>
      <fieldset className="choices">
        <legend>{choices.legend}</legend>
        {Object.entries(choices.options).map(([value, label]) => (
          <label key={value} className="choice">
            <input
              type="checkbox"
              name={choices.name}
              value={value}
              checked={chosen.includes(value)}
              onChange={(e) => toggle(value, e.target.checked)}
            />
            {label} <code>{value}</code>
          </label>
        ))}
      </fieldset>
      <ErrorNotice problem={problem} />
      <div>
        <button type="submit" className="button button-primary" disabled={busy}>
          {submitLabel}
        </button>
      </div>
    </form>
  );
}
