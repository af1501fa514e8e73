/**
 * Byte classes from the HTTP grammar, as 256-entry lookup tables so the parser tests one byte with
 * one array read. Built once at load time.
 */

function tableOf(predicate: (byte: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let byte = 0; byte < 256; byte++) table[byte] = predicate(byte) ? 1 : 0;
  return table;
}

const ALPHA_DIGIT = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** RFC 9110 §5.6.2 tchar: the bytes of a token (method, field name, coding name). */
export const TOKEN_CHAR = tableOf(
  (b) => ALPHA_DIGIT(b) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b)),
);

/** RFC 9110 §5.5 field-vchar plus SP and HTAB: the bytes a field value may hold. obs-text
 * (0x80–0xFF) is allowed, CTLs (including NUL and a bare CR) and DEL are not. */
export const FIELD_VALUE_CHAR = tableOf((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** Bytes allowed in a request-target. RFC 3986 allows fewer, but browsers send `|`, `^`, `{`,
 * `}`, `\` unescaped in paths (WHATWG URL path percent-encode set), so we accept every visible
 * ASCII byte except `#` (a fragment is never sent, RFC 9112 §3.2). CTLs, SP, DEL and non-ASCII
 * bytes are rejected: clients must percent-encode them. */
export const TARGET_CHAR = tableOf((b) => b > 0x20 && b < 0x7f && b !== 0x23);

/** RFC 3986 §3.2.2 reg-name bytes (unreserved / pct-encoded / sub-delims), for Host validation. */
export const REG_NAME_CHAR = tableOf(
  (b) => ALPHA_DIGIT(b) || "-._~%!$&'()*+,;=".includes(String.fromCharCode(b)),
);

/** Hex digit value, or 255 when the byte is not a hex digit. */
export const HEX_VALUE = (() => {
  const table = new Uint8Array(256).fill(255);
  for (let d = 0; d < 10; d++) table[0x30 + d] = d;
  for (let d = 0; d < 6; d++) {
    table[0x41 + d] = 10 + d;
    table[0x61 + d] = 10 + d;
  }
  return table;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;
export const COLON = 0x3a;

export function isTokenString(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    if (TOKEN_CHAR[text.charCodeAt(i)] !== 1) return false;
  }
  return true;
}
