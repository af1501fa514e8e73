/**
 * Property-based fuzzing of the request parser (no sockets), with fast-check. Three kinds of
 * input, each fed in a random chunking and compared with the same input fed whole:
 *
 * - random bytes, and requests assembled from near-valid parts (which reach deeper states);
 * - valid request sequences from a grammar (RFC 9112 §3, §5, §6, §7.1): methods, targets in every
 *   form with percent-escapes, versions, fields with OWS and obs-text, Content-Length and chunked
 *   bodies with extensions and trailers, leading empty lines;
 * - valid sequences mutated: bytes inserted, deleted or replaced, mostly by the bytes the grammar
 *   turns on (CR, LF, SP, HTAB, ":", ",", ";", digits, NUL, DEL, obs-text).
 *
 * Properties: next() never throws and always comes to rest (need-more, or one sticky error)
 * within a bounded number of calls; every error code has a status; every returned head spans at
 * least a minimal request and the heads and bodies together never claim more bytes than were
 * sent; results do not depend on how the input was split (STYLE.md rule 9); a valid sequence
 * parses to exactly its requests with their exact heads and framing.
 *
 * Runs scale with BERTH_FUZZ_RUNS (see scripts/fuzz.mjs); a failure prints fast-check's seed and
 * the shrunk input, which belongs in the regression table below.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import * as fc from "fast-check";
import { type ParseErrorCode, STATUS_FOR_PARSE_ERROR } from "../../src/http/parse-error.js";
import { RequestParser } from "../../src/http/request-parser.js";
import type {
  BodyFraming,
  RequestHead,
  RequestParserLimits,
  TargetForm,
} from "../../src/http/request-types.js";

// ---------------------------------------------------------------------------------------------
// Configuration

/** Runs per property: BERTH_FUZZ_RUNS when set (scripts/fuzz.mjs), else `ciRuns`, sized so the
 * whole file stays well under 5 s. */
function runsOr(ciRuns: number): number {
  const fromEnv = Number(process.env.BERTH_FUZZ_RUNS ?? "");
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : ciRuns;
}

/** A fixed seed from BERTH_FUZZ_SEED replays a reported failure. */
function seedOption(): { seed: number } | Record<string, never> {
  const seed = Number(process.env.BERTH_FUZZ_SEED ?? "");
  return Number.isInteger(seed) && process.env.BERTH_FUZZ_SEED !== undefined ? { seed } : {};
}

/** Every property reports the failing assertion's message with the seed and shrunk input. */
const REPORTING = { includeErrorInReport: true, ...seedOption() };

/** Small limits, so short random inputs cross every one of them. The valid-request grammar below
 * stays inside them by construction. */
const LIMITS: RequestParserLimits = {
  maxRequestLineBytes: 128,
  maxHeadBytes: 512,
  maxHeaderFields: 8,
  maxEmptyLinesBeforeRequest: 4,
  maxBodyBytes: 64,
};

/** The shortest request there is: "A / HTTP/1.0\r\n\r\n". A head shorter than this is a bug. */
const MIN_REQUEST_BYTES = 16;

// ---------------------------------------------------------------------------------------------
// Feeding the parser

type Event =
  | { readonly kind: "request"; readonly request: RequestHead }
  | { readonly kind: "error"; readonly code: ParseErrorCode; readonly inBody: boolean };

interface Trace {
  readonly events: readonly Event[];
  /** How the parser was left once every byte was pushed. */
  readonly idle: boolean;
  readonly bufferedBytes: number;
}

/** Cut points → chunks; "bytewise" → one byte per chunk. */
type Chunking = readonly number[] | "bytewise";

