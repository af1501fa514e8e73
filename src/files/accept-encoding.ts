/**
 * Accept-Encoding negotiation for precompressed sidecar files ("app.js.br" next to "app.js").
 * Pure: a field value and the codings on disk in, the coding to serve out.
 *
 * berth never compresses on the fly; it only picks among files that already exist, so the whole
 * job is RFC 9110 §12.5.3's acceptability test plus "highest non-zero qvalue is preferred".
 */

/** The content codings berth can serve from precompressed sidecar files, with their file extensions. */
export type Coding = "br" | "zstd" | "gzip";

/** ".zst" and ".gz" are the names the zstd and gzip tools write; ".br" is what brotli writes. */
export const SIDECAR_EXTENSION: Readonly<Record<Coding, string>> = {
  br: ".br",
  zstd: ".zst",
  gzip: ".gz",
};

/** Smallest first: brotli and zstd files are usually smaller than gzip's for web assets, and
 * every browser that sends "br" or "zstd" also sends "gzip", so gzip is the fallback. */
export const DEFAULT_PRECOMPRESSED_CODINGS: readonly Coding[] = ["br", "zstd", "gzip"];

const ALL_CODINGS: readonly Coding[] = ["br", "zstd", "gzip"];
const CHOICES = `choose from ${ALL_CODINGS.join(", ")}`;

/**
 * Parses a `--precompressed` flag value "br,zstd,gzip" (order = server preference); throws a
 * one-line Error naming the bad token and the valid choices; no duplicates; non-empty.
 *
 * Spaces around entries are dropped (`"br, gzip"` is how people write lists), and names are
 * matched case-insensitively because content codings are (RFC 9110 §8.4.1). "x-gzip" is refused:
 * it names the coding on the wire, not a sidecar file we would look for.
 */
export function parseCodingList(text: string): Coding[] {
  if (text.trim() === "") throw new Error(`--precompressed: no codings given (${CHOICES})`);
  const codings: Coding[] = [];
  for (const entry of text.split(",")) {
    const name = entry.trim().toLowerCase();
    if (name === "") {
      throw new Error(`--precompressed: empty entry in "${text}" (${CHOICES})`);
    }
    const coding = ALL_CODINGS.find((known) => known === name);
    if (coding === undefined) {
      throw new Error(`--precompressed: unknown coding "${entry.trim()}" (${CHOICES})`);
    }
    if (codings.includes(coding)) {
      throw new Error(`--precompressed: coding "${coding}" is listed twice`);
    }
    codings.push(coding);
  }
  return codings;
}

/** Weights are kept in thousandths, the qvalue grammar's full precision (RFC 9110 §12.4.2), so
 * comparisons are exact integer comparisons, never float ones. */
const Q_MAX = 1000;
/** Marks a name the field does not list. */
const UNLISTED = -1;

/** The weights a field gives to the names berth cares about; every other coding is irrelevant,
 * since we can only serve the codings we have files for. */
interface Weights {
  br: number;
  zstd: number;
  gzip: number;
  identity: number;
  star: number;
}

type ListedName = keyof Weights;

/**
 * RFC 9110 §12.5.3: picks the coding to serve among `available` (server preference order) for an
 * Accept-Encoding value, or null for identity (no coding).
 *
 * `header` is the combined field value (several field lines joined with ", ", RFC 9110 §5.3), or
 * null when the request has no Accept-Encoding field. `available` lists the codings that have a
 * sidecar for this file, most preferred first.
 *
 * Decisions beyond the RFC's words, and why:
 * - No field → identity. RFC 9110 §12.5.3 rule 1 makes every coding acceptable then, but
 *   §12.4.1 reads absence as "no preference", and a client that said nothing (curl without
 *   --compressed, scripts, old proxies) may well save the compressed bytes as if they were the
 *   file. Identity is always safe; the response still varies on the field (Vary: Accept-Encoding).
 * - An element whose weight is not exactly `OWS ";" OWS "q=" qvalue` (q=2, q=0.5555, q=abc,
 *   "level=1", a second parameter) is ignored as a whole: guessing its weight could send a coding
 *   the client refused.
 * - A name listed twice ("gzip;q=0, gzip", "x-gzip;q=0, gzip") takes its lowest weight: the RFC
 *   does not say, and the lowest never sends a coding the client refused anywhere in the field.
 * - Identity competes with a weight: its own entry's, else "*"'s, else 1 (§12.5.3 rule 2 calls it
 *   acceptable by default, and §12.4.2's default weight is 1). So "gzip;q=0.5" alone gets
 *   identity: the client said it prefers no coding. A tie goes to the coding ("gzip,
 *   identity" → gzip): the client likes both equally, and the coding saves bytes.
 * - Identity excluded ("identity;q=0", "*;q=0") with no acceptable coding → identity anyway, never
 *   406. §12.5.3 says to send no coding "unless the identity coding is indicated as
 *   unacceptable", and §12.4.1 lets a server disregard the field instead of sending 406; the
 *   HTTP WG chose that on purpose, as a 200 without coding is the more interoperable answer
 *   (httpwg/http-core#980). The client can still decide what to do with it.
 */
