/**
 * Table tests for the frame codec. Every decoder row is replayed at every chunking from
 * chunkings() (whole, every two-way split, byte by byte) and must give the same events each time
 * (STYLE.md rule 9). Payloads are kept as Buffers and only read after the last push, so a payload
 * overwritten by a later push shows up.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  type FrameResult,
} from "../../src/net/frame-codec.js";
import { chunkings } from "../helpers/chunkings.js";

// ---------------------------------------------------------------------------------------------
// Runner

/** A frame (payload in hex), an error, or a description of a broken promise. */
type DecodeEvent =
  | { readonly type: number; readonly payload: string }
  | { readonly error: string; readonly declaredBytes?: number };

interface Row {
  readonly name: string;
  readonly input: Buffer;
  readonly maxFrameBytes?: number;
  readonly want: readonly DecodeEvent[];
  /** isIdle after the last chunk: false means a truncated frame (or an error). */
  readonly idle: boolean;
}

interface Outcome {
  readonly events: DecodeEvent[];
  readonly idle: boolean;
}

type HeldEvent = { readonly type: number; readonly payload: Buffer } | DecodeEvent;

/** More results than any row can hold: a decoder that keeps answering without consuming is a
 * bug, and the test should fail rather than hang. */
const MAX_RESULTS_PER_PUSH = 100;

function describeResult(result: FrameResult): string {
  switch (result.kind) {
    case "need-more":
      return "need-more";
    case "frame":
      return `frame type ${result.frame.type}`;
    case "error":
      return `error ${result.code} ${result.declaredBytes}`;
  }
}

/** Drains next() until need-more; false once an error ended the replay. */
function drain(decoder: FrameDecoder, held: HeldEvent[]): boolean {
  for (let results = 0; ; results++) {
    if (results === MAX_RESULTS_PER_PUSH) {
      held.push({ error: `no need-more after ${results} results` });
      return false;
    }
    const result = decoder.next();
    switch (result.kind) {
      case "need-more":
        return true;
      case "frame":
        held.push({ type: result.frame.type, payload: result.frame.payload });
        break;
      case "error": {
        held.push({ error: result.code, declaredBytes: result.declaredBytes });
        // Sticky: the same error again, whatever is pushed.
        decoder.push(encodeFrame(1, "more"));
        const again = decoder.next();
        if (again !== result) held.push({ error: `after the error: ${describeResult(again)}` });
        return false;
      }
    }
  }
}

function replay(chunks: readonly Buffer[], row: Row): Outcome {
  const decoder =
    row.maxFrameBytes === undefined
      ? new FrameDecoder()
      : new FrameDecoder({ maxFrameBytes: row.maxFrameBytes });
  const held: HeldEvent[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    if (!drain(decoder, held)) break;
  }
  // Read the payloads only now, after every push.
  const events = held.map((event) =>
    "payload" in event && Buffer.isBuffer(event.payload)
      ? { type: event.type, payload: event.payload.toString("hex") }
      : (event as DecodeEvent),
  );
  return { events, idle: decoder.isIdle };
}

const SHOWN_INPUT_BYTES = 40;

function call(row: Row): string {
  const hex =
    row.input.length <= SHOWN_INPUT_BYTES
      ? row.input.toString("hex")
      : `${row.input.subarray(0, SHOWN_INPUT_BYTES).toString("hex")}…(${row.input.length} bytes)`;
  const options = row.maxFrameBytes === undefined ? "" : `, {maxFrameBytes: ${row.maxFrameBytes}}`;
  return `decode(${hex}${options})`;
}

