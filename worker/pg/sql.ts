// SQL text quoting, the one copy: identifiers and literals built into statements the worker sends (never values a
// query parameter could carry instead).

/** An identifier, always quoted: "name" with inner quotes doubled (keeps case, works for reserved words). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('an identifier cannot contain a NUL character');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal as PostgreSQL's quote_literal makes it: 'text' with quotes doubled, and E'...' with backslashes
 * doubled when there is a backslash, so the value is the same whatever standard_conforming_strings says.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('a string literal cannot contain a NUL character');
  const body = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

/** schema.name, each part quoted. */
export function quoteQualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}
