/**
 * Table tests for the line splitter. Every row is replayed at every chunking from chunkings()
 * (whole, every two-way split, byte by byte) and must give the same events each time (STYLE.md
 * rule 9). Inputs are latin1 strings so any byte can be written as "\xNN"; returned lines are kept
 * as Buffers and only read after the last push, so a line overwritten by a later push shows up.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import {
  DEFAULT_MAX_LINE_BYTES,
  type LineEnding,
  type LineResult,
  LineSplitter,
} from "../../src/net/line-splitter.js";
import { chunkings } from "../helpers/chunkings.js";

// ---------------------------------------------------------------------------------------------
// Runner

/** A returned line (latin1) and its ending, or an error code, or a description of a broken
 * promise (a result after a sticky error, an oversized buffer, a tail handed back twice). */
type SplitEvent =
  | { readonly line: string; readonly ending: LineEnding }
  | { readonly error: string };

interface Row {
  readonly name: string;
  /** latin1: one char per byte. */
  readonly input: string;
  readonly maxLineBytes?: number;
  /** Call end() after the last chunk and drain what it hands back. */
  readonly end?: boolean;
  readonly want: readonly SplitEvent[];
}

type HeldEvent =
  | { readonly buffer: Buffer; readonly ending: LineEnding }
  | { readonly error: string };

/** More results than any row can hold: a splitter that keeps answering without consuming is a
 * bug, and the test should fail rather than hang. */
const MAX_RESULTS_PER_PUSH = 100;

function describeResult(result: LineResult): string {
  switch (result.kind) {
    case "need-more":
      return "need-more";
    case "line":
      return `line ${JSON.stringify(result.line.toString("latin1"))} ${result.ending}`;
    case "error":
      return `error ${result.code}`;
  }
}

/** Drains results starting with `first`; false once an error ended the replay. */
function drain(
  splitter: LineSplitter,
  first: LineResult,
  held: HeldEvent[],
  ended: boolean,
): boolean {
  let result = first;
  for (let results = 0; ; results++) {
    if (results === MAX_RESULTS_PER_PUSH) {
      held.push({ error: `no need-more after ${results} results` });
      return false;
    }
    switch (result.kind) {
      case "need-more":
        return true;
      case "line":
        held.push({ buffer: result.line, ending: result.ending });
        break;
      case "error": {
        held.push({ error: result.code });
        // Sticky: the same error again from next() and end(), whatever is pushed.
        if (!ended) splitter.push(Buffer.from("more\n"));
        for (const again of [splitter.next(), splitter.end()]) {
          if (again !== result) held.push({ error: `after the error: ${describeResult(again)}` });
        }
        if (splitter.pendingBytes !== 0) {
          held.push({ error: `pendingBytes ${splitter.pendingBytes} after the error` });
        }
        return false;
      }
    }
    result = splitter.next();
  }
}

function replay(chunks: readonly Buffer[], row: Row): SplitEvent[] {
  const splitter =
    row.maxLineBytes === undefined
      ? new LineSplitter()
      : new LineSplitter({ maxLineBytes: row.maxLineBytes });
  const held: HeldEvent[] = [];
  let alive = true;
  for (const chunk of chunks) {
    splitter.push(chunk);
    alive = drain(splitter, splitter.next(), held, false);
    if (!alive) break;
    // The promise of the limit: after a drain, at most maxLineBytes + 1 bytes are held.
    if (splitter.pendingBytes > splitter.maxLineBytes + 1) {
      held.push({ error: `pendingBytes ${splitter.pendingBytes} after a drain` });
    }
  }
  if (alive && row.end === true) {
    alive = drain(splitter, splitter.end(), held, true);
    if (alive && (splitter.pendingBytes !== 0 || splitter.end().kind !== "need-more")) {
      held.push({ error: "end() left something pending" });
    }
  }
  // Read the lines only now, after every push.
  return held.map((event) =>
    "buffer" in event ? { line: event.buffer.toString("latin1"), ending: event.ending } : event,
  );
}

const SHOWN_INPUT_CHARS = 120;

function show(input: string): string {
  if (input.length <= SHOWN_INPUT_CHARS) return JSON.stringify(input);
  return `${JSON.stringify(input.slice(0, SHOWN_INPUT_CHARS))}+…(${input.length} bytes)`;
}

