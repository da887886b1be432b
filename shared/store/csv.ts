/**
 * CSV for the run reports: RFC 4180 output (CRLF line ends, fields with `"`, `,`, CR or LF
 * quoted, quotes doubled), safe to open in a spreadsheet.
 *
 * Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or
 * CR, which some strip first) as a formula, so a display name such as `=HYPERLINK(...)` taken
 * from the directory could act on the reader's machine. Such text cells are prefixed with `'`
 * and quoted, which spreadsheets show as plain text.
 *
 * Phone numbers collide with that rule: Graph's format `+45 20123456` and the masked
 * `+45 ******56` start with `+`, and a `'` in front would make the report's numbers wrong for
 * every program that reads the CSV as data. The resolution: columns declared `phone: true` leave
 * a value unprefixed only when it is made of nothing but a leading `+`, digits, spaces and `*`
 * (at most 32 characters). Such a cell cannot name a function, a reference or another program,
 * so at worst a spreadsheet shows it as a number or a `#NULL!` error, never runs anything. Any
 * other value in a phone column (anything with a letter, `(`, `|`, `=` ...) is guarded like text.
 * Numbers and booleans are written as they are in every column.
 */

/** One column of a CSV table. */
export interface CsvColumn<T> {
  /** The header cell. */
  header: string;
  /** The property to print, or a function computing the cell from the row. */
  value: keyof T | ((row: T) => unknown);
  /** Holds phone numbers: values of only `+`, digits, spaces and `*` are not prefixed with `'`. */
  phone?: boolean;
}

/** Line end of every record, as RFC 4180 prescribes. */
export const CSV_LINE_END = "\r\n";

/** Content type for `RunStore.putText` of a CSV report. */
export const CSV_CONTENT_TYPE = "text/csv; charset=utf-8";

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const PHONE_LIKE = /^\+[0-9 *]{1,31}$/;

/**
 * Formats one cell.
 *
 * @param value - the value; `null` and `undefined` are empty, dates are ISO 8601, objects JSON.
 * @param phone - whether the cell is in a phone column (see the module comment).
 * @returns the cell as it appears in the file, quoted if needed.
 */
export function formatCsvCell(value: unknown, phone = false): string {
  if (value === null || value === undefined) {
    return "";
  }
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  let text: string;
  if (value instanceof Date) {
    text = value.toISOString();
  } else if (typeof value === "string") {
    text = value;
  } else {
    text = JSON.stringify(value) ?? String(value);
  }
  const guarded = FORMULA_START.test(text) && !(phone && PHONE_LIKE.test(text));
  if (guarded) {
    text = `'${text}`;
  }
  return guarded || NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Formats one record (without the line end).
 *
 * @param row - the row.
 * @param columns - the columns, in order.
 */
export function formatCsvRecord<T>(row: T, columns: ReadonlyArray<CsvColumn<T>>): string {
  return columns
    .map((column) => {
      const value = typeof column.value === "function" ? column.value(row) : row[column.value];
      return formatCsvCell(value, column.phone ?? false);
    })
    .join(",");
}

/**
 * Formats a header line.
 *
 * @param columns - the columns, in order.
 */
export function formatCsvHeader<T>(columns: ReadonlyArray<CsvColumn<T>>): string {
  return columns.map((column) => formatCsvCell(column.header)).join(",");
}

/**
 * Builds a whole CSV text: a header line, then one record per row, each ending in CRLF.
 *
 * @param rows - the rows.
 * @param columns - the columns, in order.
 * @returns the CSV text.
 */
export function toCsv<T>(rows: Iterable<T>, columns: ReadonlyArray<CsvColumn<T>>): string {
  const lines = [formatCsvHeader(columns)];
  for (const row of rows) {
    lines.push(formatCsvRecord(row, columns));
  }
  return lines.join(CSV_LINE_END) + CSV_LINE_END;
}

/**
 * Yields the same text as {@link toCsv} line by line, for reports too large to hold as one
 * string: pass the result to `RunStore.putStream`.
 *
 * @param rows - the rows, possibly produced asynchronously (e.g. read page by page from the store).
 * @param columns - the columns, in order.
 */
export async function* csvLines<T>(
  rows: AsyncIterable<T> | Iterable<T>,
  columns: ReadonlyArray<CsvColumn<T>>,
): AsyncGenerator<string> {
  yield formatCsvHeader(columns) + CSV_LINE_END;
  for await (const row of rows) {
    yield formatCsvRecord(row, columns) + CSV_LINE_END;
  }
}
