import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { formatDuration, parseDuration } from "../bench/duration.js";
import {
  DEFAULT_TIMEOUT_MS,
  type LoadLimit,
  type LoadProgress,
  resolveBenchTarget,
  runHttpLoad,
} from "../bench/http-load.js";
import {
  BENCH_METHODS,
  type BenchConnectTarget,
  type BenchMethod,
  buildRequest,
  formatConnectTarget,
  type HeaderField,
  parseBenchUrls,
  parseHeaderFlag,
  RequestRotation,
} from "../bench/http-target.js";
import {
  DEFAULT_NAGLE_PAYLOAD_BYTES,
  DEFAULT_ROUND_TRIP_TIMEOUT_MS,
  DEFAULT_ROUND_TRIPS,
  runNagleLab,
} from "../bench/nagle-lab.js";
import {
  formatCount,
  formatHttpSummary,
  formatNagleTable,
  formatRate,
  type HttpRunDescription,
  type NagleRow,
  summarizeHttpLoad,
} from "../bench/summary.js";
import { isParseArgsError, parseChoiceFlag, parseIntegerFlag, UsageError } from "./args.js";

export const BENCH_USAGE =
  "Usage: berth bench http URL [URL...] [options] | berth bench nagle HOST PORT [options]";

export const BENCH_HELP = `${BENCH_USAGE}

Measurement tools for tuning servers.

Commands
  http URL [URL...]   HTTP/1.1 load generator: requests/s, bytes/s, latency percentiles,
                      status codes, errors (berth bench http --help)
  nagle HOST PORT     Nagle/TCP_NODELAY latency lab against berth echo --framing length
                      (berth bench nagle --help)

Options
  -h, --help          this help`;

export const BENCH_HTTP_USAGE =
  "Usage: berth bench http URL [URL...] [-c N] [-d DURATION | -n N] [--pipeline N] [--close] [-H 'Name: value'] [--method GET|HEAD] [--rate R] [--json]";

const DEFAULT_CONNECTIONS = 10;
const DEFAULT_DURATION = "10s";
const MAX_CONNECTIONS = 10_000;
const MAX_PIPELINE = 1024;
const MAX_REQUESTS = 1_000_000_000;
const MAX_RATE = 10_000_000;
const INT_MAX = 2 ** 31 - 1;

export const BENCH_HTTP_HELP = `${BENCH_HTTP_USAGE}

Send HTTP/1.1 requests for URL (several URLs: in rotation; they must share one host and
port) over keep-alive connections, as fast as the server answers, and print requests/s,
bytes/s, latency percentiles (p50, p90, p99, p99.9, max), status code counts and errors.

Load
  -c, --connections N        connections open at once (default ${DEFAULT_CONNECTIONS})
  -d, --duration DURATION    how long to run: 10s, 500ms, 2m (default ${DEFAULT_DURATION}); requests
                             still in flight at the end are not counted
  -n, --requests N           send exactly N requests instead of running for a duration
  --pipeline N               requests in flight per connection, written as one batch; the
                             next batch goes when every response of this one is in (default 1)
  --close                    a new connection per request (sent with Connection: close);
                             latency then includes the connect
  --rate R                   R requests per second in all, evenly spaced; latency counts from
                             when each request was due, not when it could be sent, so a
                             stalled server shows (coordinated omission corrected)

Requests
  --method GET|HEAD          request method (default GET)
  -H, --header 'Name: value'
                             an extra header field, repeatable; a Host field replaces the
                             URL's
  --unix-socket PATH         connect to this Unix socket instead; the URLs give the Host
                             field and the paths
  --timeout-ms N             a connection or a response taking longer is an error
                             (default ${DEFAULT_TIMEOUT_MS})

Output
  --json                     print one JSON object instead of the text summary
  -h, --help                 this help

Errors count requests that got no response, by what ended their connection: connect
(refused, unreachable, or not connected within --timeout-ms), reset (reset or closed by the
server with requests unanswered), timeout (no response within --timeout-ms), parse (not a
well-formed HTTP/1.1 response). A live progress line goes to stderr when it is a terminal.
Exit status: 0 when at least one response came back, 1 otherwise, 2 on bad usage.`;

