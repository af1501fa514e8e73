import { parseArgs } from "node:util";
import { DEFAULT_MAX_RANGES } from "../conditional/range.js";
import {
  type Coding,
  DEFAULT_PRECOMPRESSED_CODINGS,
  parseCodingList,
} from "../files/accept-encoding.js";
import { DEFAULT_MAX_AGE_SECONDS } from "../files/cache-control.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADER_FIELDS,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
} from "../http/limits.js";
import { formatAddress, LOOPBACK_HOSTS } from "../net/listen.js";
import { type ListenSpec, parseListenTarget } from "../net/listen-target.js";
import { createStreamTracer } from "../net/trace.js";
import { DEFAULT_MAX_PIPELINED_BYTES } from "../server/connection.js";
import { defaultMaxConnections } from "../server/fd-limit.js";
import {
  DEFAULT_CACHE_BYTES,
  DEFAULT_CACHE_FILE_BYTES,
  DEFAULT_CACHE_VALIDITY_MS,
} from "../server/file-cache.js";
import { createStreamLogger } from "../server/log.js";
import {
  createStaticServer,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_SEND_TIMEOUT_MS,
} from "../server/static-server.js";
import { parseChoiceFlag, parseIntegerFlag, parseSocketModeFlag, UsageError } from "./args.js";
import { waitForShutdown } from "./signals.js";

export const SERVE_USAGE =
  "Usage: berth serve [DIR] [--host H] [--port N] [--dotfiles allow|deny] [--symlinks contain|follow|deny] [--quiet] [options]";

export const SERVE_HELP = `${SERVE_USAGE}

Serve the files under DIR (default: the current directory) over HTTP/1.1.

Listening
  --listen ADDR              where to listen, repeatable: PORT (loopback), HOST:PORT,
                             [IPV6]:PORT or unix:/PATH. Replaces --host/--port.
  --socket-mode MODE         permission bits of Unix socket files, octal (e.g. 660)
  --host H                   host name or IP literal to listen on; repeatable.
                             Default: loopback (127.0.0.1 and ::1). 0.0.0.0 or :: for all.
  --port N                   TCP port (default ${DEFAULT_PORT}); 0 picks a free port.

Safety
  --dotfiles allow|deny      serve names starting with "." (default deny; /.well-known/ is
                             always served)
  --symlinks contain|follow|deny
                             contain (default): serve a symlink only if its real path stays
                             inside DIR; follow: serve any; deny: never serve through one

Caching and encodings
  --max-age SECONDS          Cache-Control max-age for files other than HTML (HTML: no-cache)
                             (default ${DEFAULT_MAX_AGE_SECONDS})
  --immutable GLOB           files matching GLOB (relative to DIR, e.g. "assets/**") are
                             served "public, max-age=31536000, immutable"; repeatable
  --precompressed LIST       serve X.br / X.zst / X.gz for X when the client accepts the
                             coding, in this order of preference (default br,zstd,gzip)
  --no-precompressed         never serve precompressed sidecars
  --max-ranges N             most ranges in one Range request, else the whole file
                             (default ${DEFAULT_MAX_RANGES})
  --cache-bytes N            memory for small files held with their answers, LRU
                             (default ${DEFAULT_CACHE_BYTES}); 0 turns the cache off
  --cache-file-bytes N       largest file held in memory (default ${DEFAULT_CACHE_FILE_BYTES})
  --cache-validity-ms N      a held file is checked against the disk again after N ms, so a
                             change is served within N ms (default ${DEFAULT_CACHE_VALIDITY_MS})

Timeouts
  --header-timeout-ms N      a request head must arrive within N ms of its first byte,
                             else 408 (default ${DEFAULT_HEADER_TIMEOUT_MS})
  --keepalive-timeout-ms N   close idle keep-alive connections after N ms (default ${DEFAULT_KEEPALIVE_TIMEOUT_MS})
  --send-timeout-ms N        drop a client that reads nothing for N ms (default ${DEFAULT_SEND_TIMEOUT_MS})
  --body-timeout-ms N        a request body berth discards must arrive within N ms, else the
                             connection closes (default ${DEFAULT_BODY_TIMEOUT_MS})
  --grace-ms N               on SIGINT/SIGTERM, wait up to N ms for responses in flight
                             (default ${DEFAULT_GRACE_MS})

Limits
  --max-connections N        connections served at once; more get 503 and are closed
                             (default: from the open-file limit, (limit - reserve) / 2)
  --max-request-line-bytes N longest request-line, else 414 (default ${DEFAULT_MAX_REQUEST_LINE_BYTES})
  --max-head-bytes N         largest request head, else 431 (default ${DEFAULT_MAX_HEAD_BYTES})
  --max-header-fields N      most header fields, else 431 (default ${DEFAULT_MAX_HEADER_FIELDS})
  --max-pipelined-bytes N    pipelined input buffered while a response is in flight before
                             berth stops reading (default ${DEFAULT_MAX_PIPELINED_BYTES})
  --max-body-bytes N         largest request body read and discarded, else 413 (default ${DEFAULT_MAX_BODY_BYTES})

Output
  --quiet                    no access log (errors still go to stderr)
  --trace                    a line per socket event on stderr: accepted, each read as it
                             arrived, requests parsed, writes (partial: waiting for drain),
                             half-close, and why each connection closed
  -h, --help                 this help`;

const INT_MAX = 2 ** 31 - 1;

