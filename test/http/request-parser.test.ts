/**
 * Table tests for the incremental request parser. Every row is replayed at every chunking from
 * chunkings() (whole, every two-way split, byte by byte) and must give the same events each time
 * (STYLE.md rule 9). Inputs are latin1 strings so any byte can be written as "\xNN".
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { ParseErrorCode } from "../../src/http/parse-error.js";
import { RequestParser } from "../../src/http/request-parser.js";
import type {
  BodyFraming,
  ParseResult,
  RequestHead,
  RequestParserLimits,
  TargetForm,
} from "../../src/http/request-types.js";
import { chunkings } from "../helpers/chunkings.js";

// ---------------------------------------------------------------------------------------------
// Runner

/** What a row expects to see of a returned request: every RequestHead field except headBytes
 * (which has its own table below). */
interface RequestSummary {
  readonly method: string;
  readonly target: string;
  readonly form: TargetForm;
  readonly path: string;
  readonly query: string;
  readonly httpMinor: 0 | 1;
  readonly versionText: string;
  readonly host: string;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  readonly body: BodyFraming;
  readonly fields: readonly string[];
}

interface ErrorEvent {
  /** A ParseErrorCode, or a description of what a dead parser answered instead. */
  readonly error: string;
  readonly inBody: boolean;
}

type ParseEvent = RequestSummary | ErrorEvent;

type Limits = Partial<RequestParserLimits>;

interface Row {
  readonly name: string;
  /** latin1: one char per byte. */
  readonly input: string;
  readonly limits?: Limits;
  readonly want: readonly ParseEvent[];
}

function summarizeBody(body: BodyFraming): BodyFraming {
  switch (body.kind) {
    case "none":
      return { kind: "none" };
    case "length":
      return { kind: "length", bytes: body.bytes };
    case "chunked":
      return { kind: "chunked" };
  }
}

/** A plain-object copy, so a parser returning class instances or extra fields still compares. */
function summarize(head: RequestHead): RequestSummary {
  return {
    method: head.method,
    target: head.target,
    form: head.form,
    path: head.path,
    query: head.query,
    httpMinor: head.httpMinor,
    versionText: head.versionText,
    host: head.host,
    keepAlive: head.keepAlive,
    expectContinue: head.expectContinue,
    body: summarizeBody(head.body),
    fields: [...head.fields],
  };
}

function describeResult(result: ParseResult): string {
  return result.kind === "error" ? `error ${result.code} inBody=${result.inBody}` : result.kind;
}

/** More results than any row can hold: a parser that keeps answering without consuming is a bug,
 * and the test should fail rather than hang. */
const MAX_RESULTS_PER_PUSH = 100;

/** Pushes each chunk and drains next() after each push, until need-more or the first error.
 * transient: each chunk is pushed as a view of one scratch buffer, followed by ownInput() and
 * then overwritten, as berth's shared read buffer is by the next read: a parser that kept a
 * reference to the caller's bytes would then parse garbage. */
function replay(chunks: readonly Buffer[], limits?: Limits, transient = false): ParseEvent[] {
  const parser = new RequestParser(limits);
  const events: ParseEvent[] = [];
  const scratch = transient
    ? Buffer.alloc(Math.max(1, ...chunks.map((chunk) => chunk.length)))
    : null;
  for (const given of chunks) {
    let chunk = given;
    if (scratch !== null) {
      given.copy(scratch);
      chunk = scratch.subarray(0, given.length);
    }
    parser.push(chunk);
    for (let results = 0; ; results++) {
      if (results === MAX_RESULTS_PER_PUSH) {
        events.push({ error: `no need-more after ${results} results`, inBody: false });
        return events;
      }
      const result = parser.next();
      if (result.kind === "need-more") break;
      if (result.kind === "request") {
        events.push(summarize(result.request));
        continue;
      }
      events.push({ error: result.code, inBody: result.inBody });
      // A dead parser answers the same error again; anything else shows up as one more event.
      const again = parser.next();
      if (again.kind !== "error" || again.code !== result.code || again.inBody !== result.inBody) {
        events.push({
          error: `next() after the error gave ${describeResult(again)}`,
          inBody: false,
        });
      }
      return events;
    }
    if (scratch !== null) {
      parser.ownInput();
      scratch.fill("\x7f");
    }
  }
  return events;
}

const SHOWN_INPUT_CHARS = 160;

/** The input as a JS string literal, shortened when a limit row makes it long. */
function show(input: string): string {
  if (input.length <= SHOWN_INPUT_CHARS) return JSON.stringify(input);
  return `${JSON.stringify(input.slice(0, SHOWN_INPUT_CHARS))}+…(${input.length} bytes)`;
}

function call(input: string, limits: Limits | undefined): string {
  return limits === undefined
    ? `parse(${show(input)})`
    : `parse(${show(input)}, ${JSON.stringify(limits)})`;
}

