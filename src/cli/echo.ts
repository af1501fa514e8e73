import { parseArgs } from "node:util";
import { DEFAULT_MAX_FRAME_BYTES } from "../net/frame-codec.js";
import { DEFAULT_MAX_LINE_BYTES } from "../net/line-splitter.js";
import { type BoundAddress, formatAddress, LOOPBACK_HOSTS } from "../net/listen.js";
import { type ListenSpec, parseListenTarget } from "../net/listen-target.js";
import { createStreamTracer } from "../net/trace.js";
import { createStreamLogger } from "../server/log.js";
import {
  createEchoServer,
  DEFAULT_ECHO_PORT,
  ECHO_FRAMINGS,
  type EchoFraming,
  type EchoServerOptions,
  type EchoTransport,
} from "../toolkit/echo-server.js";
import { formatUdpUnixError } from "../toolkit/udp-echo.js";
import { parseChoiceFlag, parseIntegerFlag, parseSocketModeFlag, UsageError } from "./args.js";
import { waitForShutdown } from "./signals.js";

export const ECHO_USAGE =
  "Usage: berth echo [--listen ADDR ...] [--udp] [--framing raw|line|length] [--max-line-bytes N] [--max-frame-bytes N] [--max-clients N] [--socket-mode MODE] [--quiet]";

export const ECHO_HELP = `${ECHO_USAGE}

Echo back what clients send, over TCP and Unix sockets, or over UDP with --udp: a peer for
testing clients, proxies, tunnels and firewalls. Many clients are served at once.

Listening
  --listen ADDR              where to listen, repeatable: PORT (loopback), HOST:PORT,
                             [IPV6]:PORT or unix:/PATH. Default: ${DEFAULT_ECHO_PORT} on 127.0.0.1 and ::1.
  --socket-mode MODE         permission bits of Unix socket files, octal (e.g. 660)
  --udp                      echo UDP datagrams instead of TCP: each datagram goes back to its
                             sender unchanged, one for one, empty ones included.
                             HOST:PORT forms only (unix:/PATH is an error).

Framing (TCP and Unix sockets)
  --framing raw|line|length  raw (default): every byte read is written back as it arrives.
                             line: whole lines, ending LF or CRLF, written back with the
                             terminator they came with; an unterminated last line is written
                             back when the client ends its side.
                             length: whole frames (4-byte big-endian payload length, 1-byte
                             type, payload), written back with the same type.
                             A client that does not read its echo is not read from either
                             until it catches up: berth never buffers without bound.
  --max-line-bytes N         longest line, terminator excluded (line framing; default
                             ${DEFAULT_MAX_LINE_BYTES}). A longer line: the client gets the line
                             "error: line too long (max N bytes)" and is closed.
  --max-frame-bytes N        largest frame payload (length framing; default ${DEFAULT_MAX_FRAME_BYTES}).
                             A larger one: the client is closed as soon as the 5-byte header
                             arrives, before any of the payload is kept.

Limits
  --max-clients N            clients connected at once (TCP and Unix). Past it a new
                             connection is closed at once (line framing first sends
                             "error: too many clients (max N)"). Default: from the open-file
                             limit, (limit - min(64, limit/4)).

Output
  --quiet                    no connection log on stdout (errors still go to stderr)
  --trace                    a line per socket event on stderr: accepted, each read as it
                             arrived, lines or frames parsed, writes (full: waiting for
                             drain), half-close, and why each connection closed; with --udp
                             each datagram received and sent
  -h, --help                 this help

On start berth prints one line per address, e.g. "berth: echo (tcp, raw) on 127.0.0.1:${DEFAULT_ECHO_PORT}".
Then, unless --quiet, one line on stdout per connection opened and closed (a reset by the
client is noted there, not as an error). Clients crossing a limit are logged on stderr.
SIGINT/SIGTERM: stop listening, end every connection, exit 0.`;

const INT_MAX = 2 ** 31 - 1;

interface EchoConfig {
  readonly options: EchoServerOptions;
  readonly quiet: boolean;
}