function split(input: Buffer, chunking: Chunking): Buffer[] {
  if (chunking === "bytewise") return [...input].map((_, at) => input.subarray(at, at + 1));
  const cuts = [...new Set(chunking.map((cut) => cut % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    chunks.push(input.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/**
 * Pushes each chunk (copied, so no chunk shares memory with another feed) and drains next()
 * after each push. Throws (failing the property) when next() throws, when it does not come to
 * rest within a bound, or when an error is not sticky.
 */
function feed(input: Buffer, chunking: Chunking): Trace {
  const parser = new RequestParser(LIMITS);
  const events: Event[] = [];
  let failed: Event | null = null;
  for (const chunk of split(input, chunking)) {
    parser.push(Buffer.from(chunk));
    // Each request consumes at least MIN_REQUEST_BYTES, so more results than this is a parser
    // answering without consuming.
    const bound = Math.floor(input.length / MIN_REQUEST_BYTES) + 2;
    for (let calls = 0; ; calls++) {
      if (calls > bound) throw new Error(`next() did not come to rest after ${calls} calls`);
      const result = parser.next();
      if (result.kind === "need-more") {
        if (failed !== null) throw new Error("need-more after an error: errors must be sticky");
        break;
      }
      if (result.kind === "request") {
        if (failed !== null) throw new Error("a request after an error: errors must be sticky");
        events.push({ kind: "request", request: result.request });
        continue;
      }
      const event: Event = { kind: "error", code: result.code, inBody: result.inBody };
      if (failed === null) {
        failed = event;
        events.push(event);
      } else if (!isDeepStrictEqual(failed, event)) {
        throw new Error(`error changed from ${show(failed)} to ${show(event)}`);
      }
      break;
    }
  }
  if (failed !== null) {
    const again = parser.next();
    if (again.kind !== "error" || again.code !== failed.code) {
      throw new Error(`next() after ${show(failed)} gave ${again.kind}: errors must be sticky`);
    }
  }
  return { events, idle: parser.isIdle, bufferedBytes: parser.bufferedBytes };
}

function show(event: Event): string {
  return event.kind === "error"
    ? `error ${event.code}${event.inBody ? " (in body)" : ""}`
    : `request ${event.request.method} ${event.request.target}`;
}

function showTrace(trace: Trace): string {
  return `[${trace.events.map(show).join(", ")}]`;
}

/** The properties every input must have, whatever its bytes; the same events at every chunking. */
function checkAnyInput(input: Buffer, chunking: Chunking): void {
  const whole = feed(input, []);
  const chunked = feed(input, chunking);

  for (const event of [...whole.events, ...chunked.events]) {
    if (event.kind === "error") {
      assert.ok(
        Object.hasOwn(STATUS_FOR_PARSE_ERROR, event.code),
        `${event.code} has no status in STATUS_FOR_PARSE_ERROR`,
      );
    }
  }
  assertClaimsFit(input, whole);
  assertClaimsFit(input, chunked);
  if (isDeepStrictEqual(chunked.events, whole.events)) return;
  assert.fail(
    `parse(${showInput(input)}) at chunking ${JSON.stringify(chunking)} = ${showTrace(chunked)}, ` +
      `whole = ${showTrace(whole)}`,
  );
}

/** Heads are at least a minimal request long, and heads plus the bodies of requests that were
 * followed by another never add up to more than the input. */
function assertClaimsFit(input: Buffer, trace: Trace): void {
  let claimed = 0;
  const requests = trace.events.flatMap((e) => (e.kind === "request" ? [e.request] : []));
  for (const [index, request] of requests.entries()) {
    assert.ok(
      request.headBytes >= MIN_REQUEST_BYTES,
      `request ${index} has headBytes ${request.headBytes}, below a minimal request`,
    );
    claimed += request.headBytes;
    // A body is complete once another request follows it.
    if (index < requests.length - 1) claimed += wireBodyBytesAtLeast(request.body);
  }
  assert.ok(claimed <= input.length, `heads and bodies claim ${claimed} of ${input.length} bytes`);
}

function wireBodyBytesAtLeast(body: BodyFraming): number {
  switch (body.kind) {
    case "none":
      return 0;
    case "length":
      return body.bytes;
    case "chunked":
      return "0\r\n\r\n".length;
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries: random bytes and near-HTTP requests

const chunkingArb: fc.Arbitrary<Chunking> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat({ max: 4096 }), { maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant("bytewise" as const) },
);

const randomBytesArb = fc
  .uint8Array({ maxLength: 400, size: "max" })
  .map((bytes) => Buffer.from(bytes));

/** Requests assembled from near-valid parts, mostly the framing fields and chunked pieces that
 * smuggling plays with, so random runs reach field, body and trailer states. */
const pick = (...parts: string[]): fc.Arbitrary<string> => fc.constantFrom(...parts);
/** `valid` most of the time, else one of `others`: every part of a request is usually right. */
const mostly = (valid: string, ...others: string[]): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(valid) },
    { weight: 1, arbitrary: pick(...others) },
  );
const soupEolArb = mostly("\r\n", "\n", "\r", "\r\r\n", "\n\r");
const CL_VALUES = [
  "0",
  "5",
  "00",
  "1, 1",
  "5, 6",
  "+5",
  "-1",
  "0x5",
  "5 5",
  "",
  "99999999999999999999",
];
const TE_VALUES = [
  "chunked",
  "Chunked",
  "gzip, chunked",
  "chunked, identity",
  " chunked ",
  "chunked;a=b",
  "",
];
const soupFieldArb = fc
  .tuple(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(pick("Content-Length", "content-length"), pick(...CL_VALUES)),
      },
      {
        weight: 4,
        arbitrary: fc.tuple(pick("Transfer-Encoding", "transfer-encoding"), pick(...TE_VALUES)),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(
          pick("Connection", "Expect", "X-A", "Host"),
          pick("close", "keep-alive", "100-continue", "h:8", "a\x00b", "\x80"),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(
          pick("Host ", "Transfer-Encoding ", " Transfer-Encoding", "T\x00E", ""),
          pick(...TE_VALUES, ...CL_VALUES),
        ),
      },
    ),
    mostly(": ", ":", ":\t", " :", ""),
    soupEolArb,
  )
  .map(([[name, value], colon, eol]) => `${name}${colon}${value}${eol}`);
const soupBodyArb = fc
  .array(
    pick(
      "0\r\n\r\n",
      "5\r\nhello\r\n",
      "5;a=b\r\n",
      "5 ;a\r\n",
      "hello",
      "\r\n",
      "0\r\n",
      "X-T: 1\r\n",
      " x\r\n",
      "ffffffffffffffff\r\n",
      "FFFFFFFFFFFFFFFFF",
      ";",
      " ",
      "\n",
      "\r",
      "a",
      "G",
      "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(""));
const soupRequestArb = fc
  .tuple(
    mostly("", "\r\n"),
    fc.oneof(
      { weight: 12, arbitrary: pick("GET", "POST", "HEAD") },
      { weight: 1, arbitrary: pick("OPTIONS", "CONNECT", "G\x00T", "") },
    ),
    mostly(" ", "  ", "\t", ""),
    fc.oneof(
      { weight: 12, arbitrary: pick("/", "/a%20b?x=1", "http://h:1/p") },
      { weight: 1, arbitrary: pick("*", "h:80", "/#", "/\x7f", "/\x80", "") },
    ),
    mostly(" ", "  ", ""),
    fc.oneof(
      { weight: 12, arbitrary: pick("HTTP/1.1", "HTTP/1.1", "HTTP/1.0") },
      { weight: 1, arbitrary: pick("HTTP/2.0", "HTTP/1.9", "http/1.1", "HTTP/1.1 ") },
    ),
    soupEolArb,
    mostly("Host: t\r\n", "", "Host: t\r\nHost: u\r\n", "Host: a b\r\n"),
    fc.array(soupFieldArb, { maxLength: 5 }).map((fields) => fields.join("")),
    soupEolArb,
    soupBodyArb,
  )
  .map((parts) => parts.join(""));
const soupArb = fc
  .array(soupRequestArb, { minLength: 1, maxLength: 4 })
  .map((requests) => Buffer.from(requests.join(""), "latin1"));

// ---------------------------------------------------------------------------------------------
// Arbitraries: valid requests (RFC 9112)

/** A generated request: its bytes and exactly what the parser must return for it. */
interface ValidRequest {
  readonly wire: string;
  readonly want: RequestHead;
}

const charsOf = (text: string): fc.Arbitrary<string> => fc.constantFrom(...text.split(""));
const stringOf = (chars: fc.Arbitrary<string>, minLength: number, maxLength: number) =>
  fc.string({ unit: chars, minLength, maxLength });

const ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
const HEXDIG = "0123456789abcdefABCDEF";
/** RFC 9110 §5.6.2 tchar. */
const TCHARS = `${ALPHA}${DIGITS}!#$%&'*+-.^_\`|~`;
const tokenArb = (maxLength: number) => stringOf(charsOf(TCHARS), 1, maxLength);

/** RFC 3986 pchar, with percent-escapes as one unit; also the bytes browsers send unescaped. */
const pcharArb = fc.oneof(
  { weight: 6, arbitrary: charsOf(`${ALPHA}${DIGITS}-._~!$&'()*+,;=:@`) },
  { weight: 2, arbitrary: fc.tuple(charsOf(HEXDIG), charsOf(HEXDIG)).map(([a, b]) => `%${a}${b}`) },
  { weight: 1, arbitrary: charsOf('|^{}\\`[]"<>') },
);
const pathArb = fc
  .array(stringOf(pcharArb, 0, 4), { minLength: 1, maxLength: 3 })
  .map((segments) => `/${segments.join("/")}`);
const queryArb = fc.option(
  stringOf(fc.oneof(pcharArb, charsOf("/?")), 0, 6).map((q) => `?${q}`),
  { nil: "" },
);
const regNameArb = stringOf(charsOf(`${ALPHA}${DIGITS}-.`), 1, 12);
const portArb = fc.option(
  fc.integer({ min: 0, max: 65535 }).map((port) => `:${port}`),
  { nil: "" },
);
const authorityArb = fc.tuple(regNameArb, portArb).map(([name, port]) => `${name}${port}`);

interface RequestLineParts {
  readonly method: string;
  readonly target: string;
  readonly form: TargetForm;
  readonly path: string;
  readonly query: string;
  /** The authority given by the target (absolute- and authority-form), else null. */
  readonly authority: string | null;
}

/** Any method but CONNECT, which takes only authority-form (RFC 9112 §3.2.3). */
const methodArb = fc.oneof(
  fc.constantFrom("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"),
  tokenArb(8).filter((method) => method !== "CONNECT"),
);

const requestLineArb: fc.Arbitrary<RequestLineParts> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(methodArb, pathArb, queryArb).map(originForm) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(methodArb, fc.constantFrom("http", "https", "HTTP"), authorityArb, pathArb, queryArb)
      .map(([method, scheme, authority, path, query]) => ({
        method,
        target: `${scheme}://${authority}${path}${query}`,
        form: "absolute" as const,
        path,
        query,
        authority,
      })),
  },
  {
    weight: 1,
    arbitrary: fc.constant({
      method: "OPTIONS",
      target: "*",
      form: "asterisk" as const,
      path: "*",
      query: "",
      authority: null,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(regNameArb, fc.integer({ min: 1, max: 65535 })).map(([name, port]) => ({
      method: "CONNECT",
      target: `${name}:${port}`,
      form: "authority" as const,
      path: "",
      query: "",
      authority: `${name}:${port}`,
    })),
  },
);

function originForm([method, path, query]: [string, string, string]): RequestLineParts {
  return { method, target: `${path}${query}`, form: "origin", path, query, authority: null };
}

const owsArb = stringOf(charsOf(" \t"), 0, 2);
/** RFC 9110 §5.5 field-vchar: VCHAR and obs-text. */
const vcharArb = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  )
  .map((byte) => String.fromCharCode(byte));
/** A field value as the parser returns it: empty, or starting and ending with a field-vchar. */
const fieldValueArb = fc.oneof(
  fc.constant(""),
  fc
    .tuple(vcharArb, stringOf(fc.oneof(vcharArb, charsOf(" \t")), 0, 14), vcharArb)
    .map(([first, middle, last]) => `${first}${middle}${last}`),
  vcharArb,
);

interface FieldLine {
  /** As written on the wire, with its CRLF. */
  readonly wire: string;
  readonly name: string;
  readonly value: string;
}

const fieldLine = (name: string, value: string, before = " ", after = ""): FieldLine => ({
  wire: `${name}:${before}${value}${after}\r\n`,
  name: name.toLowerCase(),
  value,
});

/** Names whose meaning the grammar controls itself (framing and authority). */
const RESERVED_NAMES = new Set(["host", "content-length", "transfer-encoding"]);

const extraFieldArb = fc
  .tuple(tokenArb(10), owsArb, fieldValueArb, owsArb)
  .filter(([name]) => !RESERVED_NAMES.has(name.toLowerCase()))
  .map(([name, before, value, after]) => fieldLine(name, value, before, after));

type BodyPlan =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly field: string; readonly bytes: string }
  | { readonly kind: "chunked"; readonly field: string; readonly wire: string };

const bodyBytesArb = (maxLength: number) =>
  fc.uint8Array({ maxLength }).map((bytes) => Buffer.from(bytes).toString("latin1"));

/** RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ). */
const quotedStringArb = stringOf(
  fc.oneof(
    { weight: 6, arbitrary: vcharArb.filter((c) => c !== '"' && c !== "\\") },
    { weight: 1, arbitrary: charsOf(" \t") },
    { weight: 1, arbitrary: vcharArb.map((c) => `\\${c}`) },
  ),
  0,
  8,
).map((text) => `"${text}"`);
const chunkExtArb = stringOf(
  fc
    .tuple(
      owsArb,
      owsArb,
      tokenArb(6),
      fc.option(fc.tuple(owsArb, owsArb, fc.oneof(tokenArb(6), quotedStringArb))),
    )
    .map(([bws1, bws2, name, value]) =>
      value === null
        ? `${bws1};${bws2}${name}`
        : `${bws1};${bws2}${name}${value[0]}=${value[1]}${value[2]}`,
    ),
  0,
  2,
);
/** A chunk-size: hex in either case, with leading zeros, never more than 16 digits. */
const chunkSizeText = (size: number, zeros: number, upper: boolean): string => {
  const hex = size.toString(16);
  return `${"0".repeat(zeros)}${upper ? hex.toUpperCase() : hex}`;
};
const chunkArb = fc
  .tuple(
    bodyBytesArb(20).filter((d) => d.length > 0),
    fc.nat({ max: 3 }),
    fc.boolean(),
    chunkExtArb,
  )
  .map(
    ([data, zeros, upper, ext]) =>
      `${chunkSizeText(data.length, zeros, upper)}${ext}\r\n${data}\r\n`,
  );
const trailerArb = fc
  .tuple(tokenArb(10), owsArb, fieldValueArb, owsArb)
  .map(([name, before, value, after]) => `${name}:${before}${value}${after}\r\n`);
const chunkedBodyArb = fc
  .tuple(
    fc.array(chunkArb, { maxLength: 3 }),
    fc.nat({ max: 2 }),
    chunkExtArb,
    fc.array(trailerArb, { maxLength: 2 }),
  )
  .map(
    ([chunks, zeros, ext, trailers]) =>
      `${chunks.join("")}${"0".repeat(zeros + 1)}${ext}\r\n${trailers.join("")}\r\n`,
  );

const bodyPlanArb = (httpMinor: 0 | 1): fc.Arbitrary<BodyPlan> => {
  const none = fc.constant<BodyPlan>({ kind: "none" });
  const length = fc
    .tuple(bodyBytesArb(LIMITS.maxBodyBytes), fc.nat({ max: 2 }), fc.boolean(), owsArb)
    .map(([bytes, zeros, twice, ows]): BodyPlan => {
      const text = `${"0".repeat(zeros)}${bytes.length}`;
      // RFC 9110 §8.6: a list of identical values is one value.
      const value = twice ? `${text},${ows}${bytes.length}` : text;
      return { kind: "length", field: `Content-Length: ${value}${ows}\r\n`, bytes };
    });
  const chunked = fc
    .tuple(
      fc.constantFrom("chunked", "Chunked", "CHUNKED", " chunked\t", ", chunked"),
      chunkedBodyArb,
    )
    .map(
      ([coding, wire]): BodyPlan => ({
        kind: "chunked",
        field: `Transfer-Encoding:${coding.startsWith(" ") ? "" : " "}${coding}\r\n`,
        wire,
      }),
    );
  // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing; only 1.1 gets chunked.
  return httpMinor === 1 ? fc.oneof(none, length, chunked) : fc.oneof(none, length);
};

const versionArb = fc.constantFrom(
  { text: "HTTP/1.1", minor: 1 as const },
  { text: "HTTP/1.1", minor: 1 as const },
  { text: "HTTP/1.0", minor: 0 as const },
  { text: "HTTP/1.7", minor: 1 as const },
);

const validRequestArb: fc.Arbitrary<ValidRequest> = fc
  .record({
    emptyLines: fc.oneof(
      { weight: 5, arbitrary: fc.constant(0) },
      fc.nat({ max: LIMITS.maxEmptyLinesBeforeRequest }),
    ),
    line: requestLineArb,
    version: versionArb,
    extra: fc.array(extraFieldArb, { maxLength: 5 }),
    host: fc.option(
      fc.tuple(
        fc.constantFrom("Host", "host", "HOST"),
        owsArb,
        fc.oneof(authorityArb, fc.constant("")),
      ),
      { freq: 4 },
    ),
    hostAt: fc.nat(),
    bodyAt: fc.nat(),
  })
  .chain((parts) => bodyPlanArb(parts.version.minor).map((body) => ({ ...parts, body })))
  .map(buildRequest);

function buildRequest(parts: {
  emptyLines: number;
  line: RequestLineParts;
  version: { text: string; minor: 0 | 1 };
  extra: FieldLine[];
  host: [string, string, string] | null;
  hostAt: number;
  bodyAt: number;
  body: BodyPlan;
}): ValidRequest {
  const { line, version, body } = parts;
  const fields = [...parts.extra];
  // RFC 9112 §3.2: HTTP/1.1 needs exactly one Host; HTTP/1.0 may go without.
  const hostParts = parts.host ?? (version.minor === 1 ? (["Host", " ", "t"] as const) : null);
  let hostField: string | null = null;
  if (hostParts !== null) {
    const [name, ows, value] = hostParts;
    hostField = value;
    fields.splice(parts.hostAt % (fields.length + 1), 0, fieldLine(name, value, ows, ows));
  }
  if (body.kind !== "none") {
    const wire = body.field;
    const colon = wire.indexOf(":");
    const name = wire.slice(0, colon);
    const value = wire.slice(colon + 1, -2).replace(/^[ \t]+|[ \t]+$/g, "");
    fields.splice(parts.bodyAt % (fields.length + 1), 0, { wire, name: name.toLowerCase(), value });
  }
  const requestLine = `${line.method} ${line.target} ${version.text}\r\n`;
  const fieldLines = fields.map((f) => f.wire).join("");
  const head = `${"\r\n".repeat(parts.emptyLines)}${requestLine}${fieldLines}\r\n`;
  const bodyWire = body.kind === "length" ? body.bytes : body.kind === "chunked" ? body.wire : "";
  const framing: BodyFraming =
    body.kind === "chunked"
      ? { kind: "chunked" }
      : body.kind === "length" && body.bytes.length > 0
        ? { kind: "length", bytes: body.bytes.length }
        : { kind: "none" };
  const want: RequestHead = {
    method: line.method,
    target: line.target,
    form: line.form,
    path: line.path,
    query: line.query,
    httpMinor: version.minor,
    versionText: version.text,
    host: line.authority ?? hostField ?? "",
    fields: fields.flatMap((f) => [f.name, f.value]),
    keepAlive: expectedKeepAlive(fields, version.minor),
    expectContinue:
      version.minor === 1 &&
      fields.some((f) => f.name === "expect" && f.value.toLowerCase() === "100-continue"),
    body: framing,
    headBytes: head.length,
  };
  return { wire: head + bodyWire, want };
}

/** RFC 9112 §9.3: close wins; HTTP/1.1 persists by default; HTTP/1.0 only with keep-alive. */
function expectedKeepAlive(fields: readonly FieldLine[], httpMinor: 0 | 1): boolean {
  const options = fields
    .filter((f) => f.name === "connection")
    .flatMap((f) => f.value.split(","))
    .map((option) => option.replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase());
  if (options.includes("close")) return false;
  return httpMinor === 1 || options.includes("keep-alive");
}

const validSequenceArb = fc.array(validRequestArb, { minLength: 1, maxLength: 4 });

// ---------------------------------------------------------------------------------------------
// Arbitraries: mutations

/** The bytes the grammar turns on, and a few it must refuse. */
const INTERESTING_BYTES = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x3d, 0x22, 0x5c, 0x2f, 0x3f, 0x23, 0x25, 0x30, 0x31,
  0x35, 0x39, 0x61, 0x66, 0x41, 0x46, 0x2b, 0x2d, 0x00, 0x0b, 0x0c, 0x7f, 0x80, 0xff,
];
const mutationByteArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INTERESTING_BYTES) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

type Mutation =
  | { readonly kind: "insert"; readonly at: number; readonly byte: number }
  | { readonly kind: "delete"; readonly at: number }
  | { readonly kind: "replace"; readonly at: number; readonly byte: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: mutationByteArb }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), byte: mutationByteArb }),
);