function checkRow({ input, limits, want }: Row): void {
  const bytes = Buffer.from(input, "latin1");
  for (const { name, chunks } of chunkings(bytes)) {
    for (const transient of [false, true]) {
      const got = replay(chunks, limits, transient);
      // Build the message only on failure: limit rows have thousands of chunkings.
      if (isDeepStrictEqual(got, want)) continue;
      assert.deepStrictEqual(
        got,
        want,
        `${call(input, limits)} ${name}${transient ? " (transient chunks)" : ""} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
      );
    }
  }
}

function runTable(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    for (const row of rows) test(row.name, () => checkRow(row));
  });
}

// ---------------------------------------------------------------------------------------------
// Row builders

/** The summary of `GET / HTTP/1.1` with `Host: a`; rows override what differs. */
function req(overrides: Partial<RequestSummary> = {}): RequestSummary {
  return {
    method: "GET",
    target: "/",
    form: "origin",
    path: "/",
    query: "",
    httpMinor: 1,
    versionText: "HTTP/1.1",
    host: "a",
    keepAlive: true,
    expectContinue: false,
    body: { kind: "none" },
    fields: ["host", "a"],
    ...overrides,
  };
}

/** The summary of `GET / HTTP/1.0` with no fields. */
function req10(overrides: Partial<RequestSummary> = {}): RequestSummary {
  return req({
    httpMinor: 0,
    versionText: "HTTP/1.0",
    host: "",
    keepAlive: false,
    fields: [],
    ...overrides,
  });
}

/** A request for `target` on HTTP/1.1 with `Host: a`. */
function reqTo(target: string, path: string, query = ""): RequestSummary {
  return req({ target, path, query });
}

function err(code: ParseErrorCode, inBody = false): ErrorEvent {
  return { error: code, inBody };
}

/** `GET / HTTP/1.1`, `Host: a`, then `fieldLines` (each ending in CRLF), then the empty line. */
function h11(fieldLines: string): string {
  return `GET / HTTP/1.1\r\nHost: a\r\n${fieldLines}\r\n`;
}

/** `GET / HTTP/1.0`, then `fieldLines`, then the empty line. */
function h10(fieldLines: string): string {
  return `GET / HTTP/1.0\r\n${fieldLines}\r\n`;
}

/** A head with `requestLine` and `Host: a`. */
function line(requestLine: string): string {
  return `${requestLine}\r\nHost: a\r\n\r\n`;
}

/** The fields list of an h11() head: host first. */
function f(...rest: string[]): string[] {
  return ["host", "a", ...rest];
}

/** A `POST / HTTP/1.1` head with `Host: a` and `Content-Length: value`. */
function postCL(value: string): string {
  return `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${value}\r\n\r\n`;
}

function postedCL(value: string, bytes: number): RequestSummary {
  return req({
    method: "POST",
    body: { kind: "length", bytes },
    fields: f("content-length", value),
  });
}

const G = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
const G2 = "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
const R = req();
const R2 = reqTo("/2", "/2");
const CL5 = postCL("5");
const POSTED5 = postedCL("5", 5);
/** A `POST / HTTP/1.1` head announcing a chunked body; the row appends the body. */
const TE = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
const CHUNKED = req({
  method: "POST",
  body: { kind: "chunked" },
  fields: f("transfer-encoding", "chunked"),
});
/** A well-formed chunked body: hello, then the last chunk and an empty trailer section. */
const HELLO_CHUNKED = "5\r\nhello\r\n0\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// Tables

// biome-ignore format: one row per line
const requestLineRows: readonly Row[] = [
  { name: "GET origin-form HTTP/1.1 with Host", input: G, want: [R] },
  { name: "HTTP/1.2 is processed as HTTP/1.1 (RFC 9112 §2.3)", input: line("GET / HTTP/1.2"), want: [req({ versionText: "HTTP/1.2" })] },
  { name: "HTTP/1.9 is processed as HTTP/1.1", input: line("GET / HTTP/1.9"), want: [req({ versionText: "HTTP/1.9" })] },
  { name: "method M-SEARCH is a token", input: line("M-SEARCH / HTTP/1.1"), want: [req({ method: "M-SEARCH" })] },
  { name: "unknown method FOO is left to the server", input: line("FOO / HTTP/1.1"), want: [req({ method: "FOO" })] },
  { name: "lowercase method keeps its case (RFC 9110 §9.1)", input: line("get / HTTP/1.1"), want: [req({ method: "get" })] },
  { name: "method of every tchar", input: line("!#$%&'*+-.^_`|~09Az / HTTP/1.1"), want: [req({ method: "!#$%&'*+-.^_`|~09Az" })] },
  { name: "path and query split at the first ?", input: line("GET /a/b?x=1&y HTTP/1.1"), want: [reqTo("/a/b?x=1&y", "/a/b", "?x=1&y")] },
  { name: "empty query keeps its ?", input: line("GET /? HTTP/1.1"), want: [reqTo("/?", "/", "?")] },
  { name: "query may hold ? and /", input: line("GET /a?b?c/d HTTP/1.1"), want: [reqTo("/a?b?c/d", "/a", "?b?c/d")] },
  { name: "path stays percent-encoded", input: line("GET /a%20b HTTP/1.1"), want: [reqTo("/a%20b", "/a%20b")] },
  { name: "path with empty first segment", input: line("GET //a HTTP/1.1"), want: [reqTo("//a", "//a")] },
  { name: "visible ASCII | { } ^ in the target", input: line("GET /a|b{c}^ HTTP/1.1"), want: [reqTo("/a|b{c}^", "/a|b{c}^")] },
  { name: "absolute-form authority overrides Host (RFC 9112 §3.2.2)", input: "GET http://Example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n", want: [req({ target: "http://Example.com:8080/p?q", form: "absolute", path: "/p", query: "?q", host: "Example.com:8080", fields: ["host", "other"] })] },
  { name: "absolute-form without a path has path /", input: "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", want: [req({ target: "http://h", form: "absolute", host: "h", fields: ["host", "h"] })] },
  { name: "absolute-form with a query but no path", input: "GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n", want: [req({ target: "http://h?x", form: "absolute", query: "?x", host: "h", fields: ["host", "h"] })] },
  { name: "absolute-form scheme is case-insensitive", input: "GET HTTP://h/x HTTP/1.1\r\nHost: h\r\n\r\n", want: [req({ target: "HTTP://h/x", form: "absolute", path: "/x", host: "h", fields: ["host", "h"] })] },
  { name: "absolute-form https", input: "GET https://h/x HTTP/1.1\r\nHost: h\r\n\r\n", want: [req({ target: "https://h/x", form: "absolute", path: "/x", host: "h", fields: ["host", "h"] })] },
  { name: "absolute-form IPv6 literal", input: "GET http://[::1]:8080/ HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", want: [req({ target: "http://[::1]:8080/", form: "absolute", host: "[::1]:8080", fields: ["host", "[::1]:8080"] })] },
  { name: "absolute-form with an empty Host field", input: "GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n", want: [req({ target: "http://h/", form: "absolute", host: "h", fields: ["host", ""] })] },
  { name: "asterisk-form OPTIONS", input: line("OPTIONS * HTTP/1.1"), want: [req({ method: "OPTIONS", target: "*", form: "asterisk", path: "*" })] },
  { name: "authority-form CONNECT", input: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", want: [req({ method: "CONNECT", target: "example.com:443", form: "authority", path: "", host: "example.com:443", fields: ["host", "example.com:443"] })] },

  { name: "double space after method", input: line("GET  / HTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "double space before version", input: line("GET /  HTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "missing version", input: line("GET /"), want: [err("BAD_REQUEST_LINE")] },
  { name: "method alone", input: line("GET"), want: [err("BAD_REQUEST_LINE")] },
  { name: "space after version", input: line("GET / HTTP/1.1 "), want: [err("BAD_REQUEST_LINE")] },
  { name: "space before method", input: line(" GET / HTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "tab separators", input: line("GET\t/\tHTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "tab before version", input: line("GET /\tHTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "space inside the target", input: line("GET /a b HTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "lowercase http/1.1", input: line("GET / http/1.1"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/1", input: line("GET / HTTP/1"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/2 without minor", input: line("GET / HTTP/2"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/1.10", input: line("GET / HTTP/1.10"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/11", input: line("GET / HTTP/11"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/1.x", input: line("GET / HTTP/1.x"), want: [err("BAD_VERSION")] },
  { name: "version HTTX/1.1", input: line("GET / HTTX/1.1"), want: [err("BAD_VERSION")] },
  { name: "version HTTP/2.0 (505)", input: line("GET / HTTP/2.0"), want: [err("UNSUPPORTED_VERSION")] },
  { name: "version HTTP/3.0 (505)", input: line("GET / HTTP/3.0"), want: [err("UNSUPPORTED_VERSION")] },
  { name: "version HTTP/0.9 (505)", input: line("GET / HTTP/0.9"), want: [err("UNSUPPORTED_VERSION")] },
  { name: "method with (", input: line("GE(T / HTTP/1.1"), want: [err("BAD_METHOD")] },
  { name: "method with a control byte", input: line("GET\x01 / HTTP/1.1"), want: [err("BAD_METHOD")] },
  { name: "method with DEL", input: line("GE\x7fT / HTTP/1.1"), want: [err("BAD_METHOD")] },
  { name: "method with obs-text", input: line("G\xc9T / HTTP/1.1"), want: [err("BAD_METHOD")] },
  { name: "empty target (an empty part, not a bad target)", input: line("GET  HTTP/1.1"), want: [err("BAD_REQUEST_LINE")] },
  { name: "target without leading /", input: line("GET a HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with a fragment", input: line("GET /a#f HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with NUL", input: line("GET /a\x00 HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with a control byte", input: line("GET /a\x01 HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with DEL", input: line("GET /a\x7f HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with byte 0x80", input: line("GET /a\x80 HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "target with byte 0xFF", input: line("GET /\xff HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "absolute-form with userinfo", input: line("GET http://u@h/ HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "absolute-form with an empty host (RFC 9110 §4.2.1)", input: line("GET http:///p HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "absolute-form ftp scheme", input: line("GET ftp://h/ HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "authority-form for GET", input: line("GET example.com:443 HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "authority-form without port (RFC 9112 §3.2.3)", input: line("CONNECT example.com HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "CONNECT with origin-form (RFC 9112 §3.2.3)", input: line("CONNECT / HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "asterisk with more after it", input: line("OPTIONS *x HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "asterisk-form for GET", input: line("GET * HTTP/1.1"), want: [err("ASTERISK_WITHOUT_OPTIONS")] },
  { name: "asterisk-form for lowercase options (methods are case-sensitive)", input: line("options * HTTP/1.1"), want: [err("ASTERISK_WITHOUT_OPTIONS")] },
  { name: "authority-form for lowercase connect (methods are case-sensitive)", input: line("connect example.com:443 HTTP/1.1"), want: [err("BAD_TARGET")] },
  { name: "absolute-form with a non-digit port", input: line("GET http://h:80x/ HTTP/1.1"), want: [err("BAD_TARGET")] },
];

// biome-ignore format: one row per line
const emptyLineAndPipelineRows: readonly Row[] = [
  { name: "one empty line before the request-line is ignored (RFC 9112 §2.2)", input: `\r\n${G}`, want: [R] },
  { name: "four empty lines before the request-line are ignored", input: `\r\n\r\n\r\n\r\n${G}`, want: [R] },
  { name: "four empty lines and nothing else", input: "\r\n\r\n\r\n\r\n", want: [] },
  { name: "five empty lines before the request-line", input: `\r\n\r\n\r\n\r\n\r\n${G}`, want: [err("TOO_MANY_EMPTY_LINES")] },
  { name: "five empty lines and nothing else", input: "\r\n\r\n\r\n\r\n\r\n", want: [err("TOO_MANY_EMPTY_LINES")] },
  { name: "four empty lines between pipelined requests", input: `${G}\r\n\r\n\r\n\r\n${G2}`, want: [R, R2] },
  { name: "five empty lines between pipelined requests", input: `${G}\r\n\r\n\r\n\r\n\r\n${G2}`, want: [R, err("TOO_MANY_EMPTY_LINES")] },
  { name: "three pipelined requests in order", input: `${G}HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.0\r\n\r\n`, want: [R, req({ method: "HEAD", target: "/2", path: "/2" }), req10({ target: "/3", path: "/3" })] },
  { name: "partial head", input: "GET / HTTP/1.1\r\nHost: a\r\n", want: [] },
  { name: "partial request-line", input: "GET / HTTP/1.", want: [] },
  { name: "request then partial second head", input: `${G}GET /2 HTT`, want: [R] },
  { name: "error in the second pipelined head", input: `${G}GET /2 HTTP/1.1\r\n\r\n`, want: [R, err("MISSING_HOST")] },
];

// biome-ignore format: one row per line
const fieldRows: readonly Row[] = [
  { name: "field names lowercased, values trimmed of SP and HTAB", input: "GET / HTTP/1.1\r\nHOST:  a \t\r\nX-Pad: \t a b \t\r\n\r\n", want: [req({ fields: f("x-pad", "a b") })] },
  { name: "field value without leading space", input: h11("X:v\r\n"), want: [req({ fields: f("x", "v") })] },
  { name: "empty field value", input: h11("X:\r\n"), want: [req({ fields: f("x", "") })] },
  { name: "whitespace-only field value", input: h11("X: \t \r\n"), want: [req({ fields: f("x", "") })] },
  { name: "repeated field names kept in order", input: h11("X: 1\r\nx: 2\r\n"), want: [req({ fields: f("x", "1", "x", "2") })] },
  { name: "field value with colons", input: h11("X: a:b: c\r\n"), want: [req({ fields: f("x", "a:b: c") })] },
  { name: "field name of every tchar", input: h11("!#$%&'*+-.^_`|~09Az: v\r\n"), want: [req({ fields: f("!#$%&'*+-.^_`|~09az", "v") })] },
  { name: "HTAB inside a field value", input: h11("X: a\tb\r\n"), want: [req({ fields: f("x", "a\tb") })] },
  { name: "obs-text in a field value", input: h11("X: caf\xe9 \x80\xff\r\n"), want: [req({ fields: f("x", "caf\xe9 \x80\xff") })] },

  { name: "field name with (", input: h11("X(: 1\r\n"), want: [err("BAD_FIELD_NAME")] },
  { name: "field name Ho(st", input: "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", want: [err("BAD_FIELD_NAME")] },
  { name: "field name with a space inside", input: h11("X Y: 1\r\n"), want: [err("BAD_FIELD_NAME")] },
  { name: "field name with obs-text", input: h11("X\xe9: 1\r\n"), want: [err("BAD_FIELD_NAME")] },
  { name: "empty field name", input: h11(": a\r\n"), want: [err("BAD_FIELD_NAME")] },
  { name: "field line without a colon", input: h11("X\r\n"), want: [err("BAD_FIELD_NAME")] },
  { name: "space before colon in Host (RFC 9112 §5.1)", input: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", want: [err("WHITESPACE_BEFORE_COLON")] },
  { name: "space before colon", input: h11("X : 1\r\n"), want: [err("WHITESPACE_BEFORE_COLON")] },
  { name: "tab before colon", input: h11("X\t: 1\r\n"), want: [err("WHITESPACE_BEFORE_COLON")] },
  { name: "obs-fold with SP (RFC 9112 §5.2)", input: h11("X: a\r\n b\r\n"), want: [err("OBS_FOLD")] },
  { name: "obs-fold with HTAB", input: h11("X: a\r\n\tb\r\n"), want: [err("OBS_FOLD")] },
  { name: "whitespace line right after the request-line (RFC 9112 §2.2)", input: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", want: [err("OBS_FOLD")] },
  { name: "NUL in a field value", input: h11("X: a\x00b\r\n"), want: [err("BAD_FIELD_VALUE")] },
  { name: "control byte in a field value", input: h11("X: \x01\r\n"), want: [err("BAD_FIELD_VALUE")] },
  { name: "vertical tab in a field value", input: h11("X: a\x0bb\r\n"), want: [err("BAD_FIELD_VALUE")] },
  { name: "DEL in a field value", input: h11("X: a\x7f\r\n"), want: [err("BAD_FIELD_VALUE")] },
  { name: "bare CR inside a field value", input: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", want: [err("BARE_CR")] },
  { name: "CR CR LF after a field", input: h11("X: a\r\r\n"), want: [err("BARE_CR")] },
  { name: "bare CR ending the request-line", input: "GET / HTTP/1.1\rHost: a\r\n\r\n", want: [err("BARE_CR")] },
  { name: "bare CR as the final empty line", input: "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", want: [err("BARE_CR")] },
  { name: "bare LF ending the request-line", input: "GET / HTTP/1.1\nHost: a\r\n\r\n", want: [err("BARE_LF")] },
  { name: "bare LF ending a field line", input: "GET / HTTP/1.1\r\nHost: a\n\r\n", want: [err("BARE_LF")] },
  { name: "bare LF as the final empty line", input: "GET / HTTP/1.1\r\nHost: a\r\n\n", want: [err("BARE_LF")] },
  { name: "bare LF as a leading empty line", input: `\n${G}`, want: [err("BARE_LF")] },
];

// biome-ignore format: one row per line
const hostRows: readonly Row[] = [
  { name: "HTTP/1.0 without Host", input: h10(""), want: [req10()] },
  { name: "HTTP/1.0 with Host", input: h10("Host: a\r\n"), want: [req10({ host: "a", fields: ["host", "a"] })] },
  { name: "empty Host on HTTP/1.1 (RFC 9112 §3.2)", input: "GET / HTTP/1.1\r\nHost:\r\n\r\n", want: [req({ host: "", fields: ["host", ""] })] },
  { name: "Host of one space on HTTP/1.1", input: "GET / HTTP/1.1\r\nHost: \r\n\r\n", want: [req({ host: "", fields: ["host", ""] })] },
  { name: "Host with a port", input: "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", want: [req({ host: "a.example:8080", fields: ["host", "a.example:8080"] })] },
  { name: "Host IPv6 literal", input: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", want: [req({ host: "[::1]:8080", fields: ["host", "[::1]:8080"] })] },

  { name: "HTTP/1.1 without Host", input: "GET / HTTP/1.1\r\n\r\n", want: [err("MISSING_HOST")] },
  { name: "HTTP/1.2 without Host", input: "GET / HTTP/1.2\r\n\r\n", want: [err("MISSING_HOST")] },
  { name: "absolute-form without Host (RFC 9112 §3.2)", input: "GET http://h/ HTTP/1.1\r\n\r\n", want: [err("MISSING_HOST")] },
  { name: "two different Hosts", input: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", want: [err("DUPLICATE_HOST")] },
  { name: "two identical Hosts", input: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", want: [err("DUPLICATE_HOST")] },
  { name: "two Hosts on HTTP/1.0", input: h10("Host: a\r\nHost: b\r\n"), want: [err("DUPLICATE_HOST")] },
  { name: "Host with a space", input: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with a slash", input: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with a ?", input: "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with userinfo", input: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with an unclosed IPv6 literal", input: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with a non-digit port", input: "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "Host with obs-text", input: "GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n", want: [err("BAD_HOST")] },
  { name: "bad Host on HTTP/1.0", input: h10("Host: a b\r\n"), want: [err("BAD_HOST")] },
  { name: "bad Host with absolute-form", input: "GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n", want: [err("BAD_HOST")] },
];

// biome-ignore format: one row per line
const connectionRows: readonly Row[] = [
  { name: "HTTP/1.0 Connection: keep-alive", input: h10("Connection: keep-alive\r\n"), want: [req10({ keepAlive: true, fields: ["connection", "keep-alive"] })] },
  { name: "HTTP/1.0 Connection: Keep-Alive, Upgrade", input: h10("Connection: Keep-Alive, Upgrade\r\n"), want: [req10({ keepAlive: true, fields: ["connection", "Keep-Alive, Upgrade"] })] },
  { name: "HTTP/1.0 Connection: keep-alive, close", input: h10("Connection: keep-alive, close\r\n"), want: [req10({ fields: ["connection", "keep-alive, close"] })] },
  { name: "HTTP/1.0 Connection: foo", input: h10("Connection: foo\r\n"), want: [req10({ fields: ["connection", "foo"] })] },
  { name: "HTTP/1.1 Connection: close", input: h11("Connection: close\r\n"), want: [req({ keepAlive: false, fields: f("connection", "close") })] },
  { name: "HTTP/1.1 Connection: CLOSE", input: h11("Connection: CLOSE\r\n"), want: [req({ keepAlive: false, fields: f("connection", "CLOSE") })] },
  { name: "HTTP/1.1 Connection: foo, close", input: h11("Connection: foo, close\r\n"), want: [req({ keepAlive: false, fields: f("connection", "foo, close") })] },
  { name: "HTTP/1.1 Connection: ,close, (empty list elements)", input: h11("Connection: ,close,\r\n"), want: [req({ keepAlive: false, fields: f("connection", ",close,") })] },
  { name: "HTTP/1.1 close in a second Connection field", input: h11("Connection: foo\r\nConnection: close\r\n"), want: [req({ keepAlive: false, fields: f("connection", "foo", "connection", "close") })] },
  { name: "HTTP/1.1 Connection: closed is not close", input: h11("Connection: closed\r\n"), want: [req({ fields: f("connection", "closed") })] },
  { name: "HTTP/1.1 Connection: keep-alive", input: h11("Connection: keep-alive\r\n"), want: [req({ fields: f("connection", "keep-alive") })] },
  { name: "HTTP/1.2 Connection: close", input: "GET / HTTP/1.2\r\nHost: a\r\nConnection: close\r\n\r\n", want: [req({ versionText: "HTTP/1.2", keepAlive: false, fields: f("connection", "close") })] },
  { name: "Expect: 100-continue", input: h11("Expect: 100-continue\r\n"), want: [req({ expectContinue: true, fields: f("expect", "100-continue") })] },
  { name: "Expect: 100-Continue is case-insensitive (RFC 9110 §10.1.1)", input: h11("Expect:  100-Continue \r\n"), want: [req({ expectContinue: true, fields: f("expect", "100-Continue") })] },
  { name: "Expect: 100-continue ignored on HTTP/1.0 (RFC 9110 §10.1.1)", input: h10("Expect: 100-continue\r\n"), want: [req10({ fields: ["expect", "100-continue"] })] },
  { name: "Expect: foo", input: h11("Expect: foo\r\n"), want: [req({ fields: f("expect", "foo") })] },
];

// biome-ignore format: one row per line
const framingRows: readonly Row[] = [
  { name: "Content-Length body then the next request", input: `${CL5}hello${G2}`, want: [POSTED5, R2] },
  { name: "Content-Length body that looks like a request is not parsed", input: `${postCL(`${G.length}`)}${G}${G2}`, want: [postedCL(`${G.length}`, G.length), R2] },
  { name: "request returned before its body arrives", input: `${CL5}hel`, want: [POSTED5] },
  { name: "Content-Length: 0 is no body", input: `${postCL("0")}${G2}`, want: [req({ method: "POST", fields: f("content-length", "0") }), R2] },
  { name: "Content-Length of 19 digits, mostly leading zeros (RFC 9110 §8.6)", input: `${postCL("0000000000000000005")}hello${G2}`, want: [postedCL("0000000000000000005", 5), R2] },
  { name: "Content-Length with leading zeros", input: `${postCL("005")}hello${G2}`, want: [postedCL("005", 5), R2] },
  { name: "Content-Length field name in any case", input: `POST / HTTP/1.1\r\nHost: a\r\ncontent-LENGTH: 5\r\n\r\nhello${G2}`, want: [POSTED5, R2] },
  { name: "two identical Content-Length fields", input: `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello${G2}`, want: [req({ method: "POST", body: { kind: "length", bytes: 5 }, fields: f("content-length", "5", "content-length", "5") }), R2] },
  { name: "Content-Length: 5, 5", input: `${postCL("5, 5")}hello${G2}`, want: [postedCL("5, 5", 5), R2] },
  { name: "Content-Length at the default maxBodyBytes", input: postCL("1048576"), want: [postedCL("1048576", 1048576)] },
  { name: "Content-Length at maxBodyBytes", input: `${postCL("10")}0123456789${G2}`, limits: { maxBodyBytes: 10 }, want: [postedCL("10", 10), R2] },
  { name: "Content-Length: -1", input: postCL("-1"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "Content-Length: +5", input: postCL("+5"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "Content-Length: 1 2", input: postCL("1 2"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "Content-Length: 0x10", input: postCL("0x10"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "Content-Length: 5.0", input: postCL("5.0"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "Content-Length: abc", input: postCL("abc"), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "empty Content-Length", input: postCL(""), want: [err("BAD_CONTENT_LENGTH")] },
  { name: "two different Content-Length fields", input: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", want: [err("DUPLICATE_CONTENT_LENGTH")] },
  { name: "Content-Length: 5, 6", input: `${postCL("5, 6")}hello`, want: [err("DUPLICATE_CONTENT_LENGTH")] },
  { name: "Content-Length over the default maxBodyBytes", input: postCL("1048577"), want: [err("BODY_TOO_LARGE")] },
  { name: "Content-Length over maxBodyBytes", input: `${postCL("11")}0123456789X`, limits: { maxBodyBytes: 10 }, want: [err("BODY_TOO_LARGE")] },
  { name: "Content-Length of 20 digits", input: postCL("99999999999999999999"), want: [err("BODY_TOO_LARGE")] },
  { name: "Content-Length then Transfer-Encoding", input: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", want: [err("CONTENT_LENGTH_WITH_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding then Content-Length", input: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", want: [err("CONTENT_LENGTH_WITH_TRANSFER_ENCODING")] },

  { name: "Transfer-Encoding: chunked then the next request", input: `${TE}${HELLO_CHUNKED}${G2}`, want: [CHUNKED, R2] },
  { name: "Transfer-Encoding: Chunked is case-insensitive", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n${HELLO_CHUNKED}${G2}`, want: [req({ method: "POST", body: { kind: "chunked" }, fields: f("transfer-encoding", "Chunked") }), R2] },
  { name: "Transfer-Encoding: CHUNKED, field name in any case", input: `POST / HTTP/1.1\r\nHost: a\r\nTRANSFER-encoding:  CHUNKED \r\n\r\n${HELLO_CHUNKED}${G2}`, want: [req({ method: "POST", body: { kind: "chunked" }, fields: f("transfer-encoding", "CHUNKED") }), R2] },
  { name: "Transfer-Encoding: chunked, identity", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: xchunked", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: chunked, chunked", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding chunked in two fields", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: chunked;x=1", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "empty Transfer-Encoding", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: gzip without chunked (RFC 9112 §6.3)", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: identity", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n`, want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding on HTTP/1.0", input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", want: [err("BAD_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding: gzip, chunked (501)", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n`, want: [err("UNSUPPORTED_TRANSFER_ENCODING")] },
  { name: "Transfer-Encoding gzip and chunked in two fields (501)", input: `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n`, want: [err("UNSUPPORTED_TRANSFER_ENCODING")] },
];

const LONG_EXTENSION = `;a=${"b".repeat(1100)}`;
const SHORT_ENOUGH_EXTENSION = `;a=${"b".repeat(997)}`;
/** Trailer lines of 96 bytes each, 90 of them: 8640 bytes, over the 8 KiB limit. */
const TRAILERS_OVER_8K = `X: ${"v".repeat(91)}\r\n`.repeat(90);

// biome-ignore format: one row per line
const chunkedRows: readonly Row[] = [
  { name: "several chunks", input: `${TE}3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "only the last chunk", input: `${TE}0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "uppercase hex chunk size", input: `${TE}A\r\n0123456789\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "lowercase hex chunk size", input: `${TE}a\r\n0123456789\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk sizes with leading zeros", input: `${TE}005\r\nhello\r\n000\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk size of 16 digits", input: `${TE}0000000000000005\r\nhello\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk data holding CRLF and a last-chunk", input: `${TE}5\r\n0\r\n\r\n\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk extensions with token and quoted values", input: `${TE}5;a=b;c="q s"\r\nhello\r\n0;x\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk extension with BWS (RFC 9112 §7.1.1)", input: `${TE}5 ; a = b\r\nhello\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk extension quoted-pair and obs-text", input: `${TE}5;a="x\\"y\xe9"\r\nhello\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "chunk extension of 1000 bytes", input: `${TE}5${SHORT_ENOUGH_EXTENSION}\r\nhello\r\n0\r\n\r\n${G2}`, want: [CHUNKED, R2] },
  { name: "trailer fields after the last chunk", input: `${TE}${"5\r\nhello\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"}${G2}`, want: [CHUNKED, R2] },
  { name: "chunked body at maxBodyBytes", input: `${TE}5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n${G2}`, limits: { maxBodyBytes: 10 }, want: [CHUNKED, R2] },
  { name: "chunked body not yet complete", input: `${TE}5\r\nhel`, want: [CHUNKED] },
  { name: "chunked body waiting for the final CRLF", input: `${TE}5\r\nhello\r\n0\r\n`, want: [CHUNKED] },

  { name: "chunk size zz", input: `${TE}zz\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_SIZE", true)] },
  { name: "empty chunk size", input: `${TE}\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_SIZE", true)] },
  { name: "negative chunk size", input: `${TE}-5\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_SIZE", true)] },
  { name: "chunk size 0x5", input: `${TE}0x5\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_SIZE", true)] },
  { name: "bare LF after the chunk size", input: `${TE}5\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_SIZE", true)] },
  { name: "chunk size of 17 digits", input: `${TE}00000000000000005\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("CHUNK_SIZE_TOO_LONG", true)] },
  { name: "chunk size of 16 hex F", input: `${TE}FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BODY_TOO_LARGE", true)] },
  { name: "chunk extension over 1024 bytes", input: `${TE}5${LONG_EXTENSION}\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("CHUNK_EXTENSION_TOO_LONG", true)] },
  { name: "chunk extension over 1024 bytes, no CRLF yet", input: `${TE}5${LONG_EXTENSION}`, want: [CHUNKED, err("CHUNK_EXTENSION_TOO_LONG", true)] },
  { name: "chunk extension with a control byte", input: `${TE}5;\x01\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk extension = without a name", input: `${TE}5;=b\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk extension ; without a name", input: `${TE}5;\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk extension = without a value", input: `${TE}5;a=\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk extension with an unterminated quoted value", input: `${TE}5;a="q\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk extension name followed by a space and a token", input: `${TE}5;a b\r\nhello\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_EXTENSION", true)] },
  { name: "chunk data followed by X", input: `${TE}5\r\nhelloX\r\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_DATA_END", true)] },
  { name: "chunk data followed by CR X", input: `${TE}5\r\nhello\rX0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_DATA_END", true)] },
  { name: "chunk data followed by a bare LF", input: `${TE}5\r\nhello\n0\r\n\r\n`, want: [CHUNKED, err("BAD_CHUNK_DATA_END", true)] },
  { name: "chunk sizes summing over maxBodyBytes", input: `${TE}6\r\nabcdef\r\n5\r\nabcde\r\n0\r\n\r\n`, limits: { maxBodyBytes: 10 }, want: [CHUNKED, err("BODY_TOO_LARGE", true)] },
  { name: "one chunk over maxBodyBytes", input: `${TE}B\r\n0123456789X\r\n0\r\n\r\n`, limits: { maxBodyBytes: 10 }, want: [CHUNKED, err("BODY_TOO_LARGE", true)] },
  { name: "trailer section over 8 KiB", input: `${TE}0\r\n${TRAILERS_OVER_8K}\r\n`, want: [CHUNKED, err("TRAILERS_TOO_LARGE", true)] },
  { name: "trailer line over 8 KiB, no CRLF yet", input: `${TE}0\r\nX: ${"v".repeat(8300)}`, want: [CHUNKED, err("TRAILERS_TOO_LARGE", true)] },
  { name: "trailer line without a colon", input: `${TE}0\r\nBad Trailer\r\n\r\n`, want: [CHUNKED, err("BAD_TRAILER", true)] },
  { name: "trailer line with an empty name", input: `${TE}0\r\n: x\r\n\r\n`, want: [CHUNKED, err("BAD_TRAILER", true)] },
  { name: "trailer value with a control byte", input: `${TE}0\r\nX: a\x01\r\n\r\n`, want: [CHUNKED, err("BAD_TRAILER", true)] },
  { name: "trailer obs-fold", input: `${TE}0\r\nX: a\r\n b\r\n\r\n`, want: [CHUNKED, err("BAD_TRAILER", true)] },
];

/** A request-line of exactly `bytes` bytes (CRLF not counted): `GET /aaa… HTTP/1.1`. */
function requestLineOf(bytes: number): string {
  return `GET /${"a".repeat(bytes - "GET / HTTP/1.1".length)} HTTP/1.1`;
}

function requestWithLineOf(bytes: number): RequestSummary {
  const target = requestLineOf(bytes).split(" ")[1] ?? "";
  return reqTo(target, target);
}

/** An h11() head of exactly `bytes` bytes (final CRLF included), padded by one field `X`. */
function headOf(bytes: number): string {
  return h11(`X: ${"v".repeat(bytes - h11("X: \r\n").length)}\r\n`);
}

function requestWithHeadOf(bytes: number): RequestSummary {
  return req({ fields: f("x", "v".repeat(bytes - h11("X: \r\n").length)) });
}

// biome-ignore format: one row per line
const limitRows: readonly Row[] = [
  { name: "request-line at maxRequestLineBytes", input: line(requestLineOf(32)), limits: { maxRequestLineBytes: 32 }, want: [requestWithLineOf(32)] },
  { name: "request-line one byte over maxRequestLineBytes", input: line(requestLineOf(33)), limits: { maxRequestLineBytes: 32 }, want: [err("REQUEST_LINE_TOO_LONG")] },
  { name: "request-line one byte over maxRequestLineBytes, no CR or LF yet", input: `GET /${"a".repeat(28)}`, limits: { maxRequestLineBytes: 32 }, want: [err("REQUEST_LINE_TOO_LONG")] },
  { name: "request-line well over maxRequestLineBytes, no CRLF yet", input: `GET /${"a".repeat(40)}`, limits: { maxRequestLineBytes: 32 }, want: [err("REQUEST_LINE_TOO_LONG")] },
  { name: "request-line at maxRequestLineBytes, waiting for LF", input: `GET /${"a".repeat(27)}\r`, limits: { maxRequestLineBytes: 32 }, want: [] },
  { name: "pipelined request-lines each at maxRequestLineBytes", input: line(requestLineOf(32)).repeat(2), limits: { maxRequestLineBytes: 32 }, want: [requestWithLineOf(32), requestWithLineOf(32)] },
  { name: "request-line over the default 8 KiB, no CRLF yet", input: `GET /${"a".repeat(8 * 1024)}`, want: [err("REQUEST_LINE_TOO_LONG")] },
  { name: "head at maxHeadBytes", input: headOf(64), limits: { maxHeadBytes: 64 }, want: [requestWithHeadOf(64)] },
  { name: "head one byte over maxHeadBytes", input: headOf(65), limits: { maxHeadBytes: 64 }, want: [err("HEAD_TOO_LARGE")] },
  { name: "head over maxHeadBytes, no end yet", input: `GET / HTTP/1.1\r\nHost: a\r\nX: ${"v".repeat(100)}`, limits: { maxHeadBytes: 64 }, want: [err("HEAD_TOO_LARGE")] },
  { name: "pipelined heads each at maxHeadBytes", input: headOf(64).repeat(2), limits: { maxHeadBytes: 64 }, want: [requestWithHeadOf(64), requestWithHeadOf(64)] },
  { name: "head at maxHeadBytes followed by its body", input: `${CL5}hello${G}`, limits: { maxHeadBytes: CL5.length }, want: [POSTED5, R] },
  { name: "fields at maxHeaderFields", input: h11("X: 1\r\nY: 2\r\n"), limits: { maxHeaderFields: 3 }, want: [req({ fields: f("x", "1", "y", "2") })] },
  { name: "fields one over maxHeaderFields", input: h11("X: 1\r\nY: 2\r\nZ: 3\r\n"), limits: { maxHeaderFields: 3 }, want: [err("TOO_MANY_FIELDS")] },
  { name: "pipelined heads each at maxHeaderFields", input: h11("X: 1\r\nY: 2\r\n").repeat(2), limits: { maxHeaderFields: 3 }, want: [req({ fields: f("x", "1", "y", "2") }), req({ fields: f("x", "1", "y", "2") })] },
  { name: "empty lines at maxEmptyLinesBeforeRequest", input: `\r\n${G}`, limits: { maxEmptyLinesBeforeRequest: 1 }, want: [R] },
  { name: "empty lines over maxEmptyLinesBeforeRequest", input: `\r\n\r\n${G}`, limits: { maxEmptyLinesBeforeRequest: 1 }, want: [err("TOO_MANY_EMPTY_LINES")] },
  { name: "no empty lines allowed", input: `\r\n${G}`, limits: { maxEmptyLinesBeforeRequest: 0 }, want: [err("TOO_MANY_EMPTY_LINES")] },
];

// ---------------------------------------------------------------------------------------------
// Suites

describe("RequestParser", () => {
  test("row names are unique", () => {
    const all = [
      ...requestLineRows,
      ...emptyLineAndPipelineRows,
      ...fieldRows,
      ...hostRows,
      ...connectionRows,
      ...framingRows,
      ...chunkedRows,
      ...limitRows,
    ];
    const seen = new Set<string>();
    for (const { name } of all) {
      assert.ok(!seen.has(name), `duplicate row name ${JSON.stringify(name)}`);
      seen.add(name);
    }
  });

  runTable("request-line", requestLineRows);
  runTable("empty lines and pipelining", emptyLineAndPipelineRows);
  runTable("field lines", fieldRows);
  runTable("Host", hostRows);
  runTable("Connection and Expect", connectionRows);
  runTable("message framing", framingRows);
  runTable("chunked coding", chunkedRows);
  runTable("limits", limitRows);
});

// ---------------------------------------------------------------------------------------------
// headBytes

// biome-ignore format: one row per line
const headBytesRows: ReadonlyArray<{ name: string; input: string; want: number[] }> = [
  { name: "one head", input: G, want: [27] },
  { name: "leading empty lines count", input: `\r\n\r\n${G}`, want: [31] },
  { name: "pipelined heads", input: `${G}${G2}`, want: [27, 28] },
  { name: "body not counted", input: `${CL5}hello${G}`, want: [47, 27] },
  { name: "chunked body and trailers not counted", input: `${TE}5\r\nhello\r\n0\r\nX: 1\r\n\r\n${G}`, want: [TE.length, 27] },
];

function replayHeadBytes(chunks: readonly Buffer[]): number[] {
  const parser = new RequestParser();
  const sizes: number[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let result = parser.next(); result.kind !== "need-more"; result = parser.next()) {
      if (result.kind === "error") return [...sizes, -1];
      sizes.push(result.request.headBytes);
    }
  }
  return sizes;
}

describe("RequestParser headBytes", () => {
  for (const { name, input, want } of headBytesRows) {
    test(name, () => {
      for (const { name: chunking, chunks } of chunkings(Buffer.from(input, "latin1"))) {
        const got = replayHeadBytes(chunks);
        if (isDeepStrictEqual(got, want)) continue;
        assert.deepStrictEqual(
          got,
          want,
          `headBytes of ${call(input, undefined)} ${chunking} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
        );
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// isIdle

// biome-ignore format: one row per line
const isIdleRows: ReadonlyArray<{ name: string; input: string; want: boolean }> = [
  { name: "fresh parser", input: "", want: true },
  { name: "partial request-line", input: "GET / HT", want: false },
  { name: "partial head", input: "GET / HTTP/1.1\r\nHost: a\r\n", want: false },
  { name: "request without a body returned", input: G, want: true },
  { name: "Content-Length body outstanding", input: CL5, want: false },
  { name: "Content-Length body partly read", input: `${CL5}hel`, want: false },
  { name: "Content-Length body consumed", input: `${CL5}hello`, want: true },
  { name: "Content-Length: 0 request returned", input: postCL("0"), want: true },
  { name: "chunked body outstanding", input: TE, want: false },
  { name: "chunked body inside a chunk", input: `${TE}5\r\nhel`, want: false },
  { name: "chunked body waiting for the final CRLF", input: `${TE}5\r\nhello\r\n0\r\n`, want: false },
  { name: "chunked body in the trailers", input: `${TE}0\r\nX: 1\r\n`, want: false },
  { name: "chunked body consumed", input: `${TE}${HELLO_CHUNKED}`, want: true },
  { name: "request returned, second head partial", input: `${G}GET /2`, want: false },
  { name: "two requests returned", input: `${G}${G2}`, want: true },
];

/** isIdle after pushing `chunks` and draining next() to need-more. */
function replayIsIdle(chunks: readonly Buffer[]): boolean | string {
  const parser = new RequestParser();
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let result = parser.next(); result.kind !== "need-more"; result = parser.next()) {
      if (result.kind === "error") return `error ${result.code}`;
    }
  }
  return parser.isIdle;
}

describe("RequestParser isIdle", () => {
  for (const { name, input, want } of isIdleRows) {
    test(name, () => {
      for (const { name: chunking, chunks } of chunkings(Buffer.from(input, "latin1"))) {
        const got = replayIsIdle(chunks);
        if (got === want) continue;
        assert.equal(
          got,
          want,
          `isIdle after ${call(input, undefined)} ${chunking} = ${got}, want ${want}`,
        );
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// A dead parser stays dead

describe("RequestParser after an error", () => {
  test("more bytes do not revive it", () => {
    const parser = new RequestParser();
    parser.push(Buffer.from("GET / HTTP/1.1\r\n\r\n", "latin1"));
    const want = { kind: "error", code: "MISSING_HOST", inBody: false };
    assert.deepStrictEqual({ ...parser.next() }, want, "next() after a head without Host");
    parser.push(Buffer.from(G, "latin1"));
    assert.deepStrictEqual({ ...parser.next() }, want, "next() after push(valid request)");
    assert.deepStrictEqual({ ...parser.next() }, want, "next() again");
  });

  test("an error in a body stays inBody", () => {
    const parser = new RequestParser();
    parser.push(Buffer.from(`${TE}zz\r\n`, "latin1"));
    assert.equal(parser.next().kind, "request");
    const want = { kind: "error", code: "BAD_CHUNK_SIZE", inBody: true };
    assert.deepStrictEqual(
      { ...parser.next() },
      want,
      `next() after ${JSON.stringify(`${TE}zz\r\n`)}`,
    );
    parser.push(Buffer.from(G, "latin1"));
    assert.deepStrictEqual({ ...parser.next() }, want, "next() after push(valid request)");
  });
});

// ---------------------------------------------------------------------------------------------
// Large bodies are discarded, not kept

const MIB = 1024 * 1024;
const BODY_CHUNK_BYTES = 64 * 1024;

/** gc() from a fresh context once --expose-gc is set: node --test gives no way to pass the flag. */
function exposeGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Pushes `bodyBytes` of body in fresh `chunkBytes` chunks, each followed by next(), which must
 * answer need-more. Returns only WeakRefs: once this returns, nothing but the parser can keep a
 * chunk alive (a local in the async test itself could survive its await). */
function pushBody(parser: RequestParser, bodyBytes: number, chunkBytes: number): WeakRef<Buffer>[] {
  const refs: WeakRef<Buffer>[] = [];
  for (let sent = chunkBytes; sent <= bodyBytes; sent += chunkBytes) {
    const chunk = Buffer.alloc(chunkBytes, 0x47); // "G", so a stray re-parse as a head would show
    refs.push(new WeakRef(chunk));
    parser.push(chunk);
    const result = parser.next();
    assert.deepStrictEqual({ ...result }, { kind: "need-more" }, `next() after ${sent} body bytes`);
  }
  return refs;
}

describe("RequestParser large body", () => {
  test("a 1 MiB Content-Length body in 64 KiB chunks is discarded", async () => {
    const parser = new RequestParser();
    parser.push(Buffer.from(postCL(`${MIB}`), "latin1"));
    assert.equal(parser.next().kind, "request", `next() after ${JSON.stringify(postCL(`${MIB}`))}`);
    assert.equal(parser.isIdle, false, "isIdle after the head of a 1 MiB body");

    const chunkRefs = pushBody(parser, MIB, BODY_CHUNK_BYTES);
    assert.equal(chunkRefs.length, MIB / BODY_CHUNK_BYTES);
    assert.equal(parser.isIdle, true, "isIdle after the whole body");

    parser.push(Buffer.from(G2, "latin1"));
    const next = parser.next();
    assert.ok(
      next.kind === "request",
      `next() after the body and ${JSON.stringify(G2)} = ${next.kind}, want request`,
    );
    assert.deepStrictEqual(summarize(next.request), R2);
    assert.equal(parser.isIdle, true, "isIdle after the request that follows the body");

    // WeakRef targets stay alive until the current job ends: yield once before collecting.
    await new Promise((resolve) => setImmediate(resolve));
    exposeGc()();
    const retained = chunkRefs.flatMap((ref, i) => (ref.deref() === undefined ? [] : [i]));
    assert.deepStrictEqual(
      retained,
      [],
      `body chunks (by index) still alive after the body was consumed`,
    );
  });
});