export const BENCH_NAGLE_USAGE =
  "Usage: berth bench nagle HOST PORT [-n N] [--payload-bytes N] [--timeout-ms N] [--json]";

export const BENCH_NAGLE_HELP = `${BENCH_NAGLE_USAGE}

Measure what Nagle's algorithm and delayed ACKs do to a request written in two small pieces,
against berth echo --framing length on HOST PORT (start one with
berth echo --framing length --listen 127.0.0.1:7008). Each round trip sends one frame,
its 5-byte header and its payload in two writes (write-write-read) or in one
(single-write), with TCP_NODELAY off (Nagle on) and on, then waits for the whole echo.
Prints p50, p99 and max latency per mode; with Nagle on, write-write-read stalls ~40 ms
(the delayed ACK) on every round trip.

Options
  -n, --round-trips N        round trips per mode (default ${DEFAULT_ROUND_TRIPS})
  --payload-bytes N          payload of each frame (default ${DEFAULT_NAGLE_PAYLOAD_BYTES})
  --timeout-ms N             a round trip taking longer is an error (default ${DEFAULT_ROUND_TRIP_TIMEOUT_MS})
  --json                     print the rows as a JSON array of
                             { mode, nodelay, p50Ms, p99Ms, maxMs }
  -h, --help                 this help`;

interface HttpBenchCommand {
  readonly kind: "http";
  readonly urls: readonly string[];
  readonly connectTarget: BenchConnectTarget;
  readonly requests: readonly Buffer[];
  readonly method: BenchMethod;
  readonly connections: number;
  readonly pipeline: number;
  readonly close: boolean;
  readonly limit: LoadLimit;
  readonly ratePerSecond: number | null;
  readonly timeoutMs: number;
  readonly json: boolean;
}

interface NagleBenchCommand {
  readonly kind: "nagle";
  readonly host: string;
  readonly port: number;
  readonly roundTrips: number;
  readonly payloadBytes: number;
  readonly timeoutMs: number;
  readonly json: boolean;
}

export type BenchCommand =
  | { readonly kind: "help"; readonly text: string }
  | HttpBenchCommand
  | NagleBenchCommand;

/** Parses `berth bench ...`; every mistake is a UsageError carrying the subcommand's usage. */
export function parseBenchArgs(argv: readonly string[]): BenchCommand {
  const [subcommand, ...rest] = argv;
  switch (subcommand) {
    case "http":
      return withUsage(BENCH_HTTP_USAGE, () => parseHttpArgs(rest));
    case "nagle":
      return withUsage(BENCH_NAGLE_USAGE, () => parseNagleArgs(rest));
    case "-h":
    case "--help":
      return { kind: "help", text: BENCH_HELP };
    case undefined:
      throw new UsageError("expected http or nagle", BENCH_USAGE);
    default:
      throw new UsageError(`unknown bench "${subcommand}" (expected http or nagle)`, BENCH_USAGE);
  }
}

function withUsage(usage: string, parse: () => BenchCommand): BenchCommand {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      throw new UsageError((error as Error).message, usage);
    }
    throw error;
  }
}

