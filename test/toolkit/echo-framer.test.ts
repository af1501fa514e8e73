/**
 * Table tests for the echo framings (pure: no sockets). Every row is replayed at every chunking
 * from chunkings() (whole, every two-way split, byte by byte) and must write back the same bytes
 * and end the same way (STYLE.md rule 9). Each step's output must also hold whole units only:
 * complete lines (line framing) or complete frames (length framing), never a piece of one.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeFrame, encodeFrameHeader, FrameDecoder } from "../../src/net/frame-codec.js";
import {
  createEchoFramer,
  type EchoFraming,
  type EchoRejection,
  type EchoStep,
  formatLineTooLong,
} from "../../src/toolkit/echo-server.js";
import { chunkings } from "../helpers/chunkings.js";

interface Row {
  readonly name: string;
  readonly framing: EchoFraming;
  readonly input: Buffer;
  readonly maxLineBytes?: number;
  readonly maxFrameBytes?: number;
  /** Everything written back, in order, the end() step included. */
  readonly want: Buffer;
  /** How it ends: null when every step is "echo". */
  readonly rejection: EchoRejection | null;
}

const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const concat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

// biome-ignore format: one row per line
const ROWS: readonly Row[] = [
  { name: "raw: every byte value", framing: "raw", input: ALL_BYTES, want: ALL_BYTES, rejection: null },
  { name: "raw: LF and CR are data", framing: "raw", input: latin1("a\r\nb\n\r"), want: latin1("a\r\nb\n\r"), rejection: null },
  { name: "line: LF, CRLF and empty lines keep their terminators", framing: "line", input: latin1("one\ntwo\r\n\r\n\nthree\r\n"), want: latin1("one\ntwo\r\n\r\n\nthree\r\n"), rejection: null },
  { name: "line: a CR not before LF is data", framing: "line", input: latin1("a\rb\r\r\n"), want: latin1("a\rb\r\r\n"), rejection: null },
  { name: "line: binary bytes inside a line", framing: "line", input: concat(ALL_BYTES.subarray(11), latin1("\n")), want: concat(ALL_BYTES.subarray(11), latin1("\n")), rejection: null },
  { name: "line: unterminated last line is echoed at end", framing: "line", input: latin1("x\nlast"), want: latin1("x\nlast"), rejection: null },
  { name: "line: exactly at the limit, CRLF", framing: "line", input: latin1("abcd\r\nab\n"), maxLineBytes: 4, want: latin1("abcd\r\nab\n"), rejection: null },
  { name: "line: one over the limit", framing: "line", input: latin1("ok\nabcde\nnever\n"), maxLineBytes: 4, want: latin1(`ok\n${formatLineTooLong(4)}`), rejection: { code: "LINE_TOO_LONG", maxLineBytes: 4 } },
  { name: "line: unterminated tail over the limit", framing: "line", input: latin1("ok\nabcde"), maxLineBytes: 4, want: latin1(`ok\n${formatLineTooLong(4)}`), rejection: { code: "LINE_TOO_LONG", maxLineBytes: 4 } },
  { name: "length: frames keep their type", framing: "length", input: concat(encodeFrame(1, "hi"), encodeFrame(0, ""), encodeFrame(255, ALL_BYTES.subarray(0, 9))), want: concat(encodeFrame(1, "hi"), encodeFrame(0, ""), encodeFrame(255, ALL_BYTES.subarray(0, 9))), rejection: null },
  { name: "length: payload exactly at the limit", framing: "length", input: encodeFrame(2, "abcd"), maxFrameBytes: 4, want: encodeFrame(2, "abcd"), rejection: null },
  { name: "length: over the limit, judged at the header", framing: "length", input: concat(encodeFrame(7, "ok"), encodeFrameHeader(1, 5), latin1("abc")), maxFrameBytes: 4, want: encodeFrame(7, "ok"), rejection: { code: "FRAME_TOO_LARGE", declaredBytes: 5, maxFrameBytes: 4 } },
  { name: "length: truncated frame at end", framing: "length", input: concat(encodeFrame(3, "ok"), encodeFrameHeader(1, 5), latin1("ab")), want: encodeFrame(3, "ok"), rejection: { code: "TRUNCATED_FRAME", pendingBytes: 7 } },
];

/** Every piece one step writes back is whole: lines end with LF, frames decode completely. */
function assertWholeUnits(row: Row, step: EchoStep, atEnd: boolean, where: string): void {
  if (step.kind === "reject" || step.output.length === 0) return;
  const bytes = Buffer.concat(step.output);
  if (row.framing === "line" && !atEnd) {
    assert.equal(bytes.at(-1), 0x0a, `${where}: a step wrote a partial line`);
  }
  if (row.framing === "length") {
    const decoder = new FrameDecoder();
    decoder.push(bytes);
    while (decoder.next().kind === "frame") {}
    assert.ok(decoder.isIdle, `${where}: a step wrote a partial frame`);
  }
}

describe("createEchoFramer: same echo at every chunking", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      for (const { name, chunks } of chunkings(row.input)) {
        const framer = createEchoFramer(row.framing, {
          ...(row.maxLineBytes === undefined ? {} : { maxLineBytes: row.maxLineBytes }),
          ...(row.maxFrameBytes === undefined ? {} : { maxFrameBytes: row.maxFrameBytes }),
        });
        const written: Buffer[] = [];
        let rejection: EchoRejection | null = null;
        const take = (step: EchoStep, atEnd: boolean): void => {
          assertWholeUnits(row, step, atEnd, `${row.name} ${name}`);
          if (rejection !== null) {
            assert.deepEqual(step.output, [], `${row.name} ${name}: output after a rejection`);
            return;
          }
          written.push(...step.output);
          if (step.kind === "reject") rejection = step.rejection;
        };
        for (const chunk of chunks) take(framer.push(chunk), false);
        take(framer.end(), true);
        const got = Buffer.concat(written);
        assert.ok(
          got.equals(row.want),
          `${row.name} ${name}: echoed ${JSON.stringify(got.toString("latin1"))}, want ${JSON.stringify(row.want.toString("latin1"))}`,
        );
        assert.deepEqual(rejection, row.rejection, `${row.name} ${name}: rejection`);
      }
    });
  }
});

test("createEchoFramer: the line framing holds only the unterminated line", () => {
  const framer = createEchoFramer("line");
  framer.push(latin1("done\npart"));
  assert.equal(framer.pendingBytes, 4, 'pendingBytes after "done\\npart"');
  const length = createEchoFramer("length");
  length.push(concat(encodeFrame(1, "x"), encodeFrameHeader(1, 10), latin1("abc")));
  assert.equal(length.pendingBytes, 8, "pendingBytes with one frame done and 8 bytes of the next");
});