function call(row: Row): string {
  const options = row.maxLineBytes === undefined ? "" : `, {maxLineBytes: ${row.maxLineBytes}}`;
  return `split(${show(row.input)}${options})${row.end === true ? " then end()" : ""}`;
}

function checkRow(row: Row): void {
  const bytes = Buffer.from(row.input, "latin1");
  for (const { name, chunks } of chunkings(bytes)) {
    const got = replay(chunks, row);
    if (isDeepStrictEqual(got, row.want)) continue;
    assert.deepStrictEqual(
      got,
      row.want,
      `${call(row)} ${name} = ${JSON.stringify(got)}, want ${JSON.stringify(row.want)}`,
    );
  }
}

function runTable(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    for (const row of rows) test(row.name, () => checkRow(row));
  });
}

// ---------------------------------------------------------------------------------------------
// Row builders

function lf(line: string): SplitEvent {
  return { line, ending: "lf" };
}

function crlf(line: string): SplitEvent {
  return { line, ending: "crlf" };
}

function eof(line: string): SplitEvent {
  return { line, ending: "eof" };
}

const TOO_LONG: SplitEvent = { error: "LINE_TOO_LONG" };

/** `text` as UTF-8 bytes written one latin1 char per byte, as rows hold them. */
function utf8(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

// ---------------------------------------------------------------------------------------------
// Tables

// biome-ignore format: one row per line
runTable("terminators", [
  { name: "LF lines", input: "a\nb\n", want: [lf("a"), lf("b")] },
  { name: "CRLF lines", input: "a\r\nb\r\n", want: [crlf("a"), crlf("b")] },
  { name: "LF and CRLF mixed", input: "a\nb\r\nc\nd\r\n", want: [lf("a"), crlf("b"), lf("c"), crlf("d")] },
  { name: "an empty LF line", input: "\n", want: [lf("")] },
  { name: "an empty CRLF line", input: "\r\n", want: [crlf("")] },
  { name: "empty lines in a row", input: "\n\r\n\n\r\n", want: [lf(""), crlf(""), lf(""), crlf("")] },
  { name: "empty lines between lines", input: "a\n\nb\r\n\r\nc\n", want: [lf("a"), lf(""), crlf("b"), crlf(""), lf("c")] },
  { name: "a CR alone inside a line is data", input: "a\rb\n", want: [lf("a\rb")] },
  { name: "CRs alone inside a CRLF line are data", input: "a\r\rb\r\r\n", want: [crlf("a\r\rb\r")] },
  { name: "a CR at a chunk end, the LF in the next (split@2)", input: "a\r\nb\n", want: [crlf("a"), lf("b")] },
  { name: "CR CR LF is a CR line ending in CRLF", input: "\r\r\n", want: [crlf("\r")] },
  { name: "CR CR CR LF", input: "\r\r\r\n", want: [crlf("\r\r")] },
  { name: "LF CR LF", input: "\n\r\n", want: [lf(""), crlf("")] },
  { name: "a CR then a line", input: "\rx\n", want: [lf("\rx")] },
  { name: "a line with spaces and tabs kept as they are", input: " a \t\r\n", want: [crlf(" a \t")] },
]);

// biome-ignore format: one row per line
runTable("data bytes", [
  { name: "UTF-8 two-byte characters split anywhere", input: utf8("héllo wörld\n"), want: [lf(utf8("héllo wörld"))] },
  { name: "UTF-8 three- and four-byte characters", input: utf8("€\r\n𝄞x\n"), want: [crlf(utf8("€")), lf(utf8("𝄞x"))] },
  { name: "NUL bytes are data", input: "\0a\0\n\0\r\n", want: [lf("\0a\0"), crlf("\0")] },
  { name: "a NUL before CR LF", input: "a\0\r\n", want: [crlf("a\0")] },
  { name: "high bytes are data", input: "\xff\xfe\x80\n", want: [lf("\xff\xfe\x80")] },
  { name: "bytes are split as bytes, not as UTF-8 characters", input: "\xc3\n\xa9\n", want: [lf("\xc3"), lf("\xa9")] },
]);

// biome-ignore format: one row per line
runTable("end of input", [
  { name: "no terminator yet: nothing", input: "abc", want: [] },
  { name: "no terminator, end(): the tail", input: "abc", end: true, want: [eof("abc")] },
  { name: "a line then a tail, end()", input: "a\nbc", end: true, want: [lf("a"), eof("bc")] },
  { name: "everything terminated, end(): nothing more", input: "a\n", end: true, want: [lf("a")] },
  { name: "empty input, end(): nothing", input: "", end: true, want: [] },
  { name: "a tail ending in CR keeps the CR (no LF came)", input: "abc\r", end: true, want: [eof("abc\r")] },
  { name: "a CR alone at the end", input: "a\n\r", end: true, want: [lf("a"), eof("\r")] },
  { name: "a tail with a CR inside", input: "x\ry", end: true, want: [eof("x\ry")] },
]);

// biome-ignore format: one row per line
runTable("limits (maxLineBytes excludes the terminator)", [
  { name: "exactly at the limit, LF", input: "abc\n", maxLineBytes: 3, want: [lf("abc")] },
  { name: "exactly at the limit, CRLF (CR and LF may arrive apart)", input: "abc\r\n", maxLineBytes: 3, want: [crlf("abc")] },
  { name: "exactly at the limit, CRLF, then more lines", input: "abc\r\nde\r\n", maxLineBytes: 3, want: [crlf("abc"), crlf("de")] },
  { name: "one over, LF", input: "abcd\n", maxLineBytes: 3, want: [TOO_LONG] },
  { name: "one over, CRLF", input: "abcd\r\n", maxLineBytes: 3, want: [TOO_LONG] },
  { name: "one over, no terminator yet", input: "abcd", maxLineBytes: 3, want: [TOO_LONG] },
  { name: "at the limit plus a CR, no LF yet: could still be CRLF", input: "abc\r", maxLineBytes: 3, want: [] },
  { name: "at the limit plus a CR, then end(): the tail is one over", input: "abc\r", maxLineBytes: 3, end: true, want: [TOO_LONG] },
  { name: "at the limit plus a CR that turns out to be data", input: "abc\rx\n", maxLineBytes: 3, want: [TOO_LONG] },
  { name: "at the limit plus CR CR LF: the line holds a CR", input: "abc\r\r\n", maxLineBytes: 3, want: [TOO_LONG] },
  { name: "under the limit with a CR as data", input: "ab\r\r\n", maxLineBytes: 3, want: [crlf("ab\r")] },
  { name: "a tail exactly at the limit, end()", input: "abc", maxLineBytes: 3, end: true, want: [eof("abc")] },
  { name: "a tail one over, end()", input: "abcd", maxLineBytes: 3, end: true, want: [TOO_LONG] },
  { name: "lines before the long one are returned", input: "a\nabcd\nb\n", maxLineBytes: 3, want: [lf("a"), TOO_LONG] },
  { name: "sticky: nothing after the error, not even at end()", input: "abcd\nok\n", maxLineBytes: 3, end: true, want: [TOO_LONG] },
  { name: "limit 0: empty lines only", input: "\n\r\n", maxLineBytes: 0, want: [lf(""), crlf("")] },
  { name: "limit 0: one byte is too long", input: "a\n", maxLineBytes: 0, want: [TOO_LONG] },
  { name: "limit 0: a CR may still be a terminator", input: "\r", maxLineBytes: 0, want: [] },
  { name: "a long line exactly at the limit", input: `${"x".repeat(300)}\r\n`, maxLineBytes: 300, want: [crlf("x".repeat(300))] },
  { name: "a long line one over", input: `${"x".repeat(301)}\r\n`, maxLineBytes: 300, want: [TOO_LONG] },
]);

// ---------------------------------------------------------------------------------------------
// The limit against a peer that never sends a newline

describe("a peer that never sends a newline", () => {
  test("10 MiB without LF in 1 KiB chunks: LINE_TOO_LONG once the limit passes, memory bounded", () => {
    const totalBytes = 10 * 1024 * 1024;
    const chunkBytes = 1024;
    const splitter = new LineSplitter();
    let pushedBytes = 0;
    let errorAtBytes = -1;
    while (pushedBytes < totalBytes) {
      splitter.push(Buffer.alloc(chunkBytes, 0x61));
      pushedBytes += chunkBytes;
      const result = splitter.next();
      assert.notEqual(result.kind, "line", `next() after ${pushedBytes} bytes = line`);
      if (result.kind === "error" && errorAtBytes === -1) errorAtBytes = pushedBytes;
      assert.ok(
        splitter.pendingBytes <= DEFAULT_MAX_LINE_BYTES + 1,
        `pendingBytes after ${pushedBytes} bytes = ${splitter.pendingBytes}, want <= ${DEFAULT_MAX_LINE_BYTES + 1}`,
      );
    }
    // The first chunk that takes the line past the limit is the one that fails it.
    const wantErrorAt = (Math.floor(DEFAULT_MAX_LINE_BYTES / chunkBytes) + 1) * chunkBytes;
    assert.equal(errorAtBytes, wantErrorAt, "bytes pushed when LINE_TOO_LONG came");
    assert.equal(splitter.next().kind, "error", "next() at the end");
    assert.equal(splitter.pendingBytes, 0, "pendingBytes at the end");
  });

  test("10 MiB without LF in one chunk: LINE_TOO_LONG at once, nothing kept", () => {
    const splitter = new LineSplitter();
    splitter.push(Buffer.alloc(10 * 1024 * 1024, 0x61));
    assert.deepEqual(splitter.next(), { kind: "error", code: "LINE_TOO_LONG" });
    assert.equal(splitter.pendingBytes, 0);
  });

  test("the default limit is 64 KiB, terminator excluded", () => {
    const atLimit = new LineSplitter();
    atLimit.push(Buffer.alloc(DEFAULT_MAX_LINE_BYTES, 0x61));
    assert.equal(atLimit.next().kind, "need-more", "64 KiB without terminator");
    atLimit.push(Buffer.from("\r"));
    assert.equal(atLimit.next().kind, "need-more", "64 KiB then CR");
    atLimit.push(Buffer.from("\n"));
    const line = atLimit.next();
    assert.equal(line.kind === "line" ? line.line.length : line.kind, DEFAULT_MAX_LINE_BYTES);

    const overLimit = new LineSplitter();
    overLimit.push(Buffer.alloc(DEFAULT_MAX_LINE_BYTES + 1, 0x61));
    assert.deepEqual(overLimit.next(), { kind: "error", code: "LINE_TOO_LONG" });
  });
});

// ---------------------------------------------------------------------------------------------
// Contract details

describe("LineSplitter contract", () => {
  test("pendingBytes is the unterminated tail once drained", () => {
    const splitter = new LineSplitter();
    splitter.push(Buffer.from("ab\ncd"));
    assert.equal(splitter.pendingBytes, 5, "pendingBytes before next()");
    assert.equal(splitter.next().kind, "line");
    assert.equal(splitter.next().kind, "need-more");
    assert.equal(splitter.pendingBytes, 2, "pendingBytes after the drain");
  });

  test("a line inside one chunk is a view of it; a straddling line is a copy", () => {
    const chunk = Buffer.from("ab\ncd");
    const splitter = new LineSplitter();
    splitter.push(chunk);
    const first = splitter.next();
    assert.equal(splitter.next().kind, "need-more");
    const tail = Buffer.from("e\n");
    splitter.push(tail);
    const second = splitter.next();
    // Scribbling over the pushed chunks (which callers must not do) shows which is which.
    chunk.fill(0x2e);
    tail.fill(0x2e);
    assert.equal(first.kind === "line" && first.line.toString(), "..", "first line, a view");
    assert.equal(second.kind === "line" && second.line.toString(), "cde", "second line, a copy");
  });

  test("push() after end() is a bug and throws", () => {
    const splitter = new LineSplitter();
    splitter.end();
    assert.throws(() => splitter.push(Buffer.from("a")), /after end/);
  });

  // biome-ignore format: one row per line
  const badOptions: ReadonlyArray<{ maxLineBytes: number }> = [
    { maxLineBytes: -1 },
    { maxLineBytes: 1.5 },
    { maxLineBytes: Number.NaN },
    { maxLineBytes: Number.POSITIVE_INFINITY },
  ];
  for (const options of badOptions) {
    test(`new LineSplitter({maxLineBytes: ${options.maxLineBytes}}) throws RangeError`, () => {
      assert.throws(() => new LineSplitter(options), RangeError);
    });
  }
});
