import { parseArgs } from "node:util";
import {
  DEFAULT_MAX_FRAME_BYTES,
  MAX_ENCODABLE_PAYLOAD_BYTES,
  MAX_FRAME_TYPE,
} from "../net/frame-codec.js";
import { DEFAULT_MAX_LINE_BYTES } from "../net/line-splitter.js";
import { createStreamTracer, type Tracer } from "../net/trace.js";
import {
  DEFAULT_FRAME_TYPE,
  FRAME_FORMATS,
  FRAMINGS,
  type FramingOptions,
} from "../toolkit/client-framing.js";
import {
  type ConnectTarget,
  formatConnectAddress,
  formatConnectTarget,
  parseConnectTarget,
} from "../toolkit/connect-target.js";
import { DEFAULT_ATTEMPT_DELAY_MS, DEFAULT_CONNECT_TIMEOUT_MS } from "../toolkit/happy-eyeballs.js";
import { connectStream, runStreamSession, type StreamSessionEnd } from "../toolkit/tcp-client.js";
import {
  DEFAULT_UDP_RETRIES,
  DEFAULT_UDP_TIMEOUT_MS,
  openUdpClient,
  runUdpSession,
  type UdpSessionEnd,
} from "../toolkit/udp-client.js";
import { isParseArgsError, parseChoiceFlag, parseIntegerFlag, UsageError } from "./args.js";

export const CONNECT_USAGE =
  "Usage: berth connect HOST PORT | unix:/PATH [--udp] [--framing raw|line|length] [-v] [options]";

export const CONNECT_HELP = `${CONNECT_USAGE}

Connect to HOST PORT over TCP (or to a Unix socket), copy stdin to the connection and the
connection to stdout. stdin EOF half-closes the connection; berth exits 0 once the peer closes
and everything received is printed, 1 on a connect failure or reset, 2 on bad usage.

Connecting (TCP)
  --connect-timeout-ms N     give up connecting after N ms, name resolution included
                             (default ${DEFAULT_CONNECT_TIMEOUT_MS})
  --attempt-delay-ms N       Happy Eyeballs: try the next address after N ms if the previous
                             one has not connected (default ${DEFAULT_ATTEMPT_DELAY_MS}); IPv6 first,
                             families alternating; a failure starts the next at once

Framing (TCP)
  --framing raw|line|length  raw (default): bytes as they are, both ways.
                             line: stdin lines are sent ending in LF; whole received lines
                             are printed, never a partial one.
                             length: each stdin line is sent as one frame (4-byte big-endian
                             length, 1-byte type, payload); each received frame is printed
                             as one line.
  --frame-type N             type of the frames sent, 0-255 (default ${DEFAULT_FRAME_TYPE}; length only)
  --frame-format text|hex|json
                             how received frames are printed (length only): text (default)
                             the payload; hex TYPE:HEX; json {"type","bytes","payload"}
  --max-frame-bytes N        largest frame payload received, else error and exit 1
                             (default ${DEFAULT_MAX_FRAME_BYTES}; length only)
  --max-line-bytes N         longest line, stdin and received, else error and exit 1
                             (default ${DEFAULT_MAX_LINE_BYTES}; line, length and --udp)

UDP
  --udp                      send each stdin line (without its LF) as one datagram to the
                             first address of HOST; print each reply as one line
  --timeout-ms N             wait N ms for the reply to a line (default ${DEFAULT_UDP_TIMEOUT_MS})
  --retries N                send a line again up to N times without a reply (default ${DEFAULT_UDP_RETRIES}),
                             then "no reply from HOST:PORT after 1+N tries", exit 1

Output
  -v, --verbose              status lines on stderr (trying, connected, half-closed, closed)
  --trace                    a line per socket event on stderr: each connect attempt and its
                             outcome, each read as it arrived, writes (full: waiting for
                             drain), the half-close on stdin EOF, the peer's FIN and why the
                             connection closed; with --udp each datagram sent and received
                             and each retry
  -h, --help                 this help`;

const INT_MAX = 2 ** 31 - 1;
/** Far more retries than anyone waits through; the bound keeps typos like 1e9 out. */
const MAX_RETRIES = 10_000;

