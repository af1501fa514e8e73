import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_MAX_RANGES } from "../conditional/range.js";
import { DEFAULT_MAX_AGE_SECONDS } from "../files/cache-control.js";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HEAD_BYTES,
  DEFAULT_MAX_HEADER_FIELDS,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
} from "../http/limits.js";
import { type BoundAddress, formatAddress } from "../net/listen.js";
import { checkTlsCredentials } from "../net/tls-credentials.js";
import { createStreamTracer } from "../net/trace.js";
import { DEFAULT_MAX_PIPELINED_BYTES } from "../server/connection.js";
import {
  DEFAULT_CACHE_BYTES,
  DEFAULT_CACHE_FILE_BYTES,
  DEFAULT_CACHE_VALIDITY_MS,
} from "../server/file-cache.js";
import {
  type AccessLogFile,
  createLogger,
  createStreamSink,
  openAccessLogFile,
} from "../server/log.js";
import {
  createStaticServer,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_SEND_TIMEOUT_MS,
  type TlsCredentials,
} from "../server/static-server.js";
import { ConfigError, StartupError } from "./args.js";
import { type ServeChoices, validateConfig } from "./config.js";
import {
  type ConfigSource,
  choicesFromFlags,
  configSourceOf,
  type FlagValues,
  mergeChoices,
  type ResolvedServe,
  resolveServe,
  serveParseArgsOptions,
} from "./serve-options.js";
import { waitForShutdown } from "./signals.js";
import {
  isWorker,
  resolveWorkerCount,
  serveAsWorker,
  sharesListeners,
  superviseWorkers,
} from "./workers.js";

export const SERVE_USAGE =
  "Usage: berth serve [DIR] [--host H] [--port N] [--dotfiles allow|deny] [--symlinks contain|follow|deny] [--quiet] [options]";

/** Read from the working directory when no --config is given (and no --no-config). */
export const DEFAULT_CONFIG_FILE = "berth.json";

export const SERVE_HELP = `${SERVE_USAGE}

Serve the files under DIR (default: the current directory) over HTTP/1.1, or HTTPS.

Configuration
  --config FILE              read options from FILE (JSON, see berth.schema.json); without
                             it, ./${DEFAULT_CONFIG_FILE} is read when present. Flags override the file.
  --no-config                do not read ./${DEFAULT_CONFIG_FILE}

Listening
  --listen ADDR              where to listen, repeatable: PORT (loopback), HOST:PORT,
                             [IPV6]:PORT or unix:/PATH. Replaces --host/--port.
  --socket-mode MODE         permission bits of Unix socket files, octal (e.g. 660)
  --host H                   host name or IP literal to listen on; repeatable.
                             Default: loopback (127.0.0.1 and ::1). 0.0.0.0 or :: for all.
  --port N                   TCP port (default ${DEFAULT_PORT}); 0 picks a free port.

HTTPS
  --tls-cert FILE            PEM certificate (chain) to serve HTTPS with; needs --tls-key
  --tls-key FILE             its PEM private key, unencrypted
  --tls-listen ADDR          listen with TLS here (repeatable, --listen syntax) and keep the
                             other listeners plain HTTP; without it every listener is TLS

Safety
  --dotfiles allow|deny      serve names starting with "." (default deny; /.well-known/ is
                             always served)
  --symlinks contain|follow|deny
                             contain (default): serve a symlink only if its real path stays
                             inside DIR; follow: serve any; deny: never serve through one

Site
  --listing                  list directories that have no index.html (HTML, or JSON)
  --spa                      single-page app: a GET for a path without an extension that
                             matches no file gets index.html (200)
  --spa-file FILE            the single-page app's file instead of index.html (implies --spa)
  --clean-urls               /about serves about.html; /about.html redirects to /about

Headers
  --header "NAME: VALUE"     add a field to responses; repeatable
  --cors                     allow cross-origin requests from any origin
  --cors-origin ORIGIN       allow cross-origin requests from ORIGIN (scheme://host[:port]);
                             repeatable

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
  --workers N|auto           processes serving the same listeners; auto: one per CPU (default 1)
  --socket-api auto|net      auto (default): plain connections bypass net.Socket and use
                             libuv's stream handles directly where this Node allows it
                             (about 2x cheaper per connection); net: always net.Socket

Output
  --quiet                    no access log (errors still go to stderr)
  --log-format common|combined|json
                             access-log format (default common); json adds the response
                             time, a request id, the referer, user agent and host
  --log-file PATH            append the access log to PATH instead of stdout; SIGHUP
                             reopens it (for logrotate)
  --trace                    a line per socket event on stderr: accepted, each read as it
                             arrived, requests parsed, writes (partial: waiting for drain),
                             half-close, and why each connection closed
  -h, --help                 this help`;