function parseHttpArgs(argv: readonly string[]): BenchCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      connections: { type: "string", short: "c" },
      duration: { type: "string", short: "d" },
      requests: { type: "string", short: "n" },
      pipeline: { type: "string" },
      close: { type: "boolean" },
      rate: { type: "string" },
      method: { type: "string" },
      header: { type: "string", short: "H", multiple: true },
      "unix-socket": { type: "string" },
      "timeout-ms": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return { kind: "help", text: BENCH_HTTP_HELP };
  const parsedUrls = parseBenchUrls(positionals, values["unix-socket"]);
  if (parsedUrls.kind === "error") throw new UsageError(parsedUrls.message);
  const int = (flag: keyof typeof values, min: number, max: number, fallback: number): number => {
    const text = values[flag];
    return typeof text === "string" ? parseIntegerFlag(flag, text, min, max) : fallback;
  };
  const close = values.close === true;
  if (close && values.pipeline !== undefined) {
    throw new UsageError("--pipeline does not apply to --close (one request per connection)");
  }
  const method = parseChoiceFlag("method", values.method ?? "GET", BENCH_METHODS);
  const headers: HeaderField[] = (values.header ?? []).map((text) => {
    const parsed = parseHeaderFlag(text);
    if (parsed.kind === "error") throw new UsageError(parsed.message);
    return parsed.field;
  });
  const pipeline = close ? 1 : int("pipeline", 1, MAX_PIPELINE, 1);
  const requests = parsedUrls.urls.map((url) => buildRequest(url, { method, headers, close }));
  return {
    kind: "http",
    urls: parsedUrls.urls.map((url) => url.text),
    connectTarget: parsedUrls.connectTarget,
    requests,
    method,
    connections: int("connections", 1, MAX_CONNECTIONS, DEFAULT_CONNECTIONS),
    pipeline,
    close,
    limit: parseLimit(values.duration, values.requests),
    ratePerSecond:
      values.rate === undefined ? null : parseIntegerFlag("rate", values.rate, 1, MAX_RATE),
    timeoutMs: int("timeout-ms", 1, INT_MAX, DEFAULT_TIMEOUT_MS),
    json: values.json === true,
  };
}

function parseLimit(duration: string | undefined, requests: string | undefined): LoadLimit {
  if (duration !== undefined && requests !== undefined) {
    throw new UsageError("give -d/--duration or -n/--requests, not both");
  }
  if (requests !== undefined) {
    return { kind: "requests", count: parseIntegerFlag("requests", requests, 1, MAX_REQUESTS) };
  }
  const parsed = parseDuration(duration ?? DEFAULT_DURATION);
  if (parsed.kind === "error") throw new UsageError(`--duration ${parsed.message}`);
  return { kind: "duration", durationMs: parsed.durationMs };
}

function parseNagleArgs(argv: readonly string[]): BenchCommand {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      "round-trips": { type: "string", short: "n" },
      "payload-bytes": { type: "string" },
      "timeout-ms": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return { kind: "help", text: BENCH_NAGLE_HELP };
  const [hostText, portText, ...extra] = positionals;
  if (hostText === undefined || portText === undefined || extra.length > 0) {
    throw new UsageError("expected HOST PORT (of berth echo --framing length)");
  }
  const host = hostText.replace(/^\[(.*)\]$/, "$1");
  if (host.length === 0) throw new UsageError("the host is empty");
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new UsageError(`PORT must be a number from 1 to 65535, got "${portText}"`);
  }
  const int = (flag: keyof typeof values, min: number, max: number, fallback: number): number => {
    const text = values[flag];
    return typeof text === "string" ? parseIntegerFlag(flag, text, min, max) : fallback;
  };
  return {
    kind: "nagle",
    host,
    port: Number(portText),
    roundTrips: int("round-trips", 1, 1_000_000, DEFAULT_ROUND_TRIPS),
    // One MSS on loopback is ~64 KiB; past it the payload is no longer "small".
    payloadBytes: int("payload-bytes", 1, 65_536, DEFAULT_NAGLE_PAYLOAD_BYTES),
    timeoutMs: int("timeout-ms", 1, INT_MAX, DEFAULT_ROUND_TRIP_TIMEOUT_MS),
    json: values.json === true,
  };
}

/** Runs `berth bench`; resolves with the exit code. */
export async function runBench(argv: readonly string[]): Promise<number> {
  const command = parseBenchArgs(argv);
  switch (command.kind) {
    case "help":
      process.stdout.write(`${command.text}\n`);
      return 0;
    case "http":
      return runHttpBench(command);
    case "nagle":
      return runNagleBench(command);
  }
}