/** What the arguments ask for. */
export type ConnectCommand =
  | { readonly kind: "help" }
  | {
      readonly kind: "tcp";
      readonly target: ConnectTarget;
      readonly verbose: boolean;
      readonly trace: boolean;
      readonly connectTimeoutMs: number;
      readonly attemptDelayMs: number;
      readonly framing: FramingOptions;
    }
  | {
      readonly kind: "udp";
      readonly target: Extract<ConnectTarget, { kind: "tcp" }>;
      readonly verbose: boolean;
      readonly trace: boolean;
      readonly timeoutMs: number;
      readonly retries: number;
      readonly maxLineBytes: number;
    };

/** Flags that only make sense with --udp, and flags that only make sense without it. */
const UDP_ONLY_FLAGS = ["timeout-ms", "retries"] as const;
const TCP_ONLY_FLAGS = [
  "connect-timeout-ms",
  "attempt-delay-ms",
  "framing",
  "frame-type",
  "frame-format",
  "max-frame-bytes",
] as const;
const LENGTH_ONLY_FLAGS = ["frame-type", "frame-format", "max-frame-bytes"] as const;

/** Parses `berth connect` arguments; every mistake is a UsageError carrying CONNECT_USAGE. */
export function parseConnectArgs(argv: readonly string[]): ConnectCommand {
  try {
    return parseConnectArgsUnchecked(argv);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, CONNECT_USAGE);
    if (isParseArgsError(error)) throw new UsageError((error as Error).message, CONNECT_USAGE);
    throw error;
  }
}

function parseConnectArgsUnchecked(argv: readonly string[]): ConnectCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      udp: { type: "boolean" },
      "connect-timeout-ms": { type: "string" },
      "attempt-delay-ms": { type: "string" },
      framing: { type: "string" },
      "frame-type": { type: "string" },
      "frame-format": { type: "string" },
      "max-frame-bytes": { type: "string" },
      "max-line-bytes": { type: "string" },
      "timeout-ms": { type: "string" },
      retries: { type: "string" },
      verbose: { type: "boolean", short: "v" },
      trace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return { kind: "help" };
  const parsed = parseConnectTarget(positionals);
  if (parsed.kind === "error") throw new UsageError(parsed.message);
  const target = parsed.target;
  const int = (flag: keyof typeof values, min: number, max: number, fallback: number): number => {
    const text = values[flag];
    return typeof text === "string" ? parseIntegerFlag(flag, text, min, max) : fallback;
  };
  const verbose = values.verbose === true;
  const trace = values.trace === true;
  const maxLineBytes = int("max-line-bytes", 1, INT_MAX, DEFAULT_MAX_LINE_BYTES);

  if (values.udp === true) {
    rejectFlags(values, TCP_ONLY_FLAGS, "applies to TCP only, not --udp");
    if (target.kind === "unix") throw new UsageError("--udp cannot be used with unix: sockets");
    return {
      kind: "udp",
      target,
      verbose,
      trace,
      timeoutMs: int("timeout-ms", 1, INT_MAX, DEFAULT_UDP_TIMEOUT_MS),
      retries: int("retries", 0, MAX_RETRIES, DEFAULT_UDP_RETRIES),
      maxLineBytes,
    };
  }
  rejectFlags(values, UDP_ONLY_FLAGS, "needs --udp");
  const framing =
    values.framing === undefined ? "raw" : parseChoiceFlag("framing", values.framing, FRAMINGS);
  if (framing !== "length") rejectFlags(values, LENGTH_ONLY_FLAGS, "needs --framing length");
  if (framing === "raw" && values["max-line-bytes"] !== undefined) {
    throw new UsageError("--max-line-bytes needs --framing line, --framing length or --udp");
  }
  const frameFormat =
    values["frame-format"] === undefined
      ? "text"
      : parseChoiceFlag("frame-format", values["frame-format"], FRAME_FORMATS);
  return {
    kind: "tcp",
    target,
    verbose,
    trace,
    connectTimeoutMs: int("connect-timeout-ms", 1, INT_MAX, DEFAULT_CONNECT_TIMEOUT_MS),
    attemptDelayMs: int("attempt-delay-ms", 0, INT_MAX, DEFAULT_ATTEMPT_DELAY_MS),
    framing: {
      framing,
      frameType: int("frame-type", 0, MAX_FRAME_TYPE, DEFAULT_FRAME_TYPE),
      frameFormat,
      maxFrameBytes: int(
        "max-frame-bytes",
        0,
        MAX_ENCODABLE_PAYLOAD_BYTES,
        DEFAULT_MAX_FRAME_BYTES,
      ),
      maxLineBytes,
    },
  };
}

