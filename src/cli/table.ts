/** One column of a text table: its header and how its cells align (numbers read best aligned right). */
export interface TableColumn {
  header: string;
  align?: "left" | "right";
}

/**
 * Renders rows as a plain text table for a terminal: a header line, the rows, and an optional footer (a TOTAL
 * line) after a rule, each column padded to its widest cell and separated by two spaces, with no trailing
 * spaces. Plain text (no box drawing, no colour) so the output stays readable when piped to a file or `grep`.
 * Ends with a newline.
 */
export function formatTable(
  columns: readonly TableColumn[],
  rows: readonly (readonly string[])[],
  footer?: readonly string[],
): string {
  const all = [columns.map((c) => c.header), ...rows, ...(footer === undefined ? [] : [footer])];
  const widths = columns.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? "";
        const width = widths[i] ?? 0;
        return column.align === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const lines = [line(all[0] ?? []), ...rows.map(line)];
  if (footer !== undefined) lines.push(widths.map((w) => "-".repeat(w)).join("  "), line(footer));
  return `${lines.join("\n")}\n`;
}
