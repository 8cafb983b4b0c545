// A table that scrolls on its own on a narrow screen (a focusable region, so it can be
// scrolled by keyboard), with a header row of ``columns``; ``children`` are its rows.
import type { ReactNode } from "react";

export function DataTable({
  label,
  columns,
  className,
  children,
}: {
  label: string;
  columns: readonly string[];
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table className={className}>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
