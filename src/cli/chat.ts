import { parseArgs } from "node:util";
import { formatAddress, LOOPBACK_HOSTS } from "../net/listen.js";
import { type ListenSpec, parseListenTarget } from "../net/listen-target.js";
import { createStreamTracer } from "../net/trace.js";
import { createStreamLogger } from "../server/log.js";
import { COMMANDS_HELP, DEFAULT_MAX_MEMBERS } from "../toolkit/chat-room.js";
import {
  type ChatServerOptions,
  CLOSE_LINGER_MS,
  createChatServer,
  DEFAULT_CHAT_MAX_LINE_BYTES,
  DEFAULT_CHAT_PORT,
  DEFAULT_MAX_QUEUE_BYTES,
} from "../toolkit/chat-server.js";
import { isParseArgsError, parseIntegerFlag, parseSocketModeFlag, UsageError } from "./args.js";
import { waitForShutdown } from "./signals.js";

export const CHAT_USAGE =
  "Usage: berth chat [--listen ADDR ...] [--max-clients N] [--max-line-bytes N] [--max-queue-bytes N] [--socket-mode MODE] [--quiet]";

export const CHAT_HELP = `${CHAT_USAGE}

A line-based chat room for nc and telnet (try: nc -C 127.0.0.1 ${DEFAULT_CHAT_PORT}). Each member
starts as guest-N; its lines go to everyone else as "NAME: text". Commands: ${COMMANDS_HELP}.
Lines may end in LF or CRLF; the server sends CRLF. Control characters, escape
sequences and invalid UTF-8 from members are replaced by U+FFFD before anyone sees
them. On SIGINT/SIGTERM everyone is told and the connections are closed (within ${CLOSE_LINGER_MS / 1000} s).

Listening
  --listen ADDR         where to listen, repeatable: PORT (loopback), HOST:PORT,
                        [IPV6]:PORT or unix:/PATH (default ${DEFAULT_CHAT_PORT}: 127.0.0.1 and ::1)
  --socket-mode MODE    permission bits of Unix socket files, octal (e.g. 660)

Limits
  --max-clients N       members at once; one more is told the room is full and closed
                        (default ${DEFAULT_MAX_MEMBERS})
  --max-line-bytes N    longest line a member may send; longer: an error, then the
                        connection is closed (default ${DEFAULT_CHAT_MAX_LINE_BYTES})
  --max-queue-bytes N   unsent bytes a member may fall behind before it is disconnected,
                        so a client that stops reading never slows the others
                        (default ${DEFAULT_MAX_QUEUE_BYTES})

Output
  --quiet               no activity log on stdout (joins, leaves, renames; messages are
                        never logged); disconnections still go to stderr
  --trace               a line per socket event on stderr: accepted, each read as it
                        arrived, lines parsed, writes (and a full socket buffer),
                        half-close, and why each connection closed
  -h, --help            this help`;

/** Every limit flag accepts up to this; a line or backlog of 2 GiB is already absurd. */
const INT_MAX = 0x7fff_ffff;

export async function runChat(argv: readonly string[]): Promise<number> {
  const parsed = parseChatArgs(argv);
  if (parsed === "help") {
    process.stdout.write(`${CHAT_HELP}\n`);
    return 0;
  }
  const server = createChatServer(parsed);
  const addresses = await server.listen();
  // Handlers first: a supervisor may signal as soon as it reads the address lines.
  const shutdown = waitForShutdown(server);
  for (const address of addresses) {
    process.stdout.write(`berth: chat on ${formatAddress(address)}\n`);
  }
  return shutdown;
}

/** The flags as server options, or "help". Every flag mistake is a UsageError with CHAT_USAGE
 * (the top-level handler would otherwise show serve's usage line). */
export function parseChatArgs(argv: readonly string[]): ChatServerOptions | "help" {
  try {
    return parseFlags(argv);
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      throw new UsageError((error as Error).message, CHAT_USAGE);
    }
    throw error;
  }
}

function parseFlags(argv: readonly string[]): ChatServerOptions | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      listen: { type: "string", multiple: true },
      "socket-mode": { type: "string" },
      "max-clients": { type: "string" },
      "max-line-bytes": { type: "string" },
      "max-queue-bytes": { type: "string" },
      quiet: { type: "boolean" },
      trace: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) return "help";
  if (positionals.length > 0) {
    throw new UsageError(`berth chat takes no arguments, got "${positionals[0]}"`);
  }
  const int = (
    flag: "max-clients" | "max-line-bytes" | "max-queue-bytes",
    fallback: number,
  ): number => {
    const raw = values[flag];
    return raw === undefined ? fallback : parseIntegerFlag(flag, raw, 1, INT_MAX);
  };
  return {
    // Without --listen the server's default applies: the loopback pair, ::1 skipped quietly on
    // machines without IPv6.
    ...(values.listen === undefined ? {} : { listen: parseListenFlags(values.listen) }),
    ...(values["socket-mode"] === undefined
      ? {}
      : { socketMode: parseSocketModeFlag(values["socket-mode"]) }),
    maxClients: int("max-clients", DEFAULT_MAX_MEMBERS),
    maxLineBytes: int("max-line-bytes", DEFAULT_CHAT_MAX_LINE_BYTES),
    maxQueueBytes: int("max-queue-bytes", DEFAULT_MAX_QUEUE_BYTES),
    log: createStreamLogger(values.quiet === true ? null : process.stdout, process.stderr),
    ...(values.trace === true ? { trace: createStreamTracer(process.stderr) } : {}),
  };
}

function parseListenFlags(texts: readonly string[]): ListenSpec[] {
  return texts.map((text) => {
    const parsed = parseListenTarget(text, LOOPBACK_HOSTS);
    if (parsed.kind === "error") throw new UsageError(parsed.message);
    return parsed.spec;
  });
}