/** Runs `berth serve`; resolves with the process exit code once the server has shut down. */
export async function runServe(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: serveParseArgsOptions(),
  });
  const flags = values as FlagValues;
  if (flags.help === true) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const fromFlags = choicesFromFlags(flags, positionals);
  const config = loadConfig(configSourceOf(flags));
  const options = resolveServe(mergeChoices(config?.choices ?? {}, fromFlags));
  const tls = options.tls === null ? undefined : readTlsCredentials(options.tls);

  const workerCount = resolveWorkerCount(options.workers);
  if (workerCount > 1 && !isWorker()) {
    // The primary only supervises; each worker runs all of the rest (its own log file handle,
    // cache and connections) on the listeners node:cluster shares between them.
    return superviseWorkers(workerCount, {
      serving: (addresses) => {
        // The same URL lines as one process prints (scripts read them), then the count.
        for (const { address, scheme } of addresses) {
          process.stdout.write(`berth: serving ${options.root} on ${urlOf(address, scheme)}\n`);
        }
        process.stdout.write(`berth: ${workerCount} worker processes\n`);
      },
      note: (line) => process.stderr.write(`${line}\n`),
    });
  }

  const logFile = options.logFile === null || options.quiet ? null : openLogFile(options.logFile);
  const accessSink = options.quiet ? null : (logFile?.write ?? createStreamSink(process.stdout));
  const log = createLogger(accessSink, createStreamSink(process.stderr), {
    format: options.logFormat,
  });
  const server = createStaticServer({
    ...serverOptionsOf(options),
    log,
    ...(tls === undefined ? {} : { tls }),
    hiddenFiles: [
      ...(config === null ? [] : [config.path]),
      ...(options.tls === null ? [] : [options.tls.keyFile]),
      ...(options.logFile === null ? [] : [options.logFile]),
    ],
    ...(options.trace ? { trace: createStreamTracer(process.stderr) } : {}),
    ...(isWorker() && sharesListeners() ? { sharedListeners: true } : {}),
  });

  let addresses: BoundAddress[];
  try {
    addresses = await server.listen();
  } catch (error) {
    await logFile?.close();
    throw error;
  }
  const reopen = (): void => logFile?.reopen();
  const served = addresses.map((address) => ({
    address,
    scheme: server.tlsAddresses.includes(address) ? ("https" as const) : ("http" as const),
  }));
  let code: number;
  if (isWorker()) {
    code = await serveAsWorker({ close: () => server.close(), reopenLogs: reopen }, served);
  } else {
    // Handlers first: a supervisor may signal as soon as it reads the URL lines.
    const shutdown = waitForShutdown(server);
    if (logFile !== null) process.on("SIGHUP", reopen);
    for (const { address, scheme } of served) {
      process.stdout.write(`berth: serving ${options.root} on ${urlOf(address, scheme)}\n`);
    }
    code = await shutdown;
    process.off("SIGHUP", reopen);
  }
  if (logFile !== null) {
    // The last access lines are batched for the end of the event-loop turn.
    await new Promise((done) => setImmediate(done));
    await logFile.close();
  }
  return code;
}

/** The server's share of the resolved options. */
function serverOptionsOf(options: ResolvedServe) {
  // workers is for the process supervisor, the rest for the CLI's own I/O.
  const { quiet, trace, logFormat, logFile, tls, workers, ...server } = options;
  return server;
}

interface LoadedConfig {
  /** Absolute: berth never serves it (it may lie inside DIR). */
  readonly path: string;
  readonly choices: ServeChoices;
}

/** Reads and checks berth.json; null when there is none to read. Throws ConfigError. */
function loadConfig(source: ConfigSource): LoadedConfig | null {
  if (source.kind === "none") return null;
  const label = source.kind === "file" ? source.path : DEFAULT_CONFIG_FILE;
  const path = resolve(label);
  if (source.kind === "default" && !isFile(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`config ${label}: ${describeFileError(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config ${label}: not valid JSON: ${describeJsonError(text, error)}`);
  }
  const result = validateConfig(json, dirname(path));
  if (result.kind === "error") throw new ConfigError(`config ${label}: ${result.message}`);
  return { path, choices: result.choices };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** JSON.parse's message, with the line and column Node 20 leaves out ("at position 41"). */
function describeJsonError(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  if (position === null || /\(line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line} column ${column})`;
}

/** Reads and checks the certificate and key; every failure is one line naming the file. */
function readTlsCredentials(files: { certFile: string; keyFile: string }): TlsCredentials {
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new ConfigError(`Cannot read ${what} ${path}: ${describeFileError(error)}`);
    }
  };
  const cert = read("TLS certificate", files.certFile);
  const key = read("TLS key", files.keyFile);
  const check = checkTlsCredentials(cert, key, Date.now());
  switch (check.kind) {
    case "error": {
      const subject = {
        cert: `TLS certificate ${files.certFile}`,
        key: `TLS key ${files.keyFile}`,
        pair: `TLS key ${files.keyFile} and certificate ${files.certFile}`,
      }[check.culprit];
      throw new ConfigError(`${subject}: ${check.reason}`);
    }
    case "ok":
      for (const warning of check.warnings) {
        process.stderr.write(`berth: warning: ${files.certFile}: ${warning}\n`);
      }
      return { cert, key };
  }
}

function openLogFile(path: string): AccessLogFile {
  try {
    return openAccessLogFile(path, (message) => process.stderr.write(`berth: ${message}\n`));
  } catch (error) {
    throw new StartupError(`Cannot open log file ${path}: ${describeFileError(error)}`);
  }
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  ELOOP: "too many levels of symbolic links",
};

function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code !== undefined && code in FILE_ERRORS) return FILE_ERRORS[code] as string;
  return code ?? (error instanceof Error ? error.message : String(error));
}

function urlOf(address: BoundAddress, scheme: "http" | "https"): string {
  const hostPort = formatAddress(address);
  if (hostPort.startsWith("unix:")) return scheme === "https" ? `${hostPort} (TLS)` : hostPort;
  return `${scheme}://${hostPort}/`;
}
