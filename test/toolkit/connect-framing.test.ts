/**
 * The pure parts of `berth connect`: the framing codecs (every row replayed at every chunking,
 * STYLE.md rule 9), the positional target syntax and the flag rules.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { UsageError } from "../../src/cli/args.js";
import { type ConnectCommand, parseConnectArgs } from "../../src/cli/connect.js";
import { encodeFrame, encodeFrameHeader } from "../../src/net/frame-codec.js";
import {
  createInboundCodec,
  createOutboundCodec,
  type FramingOptions,
} from "../../src/toolkit/client-framing.js";
import { parseConnectTarget } from "../../src/toolkit/connect-target.js";
import { chunkings } from "../helpers/chunkings.js";

const BASE: FramingOptions = {
  framing: "raw",
  frameType: 1,
  frameFormat: "text",
  maxFrameBytes: 16,
  maxLineBytes: 8,
};

interface CodecRow {
  readonly name: string;
  readonly direction: "inbound" | "outbound";
  readonly options: Partial<FramingOptions>;
  readonly input: Buffer;
  /** Everything the codec passed on, then the error if one ended it. */
  readonly want: Buffer;
  readonly error?: string;
}

const hex = (text: string): Buffer => Buffer.from(text.replaceAll(" ", ""), "hex");
const text = (value: string): Buffer => Buffer.from(value, "utf8");
const frames = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

// biome-ignore format: a table reads best with one row per line
const codecRows: CodecRow[] = [
  { name: "raw passes bytes through both ways", direction: "inbound", options: { framing: "raw" }, input: hex("00 ff 0a 0d 41"), want: hex("00 ff 0a 0d 41") },
  { name: "raw outbound too", direction: "outbound", options: { framing: "raw" }, input: hex("00 ff 0a 0d 41"), want: hex("00 ff 0a 0d 41") },
  { name: "line inbound: LF and CRLF lines end in LF, the tail is printed at EOF", direction: "inbound", options: { framing: "line" }, input: text("a\r\nbc\n\nd"), want: text("a\nbc\n\nd\n") },
  { name: "line outbound: CRLF becomes LF, a missing last LF is added", direction: "outbound", options: { framing: "line" }, input: text("a\r\nb\nc"), want: text("a\nb\nc\n") },
  { name: "line inbound: a line over --max-line-bytes ends the session", direction: "inbound", options: { framing: "line" }, input: text("ok\n123456789\nlost\n"), want: text("ok\n"), error: "a received line is longer than --max-line-bytes (8)" },
  { name: "line outbound: a stdin line over the limit", direction: "outbound", options: { framing: "line" }, input: text("123456789"), want: text(""), error: "a stdin line is longer than --max-line-bytes (8)" },
  { name: "length outbound: each line one frame of the chosen type, empty lines too", direction: "outbound", options: { framing: "length", frameType: 9 }, input: text("hi\r\n\nyo"), want: frames(encodeFrame(9, "hi"), encodeFrame(9, ""), encodeFrame(9, "yo")) },
  { name: "length inbound text: the payload, one line each", direction: "inbound", options: { framing: "length" }, input: frames(encodeFrame(1, "hi"), encodeFrame(2, "")), want: text("hi\n\n") },
  { name: "length inbound hex: TYPE:HEX", direction: "inbound", options: { framing: "length", frameFormat: "hex" }, input: frames(encodeFrame(7, hex("00ff0a")), encodeFrame(0, "")), want: text("7:00ff0a\n0:\n") },
  { name: "length inbound json: type, bytes, payload", direction: "inbound", options: { framing: "length", frameFormat: "json" }, input: frames(encodeFrame(3, "é\n\"")), want: text('{"type":3,"bytes":4,"payload":"é\\n\\""}\n') },
  { name: "length inbound: a frame over --max-frame-bytes ends the session", direction: "inbound", options: { framing: "length" }, input: frames(encodeFrame(1, "ok"), encodeFrameHeader(1, 17)), want: text("ok\n"), error: "received a frame of 17 bytes, over --max-frame-bytes (16)" },
  { name: "length inbound: a frame cut short by EOF", direction: "inbound", options: { framing: "length" }, input: frames(encodeFrame(1, "ok"), encodeFrame(1, "cut").subarray(0, 6)), want: text("ok\n"), error: "the connection closed in the middle of a frame" },
];

function runCodec(
  row: CodecRow,
  chunks: readonly Buffer[],
): { bytes: Buffer; error: string | null } {
  const options = { ...BASE, ...row.options };
  const codec =
    row.direction === "inbound" ? createInboundCodec(options) : createOutboundCodec(options);
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const step = codec.push(chunk);
    out.push(Buffer.from(step.bytes));
    if (step.error !== null) return { bytes: Buffer.concat(out), error: step.error };
  }
  const last = codec.end();
  out.push(last.bytes);
  return { bytes: Buffer.concat(out), error: last.error };
}

describe("client framing codecs, at every chunking", () => {
  for (const row of codecRows) {
    test(row.name, () => {
      for (const chunking of chunkings(row.input)) {
        const got = runCodec(row, chunking.chunks);
        assert.deepEqual(
          { bytes: got.bytes.toString("hex"), error: got.error },
          { bytes: row.want.toString("hex"), error: row.error ?? null },
          `${row.direction} ${JSON.stringify(row.options)} ${chunking.name}`,
        );
      }
    });
  }
});

