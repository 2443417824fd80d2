// Labelled form controls. Number fields keep the text the user typed (so "0." or an
// empty box is not fought over) and report a parsed value only when it is valid.
import { useId, useState, type ReactNode } from 'react';

export interface NumberFieldProps {
  label: string;
  value: number | null;
  onChange: (value: number | null) => void;
  min?: number;
  max?: number;
  step?: number;
  /** Allow an empty box (value null), e.g. "use the default". */
  optional?: boolean;
  placeholder?: string;
  hint?: ReactNode;
  disabled?: boolean;
  testId?: string;
  integer?: boolean;
}

export function NumberField(props: NumberFieldProps) {
  const { label, value, onChange, min, max, step = 1, optional, placeholder, hint, disabled, testId, integer = true } = props;
  const id = useId();
  const [text, setText] = useState(value == null ? '' : String(value));
  const [lastValue, setLastValue] = useState(value);
  if (value !== lastValue) {
    // The value changed from outside (reset, preset): show it.
    setLastValue(value);
    if (text.trim() === '' ? value != null : Number(text) !== value) setText(value == null ? '' : String(value));
  }
  const parsed = text.trim() === '' ? null : Number(text);
  const invalid =
    (parsed == null && !optional) ||
    (parsed != null &&
      (!Number.isFinite(parsed) ||
        (integer && !Number.isInteger(parsed)) ||
        (min != null && parsed < min) ||
        (max != null && parsed > max)));
  const hintId = `${id}-hint`;
  return (
    <div className={`field${invalid ? ' invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={text}
        min={min}
        max={max}
        step={step}
        placeholder={placeholder}
        disabled={disabled}
        aria-invalid={invalid || undefined}
        aria-describedby={hint || invalid ? hintId : undefined}
        data-testid={testId}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          const n = t.trim() === '' ? null : Number(t);
          if (n == null) {
            if (optional) onChange(null);
            return;
          }
          if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return;
          if ((min != null && n < min) || (max != null && n > max)) return;
          setLastValue(n);
          onChange(n);
        }}
      />
      {(hint || invalid) && (
        <small id={hintId} className="hint">
          {invalid ? `Enter ${integer ? 'a whole number' : 'a number'}${min != null ? ` ≥ ${min}` : ''}${max != null ? ` and ≤ ${max}` : ''}` : hint}
        </small>
      )}
    </div>
  );
}

export function CheckField({
  label,
  checked,
  onChange,
  disabled,
  testId,
  wide,
}: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  disabled?: boolean;
  testId?: string;
  /** Spans the whole row of a form grid (a long label). */
  wide?: boolean;
}) {
  const id = useId();
  return (
    <div className={wide ? 'field check wide' : 'field check'}>
      <input id={id} type="checkbox" checked={checked} disabled={disabled} data-testid={testId} onChange={(e) => onChange(e.target.checked)} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}

/** A labelled drop-down of fixed choices (the value is always one of them). */
export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  disabled,
  testId,
  hint,
}: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (v: T) => void;
  disabled?: boolean;
  testId?: string;
  hint?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={value}
        disabled={disabled}
        data-testid={testId}
        onChange={(e) => {
          const next = options.find((o) => o.value === e.target.value);
          if (next) onChange(next.value);
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && <small className="hint">{hint}</small>}
    </div>
  );
}
