/**
 * Reading request fields from the parser's flat [name, value, …] list (names lowercased).
 */

/** The field's value, several lines of it combined with ", " (RFC 9110 §5.3), or null when absent.
 * A singleton field sent twice (say two If-Modified-Since dates) so becomes a value its own parser
 * rejects, which is the RFC's answer for such fields: ignore them. */
export function fieldValue(fields: readonly string[], name: string): string | null {
  let found: string | null = null;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] !== name) continue;
    const value = fields[i + 1] ?? "";
    found = found === null ? value : `${found}, ${value}`;
  }
  return found;
}

/** RFC 9110 §5.6.3: the text without the optional whitespace (SP, HTAB) around it. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