/** Runs `berth echo`; resolves with the exit code once the server has shut down. */
export async function runEcho(argv: readonly string[]): Promise<number> {
  let config: EchoConfig | "help";
  try {
    config = parseEchoArgs(argv);
  } catch (error) {
    throw withEchoUsage(error);
  }
  if (config === "help") {
    process.stdout.write(`${ECHO_HELP}\n`);
    return 0;
  }
  const server = createEchoServer({
    ...config.options,
    log: createStreamLogger(config.quiet ? null : process.stdout, process.stderr),
  });
  const addresses = await server.listen();
  // Signal handlers first: whoever reads a listening line may signal at once, and a signal that
  // beat the handlers would kill the process instead of closing it.
  const shutdown = waitForShutdown(server);
  const framing = config.options.framing ?? "raw";
  for (const address of addresses) {
    const label = formatEchoLabel(server.transport, framing, address);
    process.stdout.write(`berth: echo (${label}) on ${formatAddress(address)}\n`);
  }
  return shutdown;
}

/** "tcp, raw", "unix, line" or "udp". */
export function formatEchoLabel(
  transport: EchoTransport,
  framing: EchoFraming,
  address: BoundAddress,
): string {
  if (transport === "udp") return "udp";
  return `${address.kind}, ${framing}`;
}

function parseEchoArgs(argv: readonly string[]): EchoConfig | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      listen: { type: "string", multiple: true },
      "socket-mode": { type: "string" },
      udp: { type: "boolean" },
      framing: { type: "string" },
      "max-line-bytes": { type: "string" },
      "max-frame-bytes": { type: "string" },
      "max-clients": { type: "string" },
      quiet: { type: "boolean" },
      trace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}" (use --listen ADDR)`);
  }
  const udp = values.udp === true;
  if (udp) {
    // Flags that would do nothing are mistakes, not silently ignored.
    for (const flag of [
      "framing",
      "max-line-bytes",
      "max-frame-bytes",
      "max-clients",
      "socket-mode",
    ] as const) {
      if (values[flag] !== undefined) {
        throw new UsageError(`--${flag} does not apply to --udp (each datagram is echoed whole)`);
      }
    }
  }
  const framing = parseChoiceFlag("framing", values.framing ?? "raw", ECHO_FRAMINGS);
  if (values["max-line-bytes"] !== undefined && framing !== "line") {
    throw new UsageError("--max-line-bytes applies to --framing line only");
  }
  if (values["max-frame-bytes"] !== undefined && framing !== "length") {
    throw new UsageError("--max-frame-bytes applies to --framing length only");
  }
  const optionalInt = (flag: keyof typeof values, min: number): number | undefined => {
    const raw = values[flag];
    return typeof raw === "string" ? parseIntegerFlag(flag, raw, min, INT_MAX) : undefined;
  };
  const maxLineBytes = optionalInt("max-line-bytes", 1);
  const maxFrameBytes = optionalInt("max-frame-bytes", 0);
  const maxClients = optionalInt("max-clients", 1);
  const listen = parseListenFlags(values.listen, udp);
  const socketMode = values["socket-mode"];
  return {
    quiet: values.quiet === true,
    options: {
      transport: udp ? "udp" : "tcp",
      framing,
      ...(listen === undefined ? {} : { listen }),
      ...(socketMode === undefined ? {} : { socketMode: parseSocketModeFlag(socketMode) }),
      ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
      ...(maxClients === undefined ? {} : { maxClients }),
      ...(values.trace === true ? { trace: createStreamTracer(process.stderr) } : {}),
    },
  };
}

function parseListenFlags(
  texts: readonly string[] | undefined,
  udp: boolean,
): readonly ListenSpec[] | undefined {
  if (texts === undefined) return undefined;
  return texts.map((text) => {
    const parsed = parseListenTarget(text, LOOPBACK_HOSTS);
    if (parsed.kind === "error") throw new UsageError(parsed.message);
    // Caught here, before anything is bound: a flag mistake (exit 2), not a start-up failure.
    if (udp && parsed.spec.kind === "unix")
      throw new UsageError(formatUdpUnixError(parsed.spec.path));
    return parsed.spec;
  });
}

/** main.ts prints a UsageError's own usage line, else serve's: every flag error here gets ours,
 * including node:util parseArgs errors (unknown flag, missing value). */
function withEchoUsage(error: unknown): unknown {
  if (error instanceof UsageError) {
    return error.usage === undefined ? new UsageError(error.message, ECHO_USAGE) : error;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_")) {
    return new UsageError((error as Error).message, ECHO_USAGE);
  }
  return error;
}
