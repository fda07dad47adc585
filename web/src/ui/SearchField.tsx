import './SearchField.css';

/**
 * A labelled search box for names, with a polite status line under it (what matched) when there
 * is one to say.
 */
export function SearchField({
  id,
  label,
  value,
  onChange,
  status,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  status: string | undefined;
}) {
  return (
    <div className="search">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        placeholder="Type a name"
        autoComplete="off"
        value={value}
        onChange={(event) => onChange(event.target.value)}
      />
      {status !== undefined && (
        <p className="muted" aria-live="polite">
          {status}
        </p>
      )}
    </div>
  );
}