describe("parseConnectTarget", () => {
  // biome-ignore format: a table reads best with one row per line
  const cases: [readonly string[], string][] = [
    [["example", "80"], '{"kind":"tcp","host":"example","port":80}'],
    [["127.0.0.1", "65535"], '{"kind":"tcp","host":"127.0.0.1","port":65535}'],
    [["::1", "8080"], '{"kind":"tcp","host":"::1","port":8080}'],
    [["[::1]", "8080"], '{"kind":"tcp","host":"::1","port":8080}'],
    [["unix:/run/app.sock"], '{"kind":"unix","path":"/run/app.sock"}'],
    [[], "error: expected HOST PORT or unix:/PATH"],
    [["example"], "error: expected HOST PORT or unix:/PATH, got no PORT"],
    [["example", "80", "extra"], "error: expected HOST PORT or unix:/PATH"],
    [["example", "0"], 'error: PORT must be a number from 1 to 65535, got "0"'],
    [["example", "65536"], 'error: PORT must be a number from 1 to 65535, got "65536"'],
    [["example", "http"], 'error: PORT must be a number from 1 to 65535, got "http"'],
    [["[]", "80"], "error: the host is empty"],
    [["unix:"], "error: unix: needs a socket path"],
    [["unix:/x", "80"], "error: unix:/x takes no PORT"],
  ];
  for (const [args, want] of cases) {
    test(`parseConnectTarget(${JSON.stringify(args)})`, () => {
      const parsed = parseConnectTarget(args);
      const got =
        parsed.kind === "error" ? `error: ${parsed.message}` : JSON.stringify(parsed.target);
      assert.equal(got, want, `parseConnectTarget(${JSON.stringify(args)})`);
    });
  }
});

describe("parseConnectArgs", () => {
  /** The parts of a command a row checks, or the usage error. */
  function summarize(argv: readonly string[]): string {
    let command: ConnectCommand;
    try {
      command = parseConnectArgs(argv);
    } catch (error) {
      assert.ok(error instanceof UsageError, `parseConnectArgs(${argv.join(" ")}) threw ${error}`);
      assert.match(
        error.usage ?? "",
        /^Usage: berth connect /,
        "a usage error carries CONNECT_USAGE",
      );
      return `usage: ${error.message}`;
    }
    switch (command.kind) {
      case "help":
        return "help";
      case "tcp": {
        const f = command.framing;
        return `tcp connect=${command.connectTimeoutMs} delay=${command.attemptDelayMs} ${f.framing} type=${f.frameType} ${f.frameFormat} frame=${f.maxFrameBytes} line=${f.maxLineBytes}${command.verbose ? " verbose" : ""}`;
      }
      case "udp":
        return `udp timeout=${command.timeoutMs} retries=${command.retries} line=${command.maxLineBytes}${command.verbose ? " verbose" : ""}`;
    }
  }
  // biome-ignore format: a table reads best with one row per line
  const cases: [string, string][] = [
    ["--help", "help"],
    ["-h", "help"],
    ["h 1", "tcp connect=10000 delay=250 raw type=1 text frame=16777216 line=65536"],
    ["h 1 -v --connect-timeout-ms 50 --attempt-delay-ms 0", "tcp connect=50 delay=0 raw type=1 text frame=16777216 line=65536 verbose"],
    ["h 1 --framing line --max-line-bytes 10", "tcp connect=10000 delay=250 line type=1 text frame=16777216 line=10"],
    ["h 1 --framing length --frame-type 255 --frame-format json --max-frame-bytes 0", "tcp connect=10000 delay=250 length type=255 json frame=0 line=65536"],
    ["unix:/s --framing length", "tcp connect=10000 delay=250 length type=1 text frame=16777216 line=65536"],
    ["--udp h 1", "udp timeout=1000 retries=2 line=65536"],
    ["--udp h 1 --timeout-ms 100 --retries 0 --max-line-bytes 512 -v", "udp timeout=100 retries=0 line=512 verbose"],
    ["--nope h 1", "usage: Unknown option '--nope'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--nope\""],
    ["h", "usage: expected HOST PORT or unix:/PATH, got no PORT"],
    ["--udp unix:/s", "usage: --udp cannot be used with unix: sockets"],
    ["h 1 --retries 3", "usage: --retries needs --udp"],
    ["h 1 --timeout-ms 3", "usage: --timeout-ms needs --udp"],
    ["--udp h 1 --framing line", "usage: --framing applies to TCP only, not --udp"],
    ["--udp h 1 --connect-timeout-ms 5", "usage: --connect-timeout-ms applies to TCP only, not --udp"],
    ["h 1 --frame-type 2", "usage: --frame-type needs --framing length"],
    ["h 1 --framing line --frame-format hex", "usage: --frame-format needs --framing length"],
    ["h 1 --max-line-bytes 5", "usage: --max-line-bytes needs --framing line, --framing length or --udp"],
    ["h 1 --framing words", 'usage: --framing must be one of raw, line, length, got "words"'],
    ["h 1 --framing length --frame-format xml", 'usage: --frame-format must be one of text, hex, json, got "xml"'],
    ["h 1 --framing length --frame-type 256", "usage: --frame-type must be between 0 and 255, got 256"],
    ["h 1 --connect-timeout-ms 0", "usage: --connect-timeout-ms must be between 1 and 2147483647, got 0"],
    ["h 1 --connect-timeout-ms 1.5", 'usage: --connect-timeout-ms expects a whole number, got "1.5"'],
    ["--udp h 1 --retries 10001", "usage: --retries must be between 0 and 10000, got 10001"],
  ];
  for (const [args, want] of cases) {
    test(`berth connect ${args}`, () => {
      assert.equal(summarize(args.split(" ")), want, `parseConnectArgs(${args})`);
    });
  }
});