export function negotiateCoding(
  header: string | null,
  available: readonly Coding[],
): Coding | null {
  if (header === null || available.length === 0) return null;
  // An empty field lists nothing, so no coding gets a weight above 0 below: RFC 9110 §12.5.3,
  // an empty value means the client does not want any content coding.
  const weights = parseWeights(header);
  // RFC 9110 §12.4.3: without "*", unlisted codings are not acceptable.
  const otherCodingQ = weights.star === UNLISTED ? 0 : weights.star;
  let best: Coding | null = null;
  let bestQ = 0;
  for (const coding of available) {
    const q = weights[coding] === UNLISTED ? otherCodingQ : weights[coding];
    // Strictly greater: on equal weights the earlier (server-preferred) coding stays.
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  if (best === null) return null;
  const identityQ = identityWeight(weights);
  return identityQ > bestQ ? null : best;
}

/** RFC 9110 §12.5.3 rule 2: identity is acceptable unless "identity;q=0", or "*;q=0" without an
 * identity entry, excludes it. "*" lends identity its weight when identity is not listed. When
 * neither names it, identity is acceptable but least preferred: a client that lists a coding at
 * any weight above 0 ("gzip;q=0.5") is asking for it, and gets it. */
function identityWeight(weights: Weights): number {
  if (weights.identity !== UNLISTED) return weights.identity;
  if (weights.star !== UNLISTED) return weights.star;
  return 0;
}

function parseWeights(header: string): Weights {
  const weights: Weights = {
    br: UNLISTED,
    zstd: UNLISTED,
    gzip: UNLISTED,
    identity: UNLISTED,
    star: UNLISTED,
  };
  let start = 0;
  let inQuotes = false;
  // RFC 9110 §5.6.1 list: elements split on commas. Accept-Encoding has no quoted strings, but
  // a comma inside one (a stray `;x="a,gzip"`) must not start a new element, so quotes are
  // honoured here and the quoted element is then ignored for its unknown parameter.
  for (let i = 0; i <= header.length; i++) {
    const char = header.charCodeAt(i);
    if (inQuotes) {
      if (char === BACKSLASH) i++;
      else if (char === DQUOTE) inQuotes = false;
    } else if (char === DQUOTE) {
      inQuotes = true;
    } else if (char === COMMA || i === header.length) {
      addElement(weights, header, start, i);
      start = i + 1;
    }
  }
  return weights;
}

/** One list element `codings [ weight ]` in header[start, end); malformed ones change nothing. */
function addElement(weights: Weights, header: string, start: number, end: number): void {
  let from = skipOws(header, start, end);
  let to = end;
  while (to > from && isOws(header.charCodeAt(to - 1))) to--;
  // RFC 9110 §5.6.1: empty list elements (", ,gzip,") are allowed and count for nothing.
  if (from === to) return;
  let nameEnd = from;
  while (
    nameEnd < to &&
    header.charCodeAt(nameEnd) !== SEMICOLON &&
    !isOws(header.charCodeAt(nameEnd))
  ) {
    nameEnd++;
  }
  const name = listedNameOf(header.slice(from, nameEnd));
  if (name === null) return;
  from = skipOws(header, nameEnd, to);
  let q = Q_MAX;
  if (from < to) {
    q = parseWeight(header, from, to);
    if (q === UNLISTED) return;
  }
  const previous = weights[name];
  weights[name] = previous === UNLISTED ? q : Math.min(previous, q);
}

function listedNameOf(token: string): ListedName | null {
  // RFC 9110 §8.4.1: content codings are case-insensitive.
  switch (token.toLowerCase()) {
    case "br":
      return "br";
    case "zstd":
      return "zstd";
    case "gzip":
    // RFC 9110 §8.4.1.3: a recipient SHOULD consider "x-gzip" equivalent to "gzip".
    case "x-gzip":
      return "gzip";
    case "identity":
      return "identity";
    case "*":
      return "star";
    default:
      return null;
  }
}

/**
 * RFC 9110 §12.4.2 `weight = OWS ";" OWS "q=" qvalue` in header[from, to), leading OWS already
 * skipped and trailing OWS trimmed; the qvalue in thousandths, or UNLISTED when malformed.
 * "q" is case-insensitive (§12.4.2), "=" takes no spaces around it.
 */
function parseWeight(header: string, from: number, to: number): number {
  if (header.charCodeAt(from) !== SEMICOLON) return UNLISTED;
  let i = skipOws(header, from + 1, to);
  if (i + 2 > to) return UNLISTED;
  const q = header.charCodeAt(i);
  if ((q !== LOWER_Q && q !== UPPER_Q) || header.charCodeAt(i + 1) !== EQUALS) return UNLISTED;
  i += 2;
  return parseQvalue(header, i, to);
}

/** RFC 9110 §12.4.2 `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, exactly. */
function parseQvalue(header: string, from: number, to: number): number {
  const length = to - from;
  if (length < 1 || length > 5) return UNLISTED;
  const first = header.charCodeAt(from);
  if (first !== DIGIT_0 && first !== DIGIT_1) return UNLISTED;
  if (length === 1) return first === DIGIT_1 ? Q_MAX : 0;
  if (header.charCodeAt(from + 1) !== DOT) return UNLISTED;
  let thousandths = 0;
  let scale = 100;
  for (let i = from + 2; i < to; i++) {
    const digit = header.charCodeAt(i) - DIGIT_0;
    if (digit < 0 || digit > 9) return UNLISTED;
    thousandths += digit * scale;
    scale /= 10;
  }
  if (first === DIGIT_1) return thousandths === 0 ? Q_MAX : UNLISTED;
  return thousandths;
}

function skipOws(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isOws(text.charCodeAt(i))) i++;
  return i;
}

/** RFC 9110 §5.6.3 OWS = *( SP / HTAB ). */
function isOws(char: number): boolean {
  return char === SP || char === HTAB;
}

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const LOWER_Q = 0x71;
const UPPER_Q = 0x51;
