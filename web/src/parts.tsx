import type { ReactNode } from 'react';

/** A page's last outcome: a notice (read out politely) and an error (read out at once), each empty when none. */
export function Messages({ notice, error }: { notice: string; error: string }) {
  return (
    <>
      <p role="status" className="notice">
        {notice}
      </p>
      <p role="alert" className="error">
        {error}
      </p>
    </>
  );
}

/** A list table: a caption for screen readers, column headers, and the rows given. */
export function Table({ caption, headers, children }: { caption: string; headers: readonly string[]; children: ReactNode }) {
  return (
    <table className="list">
      <caption className="sr-only">{caption}</caption>
      <thead>
        <tr>
          {headers.map((h) => (
            <th scope="col" key={h}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** A labelled text (or number) input whose label a screen reader reads with it. */
export function Field({ label, name, value, onChange, type = 'text', min }: { label: string; name: string; value: string; onChange(value: string): void; type?: 'text' | 'number'; min?: string }) {
  return (
    <label>
      {label}
      <input name={name} type={type} min={min} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}