function mutate(wire: string, mutations: readonly Mutation[]): Buffer {
  const bytes = [...Buffer.from(wire, "latin1")];
  for (const mutation of mutations) {
    const at = mutation.at % (bytes.length + 1);
    switch (mutation.kind) {
      case "insert":
        bytes.splice(at, 0, mutation.byte);
        break;
      case "delete":
        bytes.splice(at, 1);
        break;
      case "replace":
        if (at < bytes.length) bytes[at] = mutation.byte;
        break;
    }
  }
  return Buffer.from(bytes);
}

const mutatedArb = fc
  .tuple(validSequenceArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
  .map(([requests, mutations]) => mutate(requests.map((r) => r.wire).join(""), mutations));

// ---------------------------------------------------------------------------------------------
// Properties

const SHOWN_INPUT_CHARS = 200;

/** The input as a JS string literal, cut short when long. */
function showInput(input: Buffer): string {
  const text = input.toString("latin1");
  if (text.length <= SHOWN_INPUT_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, SHOWN_INPUT_CHARS))}+…(${text.length} bytes)`;
}

describe("request parser fuzzing", () => {
  test("random bytes: never throws, comes to rest, chunking-independent", () => {
    fc.assert(
      fc.property(randomBytesArb, chunkingArb, (input, chunking) => {
        checkAnyInput(input, chunking);
      }),
      { numRuns: runsOr(400), ...REPORTING },
    );
  });

  test("near-HTTP requests: never throws, comes to rest, chunking-independent", () => {
    fc.assert(
      fc.property(soupArb, chunkingArb, (input, chunking) => {
        checkAnyInput(input, chunking);
      }),
      { numRuns: runsOr(600), ...REPORTING },
    );
  });

  test("valid sequences: exactly the generated requests, at any chunking", () => {
    fc.assert(
      fc.property(validSequenceArb, chunkingArb, (requests, chunking) => {
        const input = Buffer.from(requests.map((r) => r.wire).join(""), "latin1");
        const want = requests.map((r): Event => ({ kind: "request", request: r.want }));
        for (const trace of [feed(input, []), feed(input, chunking)]) {
          if (isDeepStrictEqual(trace.events, want) && trace.idle && trace.bufferedBytes === 0) {
            continue;
          }
          assert.deepStrictEqual(
            trace.events,
            want,
            `parse(${showInput(input)}) = ${showTrace(trace)}, want ${requests.length} request(s)`,
          );
          assert.fail(
            `parse(${showInput(input)}) left the parser ${trace.idle ? "idle" : "busy"} ` +
              `with ${trace.bufferedBytes} bytes buffered, want idle with none`,
          );
        }
      }),
      { numRuns: runsOr(400), ...REPORTING },
    );
  });

  test("mutated valid sequences: never throws, comes to rest, chunking-independent", () => {
    fc.assert(
      fc.property(mutatedArb, chunkingArb, (input, chunking) => {
        checkAnyInput(input, chunking);
      }),
      { numRuns: runsOr(600), ...REPORTING },
    );
  });

  // Regression for the limit-order bug (a line crossing a limit and ending badly gave a
  // chunking-dependent code): random bytes with the failure ending the run at once.
  test("random bytes, strictly: the same error code at every chunking", () => {
    fc.assert(
      fc.property(randomBytesArb, chunkingArb, (input, chunking) => {
        checkAnyInput(input, chunking);
      }),
      { numRuns: runsOr(200), ...REPORTING, endOnFailure: true },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Regressions found by fuzzing: exact inputs, each fed whole, split at every byte and bytewise.

type RegressionRow = readonly [name: string, input: string, want: ParseErrorCode];

// biome-ignore format: one row per line
const regressions: readonly RegressionRow[] = [
  ["request-line over the limit, ended by a bare LF", `GET /${"a".repeat(130)} HTTP/1.1\n`,                                        "REQUEST_LINE_TOO_LONG"],
  ["request-line over the line and head limits",      `GET /${"a".repeat(600)} HTTP/1.1\r\nHost: t\r\n\r\n`,                     "REQUEST_LINE_TOO_LONG"],
  ["a 9th field line ended by a bare LF",             `GET / HTTP/1.1\r\nHost: t\r\n${"X-F: 1\r\n".repeat(7)}X\n\r\n`,         "TOO_MANY_FIELDS"],
  ["head over the limit, its last line ending in LF", `GET / HTTP/1.1\r\nHost: t\r\nX-Pad: ${"p".repeat(600)}\n\r\n`,           "HEAD_TOO_LARGE"],
  ["request-line over the limit, ended by CRLF",      `GET /${"a".repeat(130)} HTTP/1.1\r\nHost: t\r\n\r\n`,                     "REQUEST_LINE_TOO_LONG"],
];

/** The error code at each chunking: whole, every two-way split, bytewise. */
function codesAtEveryChunking(input: Buffer): Map<string, string> {
  const codes = new Map<string, string>();
  const chunkings: [string, Chunking][] = [
    ["whole", []],
    ["bytewise", "bytewise"],
  ];
  for (let at = 1; at < input.length; at++) chunkings.push([`split@${at}`, [at]]);
  for (const [name, chunking] of chunkings) {
    const last = feed(input, chunking).events.at(-1);
    codes.set(name, last?.kind === "error" ? last.code : "no error");
  }
  return codes;
}

describe("request parser regressions found by fuzzing", () => {
  for (const [name, text, want] of regressions) {
    test(`${name}: ${want}`, () => {
      const input = Buffer.from(text, "latin1");
      const wrong = [...codesAtEveryChunking(input)].filter(([, code]) => code !== want);
      const got = wrong
        .map(([chunking, code]) => `${chunking}: ${code}`)
        .slice(0, 3)
        .join(", ");
      assert.equal(
        wrong.length,
        0,
        `parse(${showInput(input)}) = ${got}, want ${want} at every chunking`,
      );
    });
  }
});