function checkRow(row: Row): void {
  const want: Outcome = { events: [...row.want], idle: row.idle };
  for (const { name, chunks } of chunkings(row.input)) {
    const got = replay(chunks, row);
    if (isDeepStrictEqual(got, want)) continue;
    assert.deepStrictEqual(
      got,
      want,
      `${call(row)} ${name} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
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

type FrameSpec = readonly [type: number, payload: Buffer | string];

/** The wire bytes of `specs`, one after the other. */
function wire(...specs: FrameSpec[]): Buffer {
  return Buffer.concat(specs.map(([type, payload]) => encodeFrame(type, payload)));
}

function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(" ", ""), "hex");
}

/** The event for a frame of `type` carrying `payload`. */
function fr(type: number, payload: Buffer | string): DecodeEvent {
  return { type, payload: Buffer.from(payload).toString("hex") };
}

function tooLarge(declaredBytes: number): DecodeEvent {
  return { error: "FRAME_TOO_LARGE", declaredBytes };
}

/** `length` bytes that differ from their neighbours, so a misplaced copy shows. */
function pattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + 3) % 251;
  return bytes;
}

const P1000 = pattern(1000);
const LOOKS_LIKE_HEADER = hex("00000001 07 41");
const SIXTEEN_MIB = 16 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Tables

// biome-ignore format: one row per line
runTable("round trips", [
  { name: "type 0, empty payload", input: wire([0, ""]), want: [fr(0, "")], idle: true },
  { name: "type 1, one byte", input: wire([1, "a"]), want: [fr(1, "a")], idle: true },
  { name: "type 255, four bytes", input: wire([255, hex("01020304")]), want: [fr(255, hex("01020304"))], idle: true },
  { name: "five bytes, a header's length", input: wire([2, "hello"]), want: [fr(2, "hello")], idle: true },
  { name: "1000 bytes", input: wire([3, P1000]), want: [fr(3, P1000)], idle: true },
  { name: "several frames in one buffer", input: wire([0, ""], [1, "a"], [255, "abcd"], [7, "hello"]), want: [fr(0, ""), fr(1, "a"), fr(255, "abcd"), fr(7, "hello")], idle: true },
  { name: "empty frames back to back", input: wire([0, ""], [1, ""], [255, ""]), want: [fr(0, ""), fr(1, ""), fr(255, "")], idle: true },
  { name: "an empty frame between frames", input: wire([1, "ab"], [9, ""], [1, "cd"]), want: [fr(1, "ab"), fr(9, ""), fr(1, "cd")], idle: true },
  { name: "a payload that looks like a header", input: wire([4, LOOKS_LIKE_HEADER], [5, "x"]), want: [fr(4, LOOKS_LIKE_HEADER), fr(5, "x")], idle: true },
  { name: "a UTF-8 string payload", input: wire([6, "héllo €𝄞"]), want: [fr(6, Buffer.from("héllo €𝄞"))], idle: true },
  { name: "a large frame among small ones", input: wire([1, "a"], [3, P1000], [1, "b"]), want: [fr(1, "a"), fr(3, P1000), fr(1, "b")], idle: true },
]);

// biome-ignore format: one row per line
runTable("truncated input (isIdle false at EOF)", [
  { name: "empty input is idle", input: hex(""), want: [], idle: true },
  { name: "part of a header", input: hex("000000"), want: [], idle: false },
  { name: "a header alone", input: hex("00000003 01"), want: [], idle: false },
  { name: "a header and part of its payload", input: hex("00000003 01 6162"), want: [], idle: false },
  { name: "a frame, then part of a header", input: hex("00000001 01 61 0000"), want: [fr(1, "a")], idle: false },
  { name: "a frame, then a header of an empty frame is a whole frame", input: hex("00000001 01 61 00000000 02"), want: [fr(1, "a"), fr(2, "")], idle: true },
]);

// biome-ignore format: one row per line
runTable("limits (maxFrameBytes counts the payload only)", [
  { name: "exactly at the limit", input: wire([1, "abcd"]), maxFrameBytes: 4, want: [fr(1, "abcd")], idle: true },
  { name: "one over, only the header arrived", input: hex("00000005 01"), maxFrameBytes: 4, want: [tooLarge(5)], idle: false },
  { name: "one over, with its payload", input: wire([1, "abcde"]), maxFrameBytes: 4, want: [tooLarge(5)], idle: false },
  { name: "frames before the large one are returned", input: wire([1, "ab"], [2, "abcde"]), maxFrameBytes: 4, want: [fr(1, "ab"), tooLarge(5)], idle: false },
  { name: "sticky: nothing after the error", input: wire([1, "abcde"], [2, "ok"]), maxFrameBytes: 4, want: [tooLarge(5)], idle: false },
  { name: "limit 0: empty frames only", input: wire([3, ""], [4, ""]), maxFrameBytes: 0, want: [fr(3, ""), fr(4, "")], idle: true },
  { name: "limit 0: one byte is too large", input: wire([3, "a"]), maxFrameBytes: 0, want: [tooLarge(1)], idle: false },
  { name: "default limit: a header declaring 16 MiB waits for the payload", input: hex("01000000 01"), want: [], idle: false },
  { name: "default limit: a header declaring 16 MiB + 1 fails at once", input: hex("01000001 01"), want: [tooLarge(SIXTEEN_MIB + 1)], idle: false },
  { name: "the largest declarable length", input: hex("ffffffff 00"), want: [tooLarge(0xffff_ffff)], idle: false },
]);

// ---------------------------------------------------------------------------------------------
// Copies: every payload byte is copied at most once

/** Bytes copied through Buffer#copy while `run` runs: the only way the codec copies. */
function countCopiedBytes(run: () => void): number {
  const original = Buffer.prototype.copy;
  let copied = 0;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer["copy"]>): number {
    const bytes = original.apply(this, args);
    copied += bytes;
    return bytes;
  };
  try {
    run();
  } finally {
    Buffer.prototype.copy = original;
  }
  return copied;
}

/** Pushes `payload` after its header in `chunkBytes` chunks, draining after each push; returns
 * the one frame that comes out. */
function decodeInChunks(decoder: FrameDecoder, payload: Buffer, chunkBytes: number): Buffer {
  decoder.push(encodeFrameHeader(9, payload.length));
  assert.equal(decoder.next().kind, "need-more", "next() after the header");
  let frame: Buffer | null = null;
  for (let at = 0; at < payload.length; at += chunkBytes) {
    decoder.push(payload.subarray(at, at + chunkBytes));
    const result = decoder.next();
    if (result.kind === "frame") frame = result.frame.payload;
    else assert.equal(result.kind, "need-more", `next() after ${at + chunkBytes} payload bytes`);
  }
  assert.ok(frame !== null, "a frame came out");
  return frame;
}

describe("payload assembly", () => {
  test("a 4 MiB payload in 1 KiB chunks: each byte copied once, well under a second", () => {
    const payload = pattern(4 * 1024 * 1024);
    const decoder = new FrameDecoder();
    let frame: Buffer = Buffer.alloc(0);
    const startMs = performance.now();
    const copiedBytes = countCopiedBytes(() => {
      frame = decodeInChunks(decoder, payload, 1024);
    });
    const elapsedMs = performance.now() - startMs;
    assert.equal(copiedBytes, payload.length, "bytes copied");
    // Loose on purpose: linear assembly takes milliseconds; copying the partial payload on every
    // chunk would move 8 GiB here.
    assert.ok(elapsedMs < 1000, `decoding took ${elapsedMs.toFixed(0)} ms, want < 1000`);
    assert.ok(frame.equals(payload), "payload decoded intact");
    assert.ok(decoder.isIdle, "idle after the frame");
  });

  test("frames that lie inside one chunk are returned without a copy", () => {
    const input = wire([1, "abc"], [2, pattern(5000)], [3, ""]);
    const decoder = new FrameDecoder();
    const types: number[] = [];
    const payloads: Buffer[] = [];
    const copiedBytes = countCopiedBytes(() => {
      decoder.push(input);
      for (let result = decoder.next(); result.kind === "frame"; result = decoder.next()) {
        types.push(result.frame.type);
        payloads.push(result.frame.payload);
      }
    });
    assert.deepEqual(types, [1, 2, 3]);
    assert.equal(copiedBytes, 0, "bytes copied");
    // Scribbling over the pushed chunk (which callers must not do) shows the payloads are views.
    input.fill(0x2e);
    assert.equal(payloads[0]?.toString(), "...", "first payload, a view");
  });

  test("a payload exactly at the default limit (16 MiB) is accepted, whole and in 64 KiB chunks", () => {
    const payload = pattern(DEFAULT_MAX_FRAME_BYTES);
    const whole = new FrameDecoder();
    whole.push(encodeFrame(1, payload));
    const result = whole.next();
    assert.ok(result.kind === "frame" && result.frame.payload.equals(payload), "whole");
    const chunked = decodeInChunks(new FrameDecoder(), payload, 64 * 1024);
    assert.ok(chunked.equals(payload), "in 64 KiB chunks");
  });

  test("a returned payload is not overwritten by later pushes", () => {
    const decoder = new FrameDecoder();
    const first = decodeInChunks(decoder, Buffer.from("first payload"), 3);
    decodeInChunks(decoder, Buffer.from("XXXXXXXXXXXXXXXXXXXXXX"), 3);
    assert.equal(first.toString(), "first payload");
  });
});

// ---------------------------------------------------------------------------------------------
// Encoding

// biome-ignore format: one row per line
const encodeRows: ReadonlyArray<{ call: string; got: () => Buffer; want: string }> = [
  { call: 'encodeFrame(0, "")', got: () => encodeFrame(0, ""), want: "00000000 00" },
  { call: 'encodeFrame(1, "a")', got: () => encodeFrame(1, "a"), want: "00000001 01 61" },
  { call: "encodeFrame(255, <01 02 03 04>)", got: () => encodeFrame(255, hex("01020304")), want: "00000004 ff 01020304" },
  { call: 'encodeFrame(7, "é") counts UTF-8 bytes', got: () => encodeFrame(7, "é"), want: "00000002 07 c3a9" },
  { call: "encodeFrame(2, <300 bytes of 0xaa>)", got: () => encodeFrame(2, Buffer.alloc(300, 0xaa)), want: `0000012c 02 ${"aa".repeat(300)}` },
  { call: "encodeFrameHeader(0, 0)", got: () => encodeFrameHeader(0, 0), want: "00000000 00" },
  { call: "encodeFrameHeader(9, 256)", got: () => encodeFrameHeader(9, 256), want: "00000100 09" },
  { call: "encodeFrameHeader(2, 0x01020304)", got: () => encodeFrameHeader(2, 0x01020304), want: "01020304 02" },
  { call: "encodeFrameHeader(255, 2^32-1)", got: () => encodeFrameHeader(255, 0xffff_ffff), want: "ffffffff ff" },
];

// biome-ignore format: one row per line
const rangeErrorRows: ReadonlyArray<{ call: string; run: () => unknown }> = [
  { call: 'encodeFrame(-1, "")', run: () => encodeFrame(-1, "") },
  { call: 'encodeFrame(256, "")', run: () => encodeFrame(256, "") },
  { call: 'encodeFrame(1.5, "")', run: () => encodeFrame(1.5, "") },
  { call: 'encodeFrame(NaN, "")', run: () => encodeFrame(Number.NaN, "") },
  { call: "encodeFrameHeader(256, 0)", run: () => encodeFrameHeader(256, 0) },
  { call: "encodeFrameHeader(0, -1)", run: () => encodeFrameHeader(0, -1) },
  { call: "encodeFrameHeader(0, 2^32)", run: () => encodeFrameHeader(0, 2 ** 32) },
  { call: "encodeFrameHeader(0, 1.5)", run: () => encodeFrameHeader(0, 1.5) },
  { call: "encodeFrameHeader(0, NaN)", run: () => encodeFrameHeader(0, Number.NaN) },
  { call: "new FrameDecoder({maxFrameBytes: -1})", run: () => new FrameDecoder({ maxFrameBytes: -1 }) },
  { call: "new FrameDecoder({maxFrameBytes: 0.5})", run: () => new FrameDecoder({ maxFrameBytes: 0.5 }) },
];

describe("encoding", () => {
  for (const row of encodeRows) {
    test(row.call, () => {
      const got = row.got().toString("hex");
      const want = row.want.replaceAll(" ", "");
      assert.equal(got, want, `${row.call} = ${got}, want ${want}`);
    });
  }

  test(`a header is ${FRAME_HEADER_BYTES} bytes and prefixes the frame`, () => {
    const frame = encodeFrame(3, "payload");
    assert.deepEqual(frame.subarray(0, FRAME_HEADER_BYTES), encodeFrameHeader(3, 7));
  });

  for (const row of rangeErrorRows) {
    test(`${row.call} throws RangeError`, () => {
      assert.throws(row.run, RangeError, `${row.call} did not throw RangeError`);
    });
  }
});