function printError(line: string): number {
  process.stderr.write(`berth: ${line}\n`);
  return 1;
}

async function runHttpBench(command: HttpBenchCommand): Promise<number> {
  const resolved = await resolveBenchTarget(command.connectTarget);
  if (resolved.kind === "error") return printError(resolved.message);
  const progress = createProgressLine(process.stderr);
  // Ctrl-C ends the run early and still prints what was measured.
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once("SIGINT", onSigint);
  const measured = await runHttpLoad({
    target: resolved.target,
    rotation: new RequestRotation(command.requests, command.pipeline),
    isHead: command.method === "HEAD",
    connections: command.connections,
    pipeline: command.pipeline,
    close: command.close,
    limit: command.limit,
    ratePerSecond: command.ratePerSecond,
    timeoutMs: command.timeoutMs,
    signal: abort.signal,
    ...(progress === null ? {} : { onProgress: progress.update }),
  });
  process.off("SIGINT", onSigint);
  progress?.clear();
  const summary = summarizeHttpLoad(measured);
  if (command.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const run: HttpRunDescription = {
      urls: command.urls,
      connections: command.connections,
      pipeline: command.pipeline,
      close: command.close,
      length:
        command.limit.kind === "duration"
          ? formatDuration(command.limit.durationMs)
          : `${formatCount(command.limit.count)} requests`,
      ratePerSecond: command.ratePerSecond,
    };
    process.stdout.write(`${formatHttpSummary(summary, run)}\n`);
  }
  if (summary.requests === 0) {
    return printError(`no response from ${formatConnectTarget(command.connectTarget)}`);
  }
  return 0;
}

interface ProgressLine {
  readonly update: (progress: LoadProgress) => void;
  readonly clear: () => void;
}

/** A line redrawn in place on a terminal; none when stderr is a file or a pipe. */
function createProgressLine(stream: NodeJS.WriteStream): ProgressLine | null {
  if (stream.isTTY !== true) return null;
  let previous: LoadProgress = { elapsedMs: 0, responses: 0, errors: 0 };
  return {
    update: (progress) => {
      const seconds = (progress.elapsedMs - previous.elapsedMs) / 1000;
      const rate = seconds > 0 ? (progress.responses - previous.responses) / seconds : 0;
      previous = progress;
      stream.write(
        `\r\x1b[K${(progress.elapsedMs / 1000).toFixed(1)} s   ${formatCount(progress.responses)} responses   ${formatRate(rate)} req/s   ${formatCount(progress.errors)} errors`,
      );
    },
    clear: () => {
      stream.write("\r\x1b[K");
    },
  };
}

async function runNagleBench(command: NagleBenchCommand): Promise<number> {
  let host = command.host;
  if (isIP(host) === 0) {
    try {
      host = (await lookup(host)).address;
    } catch {
      return printError(`Cannot resolve ${command.host}: unknown host`);
    }
  }
  const tty = process.stderr.isTTY === true;
  const result = await runNagleLab({
    host,
    port: command.port,
    roundTrips: command.roundTrips,
    payloadBytes: command.payloadBytes,
    roundTripTimeoutMs: command.timeoutMs,
    ...(tty ? { onCase: (row: NagleRow) => reportCase(row) } : {}),
  });
  if (tty) process.stderr.write("\r\x1b[K");
  if (result.kind === "error") return printError(result.message);
  if (command.json) {
    process.stdout.write(`${JSON.stringify(result.rows)}\n`);
  } else {
    process.stdout.write(
      `berth bench nagle ${formatConnectTarget({ kind: "tcp", host, port: command.port })}: ${formatCount(command.roundTrips)} round trips per mode, ${command.payloadBytes}-byte payload\n${formatNagleTable(result.rows)}\n`,
    );
  }
  return 0;
}

function reportCase(row: NagleRow): void {
  process.stderr.write(
    `\r\x1b[K${row.mode}, TCP_NODELAY ${row.nodelay ? "on" : "off"}: p50 ${row.p50Ms.toFixed(2)} ms`,
  );
}