function rejectFlags(values: Record<string, unknown>, flags: readonly string[], why: string): void {
  for (const flag of flags) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} ${why}`);
  }
}

/** Runs `berth connect`; resolves with the exit code. Failures after parsing print one line
 * here (main.ts only knows serve's errors). */
export async function runConnect(argv: readonly string[]): Promise<number> {
  const command = parseConnectArgs(argv);
  switch (command.kind) {
    case "help":
      process.stdout.write(`${CONNECT_HELP}\n`);
      return 0;
    case "tcp":
      return runTcp(command);
    case "udp":
      return runUdp(command);
  }
}

function createStatusLog(verbose: boolean): (line: string) => void {
  return verbose ? (line) => process.stderr.write(`berth: ${line}\n`) : () => {};
}

/** Prints one error line; returns the exit code for a failure. */
function printError(line: string): number {
  process.stderr.write(`berth: ${line}\n`);
  return 1;
}

/** --trace: {trace} to spread into the toolkit's options, or nothing. */
function traceOption(enabled: boolean): { trace?: Tracer } {
  return enabled ? { trace: createStreamTracer(process.stderr) } : {};
}

async function runTcp(command: Extract<ConnectCommand, { kind: "tcp" }>): Promise<number> {
  const status = createStatusLog(command.verbose);
  const tracing = traceOption(command.trace);
  const connected = await connectStream(command.target, {
    connectTimeoutMs: command.connectTimeoutMs,
    attemptDelayMs: command.attemptDelayMs,
    onAttempt: (address) => status(`trying ${formatConnectAddress(address)}`),
    ...tracing,
  });
  if (connected.kind === "error") return printError(connected.message);
  status(`connected to ${formatConnectAddress(connected.address)}`);
  const end = await runStreamSession(connected.socket, process.stdin, process.stdout, {
    ...command.framing,
    onInputEnd: () => status("stdin ended: sent FIN (half-close), still reading"),
    ...tracing,
  });
  // The session is over even if stdin is not: let the process exit.
  process.stdin.destroy();
  return reportStreamEnd(end, formatConnectTarget(command.target), status);
}

function reportStreamEnd(
  end: StreamSessionEnd,
  where: string,
  status: (line: string) => void,
): number {
  switch (end.kind) {
    case "peer-closed":
      status(`connection closed by ${where}`);
      return 0;
    case "output-closed":
      return 0;
    case "socket-error":
      return printError(`Connection to ${where} lost: ${end.reason}`);
    case "protocol-error":
      return printError(end.from === "peer" ? `${end.message} (from ${where})` : end.message);
    case "input-error":
      return printError(`Cannot read stdin: ${end.reason}`);
  }
}

async function runUdp(command: Extract<ConnectCommand, { kind: "udp" }>): Promise<number> {
  const status = createStatusLog(command.verbose);
  const where = formatConnectTarget(command.target);
  const opened = await openUdpClient(command.target);
  if (opened.kind === "error") return printError(`Cannot send to ${where}: ${opened.reason}`);
  status(`sending to ${formatConnectAddress(opened.address)} over UDP`);
  const end = await runUdpSession(opened.socket, process.stdin, process.stdout, {
    timeoutMs: command.timeoutMs,
    retries: command.retries,
    maxLineBytes: command.maxLineBytes,
    ...traceOption(command.trace),
    onRetry: (tryNumber, maxTries) =>
      status(
        `no reply within ${command.timeoutMs} ms, sending again (try ${tryNumber} of ${maxTries})`,
      ),
  });
  opened.socket.close();
  process.stdin.destroy();
  return reportUdpEnd(end, where);
}

function reportUdpEnd(end: UdpSessionEnd, where: string): number {
  switch (end.kind) {
    case "input-done":
    case "output-closed":
      return 0;
    case "no-reply":
      return printError(
        `no reply from ${where} after ${end.tries} ${end.tries === 1 ? "try" : "tries"}`,
      );
    case "socket-error":
      return printError(
        end.during === "send"
          ? `Cannot send to ${where}: ${end.reason}`
          : `no reply from ${where}: ${end.reason}`,
      );
    case "protocol-error":
      return printError(end.message);
    case "input-error":
      return printError(`Cannot read stdin: ${end.reason}`);
  }
}