/** Runs `berth serve`; resolves with the process exit code once the server has shut down. */
export async function runServe(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      listen: { type: "string", multiple: true },
      "socket-mode": { type: "string" },
      host: { type: "string", multiple: true },
      port: { type: "string" },
      dotfiles: { type: "string" },
      symlinks: { type: "string" },
      quiet: { type: "boolean" },
      trace: { type: "boolean" },
      "grace-ms": { type: "string" },
      "header-timeout-ms": { type: "string" },
      "keepalive-timeout-ms": { type: "string" },
      "send-timeout-ms": { type: "string" },
      "body-timeout-ms": { type: "string" },
      "max-pipelined-bytes": { type: "string" },
      "max-request-line-bytes": { type: "string" },
      "max-head-bytes": { type: "string" },
      "max-header-fields": { type: "string" },
      "max-body-bytes": { type: "string" },
      "max-ranges": { type: "string" },
      "cache-bytes": { type: "string" },
      "cache-file-bytes": { type: "string" },
      "cache-validity-ms": { type: "string" },
      "max-connections": { type: "string" },
      precompressed: { type: "string" },
      "no-precompressed": { type: "boolean" },
      "max-age": { type: "string" },
      immutable: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(`expected one directory, got ${positionals.length}`);
  const int = (flag: keyof typeof values, min: number, fallback: number): number => {
    const raw = values[flag];
    return typeof raw === "string" ? parseIntegerFlag(flag, raw, min, INT_MAX) : fallback;
  };
  const port =
    typeof values.port === "string"
      ? parseIntegerFlag("port", values.port, 0, 65535)
      : DEFAULT_PORT;
  const quiet = values.quiet === true;
  const server = createStaticServer({
    root: positionals[0] ?? ".",
    ...listenOptions(values.listen, values.host, values.port),
    ...(values["socket-mode"] === undefined
      ? {}
      : { socketMode: parseSocketModeFlag(values["socket-mode"]) }),
    port,
    dotfiles: parseChoiceFlag("dotfiles", values.dotfiles ?? "deny", ["allow", "deny"] as const),
    symlinks: parseChoiceFlag("symlinks", values.symlinks ?? "contain", [
      "contain",
      "follow",
      "deny",
    ] as const),
    graceMs: int("grace-ms", 0, DEFAULT_GRACE_MS),
    headerTimeoutMs: int("header-timeout-ms", 1, DEFAULT_HEADER_TIMEOUT_MS),
    keepAliveTimeoutMs: int("keepalive-timeout-ms", 0, DEFAULT_KEEPALIVE_TIMEOUT_MS),
    sendTimeoutMs: int("send-timeout-ms", 1, DEFAULT_SEND_TIMEOUT_MS),
    bodyTimeoutMs: int("body-timeout-ms", 1, DEFAULT_BODY_TIMEOUT_MS),
    maxPipelinedBytes: int("max-pipelined-bytes", 1, DEFAULT_MAX_PIPELINED_BYTES),
    limits: {
      maxRequestLineBytes: int("max-request-line-bytes", 16, DEFAULT_MAX_REQUEST_LINE_BYTES),
      maxHeadBytes: int("max-head-bytes", 64, DEFAULT_MAX_HEAD_BYTES),
      maxHeaderFields: int("max-header-fields", 1, DEFAULT_MAX_HEADER_FIELDS),
      maxBodyBytes: int("max-body-bytes", 0, DEFAULT_MAX_BODY_BYTES),
    },
    precompressed: precompressedCodings(values.precompressed, values["no-precompressed"] === true),
    maxAgeSeconds: int("max-age", 0, DEFAULT_MAX_AGE_SECONDS),
    immutableGlobs: values.immutable ?? [],
    maxRanges: int("max-ranges", 1, DEFAULT_MAX_RANGES),
    cache: {
      maxBytes: int("cache-bytes", 0, DEFAULT_CACHE_BYTES),
      maxFileBytes: int("cache-file-bytes", 0, DEFAULT_CACHE_FILE_BYTES),
      validityMs: int("cache-validity-ms", 0, DEFAULT_CACHE_VALIDITY_MS),
    },
    maxConnections: int("max-connections", 1, defaultMaxConnections()),
    log: createStreamLogger(quiet ? null : process.stdout, process.stderr),
    ...(values.trace === true ? { trace: createStreamTracer(process.stderr) } : {}),
  });

  const addresses = await server.listen();
  // Handlers first: a supervisor may signal as soon as it reads the URL lines.
  const shutdown = waitForShutdown(server);
  const root = positionals[0] ?? ".";
  for (const address of addresses) {
    process.stdout.write(`berth: serving ${root} on ${urlOf(formatAddress(address))}\n`);
  }
  return shutdown;
}

/** --listen is the general form; --host/--port the short one. Mixing them would be ambiguous. */
function listenOptions(
  listen: readonly string[] | undefined,
  hosts: readonly string[] | undefined,
  port: string | undefined,
): { listen?: readonly ListenSpec[]; hosts?: readonly string[] } {
  if (listen === undefined) return hosts === undefined ? {} : { hosts };
  if (hosts !== undefined || port !== undefined) {
    throw new UsageError("--listen cannot be combined with --host or --port");
  }
  const specs: ListenSpec[] = [];
  for (const text of listen) {
    const parsed = parseListenTarget(text, LOOPBACK_HOSTS);
    if (parsed.kind === "error") throw new UsageError(parsed.message);
    specs.push(parsed.spec);
  }
  return { listen: specs };
}

function precompressedCodings(list: string | undefined, off: boolean): readonly Coding[] {
  if (off) {
    if (list !== undefined) throw new UsageError("--precompressed and --no-precompressed conflict");
    return [];
  }
  if (list === undefined) return DEFAULT_PRECOMPRESSED_CODINGS;
  try {
    return parseCodingList(list);
  } catch (error) {
    throw new UsageError(`--precompressed: ${(error as Error).message}`);
  }
}

function urlOf(hostPort: string): string {
  return hostPort.startsWith("unix:") ? hostPort : `http://${hostPort}/`;
}
