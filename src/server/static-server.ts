import { createServer, type Server } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import { DEFAULT_MAX_RANGES } from "../conditional/range.js";
import { type Coding, DEFAULT_PRECOMPRESSED_CODINGS } from "../files/accept-encoding.js";
import { createCacheControl, DEFAULT_MAX_AGE_SECONDS } from "../files/cache-control.js";
import { createServableRoot, type SymlinkPolicy } from "../files/open-servable.js";
import { createPathRules, type PathRule } from "../files/path-rules.js";
import type { DotfilePolicy } from "../files/resolve-path.js";
import { type CorsPolicy, createCors } from "../http/cors.js";
import type { ExtraHeader } from "../http/extra-headers.js";
import { formatHttpDate, SecondCache } from "../http/http-date.js";
import { DEFAULT_PARSER_LIMITS } from "../http/request-parser.js";
import type { RequestParserLimits } from "../http/request-types.js";
import { type BoundListeners, bindListeners } from "../net/bind-listeners.js";
import { acceptHandlesDirectly, HandleStream, type StreamHandle } from "../net/handle-stream.js";
import { type BoundAddress, ListenError, LOOPBACK_HOSTS } from "../net/listen.js";
import type { ListenSpec } from "../net/listen-target.js";
import { checkTlsCredentials } from "../net/tls-credentials.js";
import type { Tracer } from "../net/trace.js";
import {
  Connection,
  type ConnectionEnvironment,
  type ConnectionSocket,
  type ConnectionTimeouts,
  DEFAULT_MAX_PIPELINED_BYTES,
  type Logger,
} from "./connection.js";
import { defaultMaxConnections } from "./fd-limit.js";
import { createFileCache, type FileCacheLimits } from "./file-cache.js";
import { createStreamLogger, withRequestLog } from "./log.js";
import { createRateLimitedLog } from "./rate-limited-log.js";
import { createStaticHandler } from "./static-handler.js";

export const DEFAULT_PORT = 8080;
/** What --spa serves when --spa-file does not say. */
export const DEFAULT_SPA_FILE = "index.html";
/** Graceful shutdown waits this long for responses in flight before destroying what remains. */
export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
/** A TLS handshake must complete within this from the TCP accept, else the socket is destroyed.
 * The header timeout starts only once the handshake is done (the connection exists from then),
 * so a client that stalls inside the handshake is bounded by this one. Node's default is 120 s;
 * a real handshake takes a few round trips. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** The one application protocol berth speaks (RFC 7301 ALPN): a client offering h2 and
 * http/1.1 settles on HTTP/1.1; one offering only h2 fails the handshake. */
export const ALPN_PROTOCOLS: readonly string[] = ["http/1.1"];

/** A PEM certificate (chain) and its unencrypted private key. */
export interface TlsCredentials {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** How often deadlines are checked: one timer for all connections instead of one per socket,
 * so timeouts fire within this much of their nominal time. */
export const DEADLINE_SWEEP_INTERVAL_MS = 250;

/** How plain connections are driven; see StaticServerOptions.socketApi. */
export type SocketApi = "auto" | "net";
export const SOCKET_APIS: readonly SocketApi[] = ["auto", "net"];

export interface StaticServerOptions {
  /** The directory to serve. */
  readonly root: string;
  /** --socket-api: "auto" (default) drives plain TCP and Unix connections through libuv's
   * stream handles directly where this Node exposes them (net/handle-stream.ts), else and with
   * "net" through net.Socket. TLS always uses node:tls. */
  readonly socketApi?: SocketApi;
  /** Where to listen (--listen); when given, hosts and port are not used. */
  readonly listen?: readonly ListenSpec[];
  /** Permission bits for Unix socket files, e.g. 0o660; default: the umask decides. */
  readonly socketMode?: number;
  /** --workers: another worker already bound these listeners (node:cluster shares them); Unix
   * socket paths are then neither prepared nor removed by this one. */
  readonly sharedListeners?: boolean;
  /** Host names or literals to listen on; default 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  /** TCP port; 0 picks a free one (the same one on every host). Default 8080. */
  readonly port?: number;
  readonly dotfiles?: DotfilePolicy;
  readonly symlinks?: SymlinkPolicy;
  readonly graceMs?: number;
  readonly headerTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly sendTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
  /** Pipelined bytes buffered while a response is in flight before reading pauses; 64 KiB. */
  readonly maxPipelinedBytes?: number;
  readonly limits?: Partial<RequestParserLimits>;
  /** Codings served from precompressed sidecars (`x.br`, `x.zst`, `x.gz`), in preference order;
   * [] turns them off. Default br, zstd, gzip. */
  readonly precompressed?: readonly Coding[];
  /** max-age for files that are neither HTML (no-cache) nor immutable; default 60 s. */
  readonly maxAgeSeconds?: number;
  /** Globs (relative to the root) of fingerprinted assets, served as immutable for a year. */
  readonly immutableGlobs?: readonly string[];
  /** Range-specs accepted in one Range field (more → the full file); default 32. */
  readonly maxRanges?: number;
  /** Connections served at once; more are answered 503 and closed. Default: what the process's
   * descriptor limit can hold (see fd-limit.ts). */
  readonly maxConnections?: number;
  /** Where access and error lines go; default: access lines dropped, errors to stderr. */
  readonly log?: Logger;
  /** --trace: a line per socket event; default none. */
  readonly trace?: Tracer;
  /** The in-memory cache of small files (file-cache.ts); maxBytes 0 turns it off. */
  readonly cache?: Partial<FileCacheLimits>;
  /** HTTPS: with `tlsListen` absent, every listener uses TLS; with it, only those do. */
  readonly tls?: TlsCredentials;
  /** Default TLS_HANDSHAKE_TIMEOUT_MS. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Where to listen with TLS beside the plain listeners. The plain ones are then `listen`, or
   * hosts/port when either is given, or none. Needs `tls`. */
  readonly tlsListen?: readonly ListenSpec[];
  /** Files never served even when they lie below the root (berth's config, TLS key, log). */
  readonly hiddenFiles?: readonly string[];
  // Site features, resolved by the CLI from flags and berth.json; the handler applies them.
  /** --listing: directory listings for directories without index.html. */
  readonly listing?: boolean;
  /** --spa: a GET for an extension-less path that matches no file gets `spaFile` with 200. */
  readonly spa?: boolean;
  /** --spa-file: the SPA fallback, relative to the root; default index.html. */
  readonly spaFile?: string;
  /** --clean-urls: /about serves about.html; /about.html → 301 /about. */
  readonly cleanUrls?: boolean;
  /** --cors / --cors-origin (http/cors.ts); absent or null: no CORS fields. */
  readonly cors?: CorsPolicy | null;
  /** --header: fields added to responses (http/extra-headers.ts). */
  readonly headers?: readonly ExtraHeader[];
  /** berth.json rules: per-glob headers and Cache-Control (files/path-rules.ts). */
  readonly rules?: readonly PathRule[];
}

/** The shared read buffer's size: what Node allocates for each read of a net.Socket, so one
 * read takes as much as it would there. */
export const SHARED_READ_BUFFER_BYTES = 64 * 1024;

/** Sent to a connection beyond --max-connections: a valid answer the client can act on
 * (RFC 9110 §15.6.4: 503 with Retry-After), without reading its request. */
const BUSY_RESPONSE = Buffer.from(
  "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
  "latin1",
);
/** A rejected connection is destroyed after this even if the client never closes. */
const BUSY_LINGER_MS = 1000;

export interface StaticServer {
  /** Checks the root, binds every address, and resolves with what was bound. */
  listen(): Promise<BoundAddress[]>;
  /** Graceful shutdown: stop accepting, close idle connections at once, let responses in flight
   * finish, destroy what remains after the grace period. Resolves when every socket is closed. */
  close(): Promise<void>;
  readonly addresses: readonly BoundAddress[];
  /** The subset of `addresses` that speaks TLS. */
  readonly tlsAddresses: readonly BoundAddress[];
  readonly connectionCount: number;
  /** What drives plain connections after listen(): "libuv" (handles directly) or "net". */
  readonly socketApiInUse: "libuv" | "net";
  /** The --max-connections in force. */
  readonly maxConnections: number;
}

export function createStaticServer(options: StaticServerOptions): StaticServer {
  return new StaticServerImpl(options);
}

class StaticServerImpl implements StaticServer {
  addresses: BoundAddress[] = [];
  tlsAddresses: BoundAddress[] = [];
  private bound: BoundListeners[] = [];
  private readonly connections = new Set<Connection>();
  private readonly dates = new SecondCache((ms) => `Date: ${formatHttpDate(ms)}\r\n`);
  private sweeper: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private closing: Promise<void> | null = null;
  private onAllClosed: (() => void) | null = null;
  private env: ConnectionEnvironment | null = null;
  private reportRateLimited: ((message: string, nowMs: number) => void) | null = null;
  readonly maxConnections: number;
  /** Plain listeners whose connections bypass net.Socket (see socketApi). */
  private handleListeners = 0;
  /** Every HandleStream connection reads into this one buffer: a read is parsed before the next
   * read happens, and the parser copies what it keeps (RequestParser.ownInput). */
  private readonly sharedReadBuffer = Buffer.allocUnsafe(SHARED_READ_BUFFER_BYTES);

  constructor(private readonly options: StaticServerOptions) {
    this.maxConnections = options.maxConnections ?? defaultMaxConnections();
  }

  get socketApiInUse(): "libuv" | "net" {
    return this.handleListeners > 0 ? "libuv" : "net";
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<BoundAddress[]> {
    const { options } = this;
    if (options.tls !== undefined) assertUsableCredentials(options.tls);
    const root = await createServableRoot(options.root, {
      dotfiles: options.dotfiles ?? "deny",
      symlinks: options.symlinks ?? "contain",
      hidden: options.hiddenFiles ?? [],
    });
    const timeouts: ConnectionTimeouts = {
      headerTimeoutMs: options.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      sendTimeoutMs: options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS,
      bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    };
    const cacheControl = createCacheControl({
      maxAgeSeconds: options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS,
      immutableGlobs: options.immutableGlobs ?? [],
    });
    const log = withRequestLog(options.log ?? createStreamLogger(null, process.stderr));
    this.reportRateLimited = createRateLimitedLog(log.error);
    const cors =
      options.cors === undefined || options.cors === null ? null : createCors(options.cors);
    this.env = {
      handler: createStaticHandler({
        root,
        precompressed: options.precompressed ?? DEFAULT_PRECOMPRESSED_CODINGS,
        cacheControl,
        maxRanges: options.maxRanges ?? DEFAULT_MAX_RANGES,
        cache: createFileCache(options.cache),
        listing: options.listing ?? false,
        spaFile: options.spa === true ? (options.spaFile ?? DEFAULT_SPA_FILE) : null,
        cleanUrls: options.cleanUrls ?? false,
        cors,
        pathRules: createPathRules(options.headers ?? [], options.rules ?? []),
        // What a request without Origin gets: the prebuilt answers of cached files carry it.
        usualRequestHeaders: cors === null ? "" : cors("GET", null, null, null).headerLines,
      }),
      parserLimits: { ...DEFAULT_PARSER_LIMITS, ...options.limits },
      timeouts,
      maxPipelinedBytes: options.maxPipelinedBytes ?? DEFAULT_MAX_PIPELINED_BYTES,
      log,
      dateLine: (nowMs) => this.dates.at(nowMs),
      logRecurring: (message) => this.reportRateLimited?.(message, Date.now()),
      trace: options.trace ?? null,
      isShuttingDown: () => this.shuttingDown,
      onClosed: (connection) => this.forget(connection),
    };
    try {
      await this.bindAll();
    } catch (error) {
      this.stopListening();
      throw error;
    }
    this.sweeper = setInterval(() => this.sweep(), DEADLINE_SWEEP_INTERVAL_MS);
    this.sweeper.unref();
    return this.addresses;
  }

  /** What to bind, plain and TLS: --listen specs, else --host/--port as one group sharing a
   * port; with `tls` and no `tlsListen`, those are all TLS. */
  private listenGroups(): { plain: readonly ListenSpec[]; secure: readonly ListenSpec[] } {
    const { options } = this;
    const explicit =
      options.listen !== undefined || options.hosts !== undefined || options.port !== undefined;
    const specs: readonly ListenSpec[] =
      options.listen ??
      (options.tlsListen !== undefined && !explicit
        ? []
        : [
            {
              kind: "tcp",
              hosts: options.hosts ?? LOOPBACK_HOSTS,
              port: options.port ?? DEFAULT_PORT,
            },
          ]);
    if (options.tlsListen !== undefined && options.tls === undefined) {
      throw new Error("tlsListen needs tls (a certificate and key)");
    }
    if (options.tls === undefined) return { plain: specs, secure: [] };
    return options.tlsListen === undefined
      ? { plain: [], secure: specs }
      : { plain: specs, secure: options.tlsListen };
  }

  private async bindAll(): Promise<void> {
    const { plain, secure } = this.listenGroups();
    if (plain.length === 0 && secure.length === 0) {
      throw new ListenError("Cannot listen: no address to bind");
    }
    // Without any explicit address, the default pair includes ::1: a machine without IPv6
    // serves on 127.0.0.1 alone.
    const defaultPair = this.options.listen === undefined && this.options.hosts === undefined;
    const common = {
      ...(this.options.socketMode === undefined ? {} : { socketMode: this.options.socketMode }),
      shared: this.options.sharedListeners === true,
      // Accept errors after start-up (EMFILE/ENFILE when libuv's reserve-descriptor trick
      // fails): log, keep serving existing connections, never crash.
      onListenerError: (error: NodeJS.ErrnoException) => this.onListenerError(error),
    };
    try {
      if (plain.length > 0) {
        const bound = await bindListeners(plain, {
          ...common,
          createServer: () =>
            createServer({ allowHalfOpen: true }, (socket) => this.accept(socket)),
          skipUnavailable: defaultPair,
        });
        this.bound.push(bound);
        this.addresses.push(...bound.addresses);
        if (this.options.socketApi !== "net") {
          for (const server of bound.servers) {
            if (acceptHandlesDirectly(server, (handle) => this.acceptHandle(handle))) {
              this.handleListeners++;
            }
          }
        }
        this.options.trace?.(
          0,
          this.handleListeners > 0
            ? "plain connections use libuv's stream handles directly (--socket-api auto)"
            : this.options.socketApi === "net"
              ? "plain connections use net.Socket (--socket-api net)"
              : "plain connections use net.Socket: this Node does not expose libuv's stream handles",
        );
      }
      if (secure.length > 0) {
        const bound = await bindListeners(secure, {
          ...common,
          createServer: () => this.createTlsListener(),
          skipUnavailable: defaultPair && this.options.tlsListen === undefined,
        });
        this.bound.push(bound);
        this.addresses.push(...bound.addresses);
        this.tlsAddresses.push(...bound.addresses);
      }
    } catch (error) {
      this.addresses = [];
      this.tlsAddresses = [];
      throw error;
    }
  }

  /** A TLS listener: after the handshake, the TLSSocket (a net.Socket) goes to the same
   * Connection as a plain socket. */
  private createTlsListener(): Server {
    const tls = this.options.tls as TlsCredentials;
    const server = createTlsServer(
      {
        cert: tls.cert,
        key: tls.key,
        ALPNProtocols: [...ALPN_PROTOCOLS],
        handshakeTimeout: this.options.tlsHandshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
        allowHalfOpen: true,
      },
      (socket: TLSSocket) => this.accept(socket),
    );
    // A failed or timed-out handshake (a scanner, plain HTTP sent to this port). With a listener
    // for this event Node leaves the socket open (a handshake timeout only reports): destroy it.
    // No connection existed yet, so only the trace hears of it.
    server.on("tlsClientError", (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      socket.destroy();
      this.options.trace?.(
        0,
        `TLS handshake with ${socket.remoteAddress ?? "a Unix socket peer"} failed: ${error.code ?? error.message}`,
      );
    });
    return server;
  }

  /** A connection taken straight from libuv (socketApi "auto"). */
  private acceptHandle(handle: StreamHandle): void {
    this.accept(new HandleStream(handle, this.sharedReadBuffer));
  }

  private accept(socket: ConnectionSocket): void {
    const env = this.env;
    if (env === null || this.shuttingDown) {
      socket.destroy();
      return;
    }
    const nowMs = Date.now();
    if (this.connections.size >= this.maxConnections) {
      this.rejectBusy(socket, nowMs);
      return;
    }
    this.connections.add(new Connection(socket, env, nowMs));
  }

  /** Past --max-connections: answer 503 at once and close; existing connections are unaffected. */
  private rejectBusy(socket: ConnectionSocket, nowMs: number): void {
    this.reportRateLimited?.(
      `max connections (${this.maxConnections}) reached: new connections answered 503`,
      nowMs,
    );
    socket.on("error", ignoreError);
    socket.resume(); // discard whatever it sends
    socket.write(BUSY_RESPONSE);
    socket.end();
    setTimeout(() => socket.destroy(), BUSY_LINGER_MS).unref();
  }

  private onListenerError(error: NodeJS.ErrnoException): void {
    this.reportRateLimited?.(`accept failed: ${error.code ?? error.message}`, Date.now());
  }

  private forget(connection: Connection): void {
    this.connections.delete(connection);
    if (this.connections.size === 0 && this.onAllClosed !== null) this.onAllClosed();
  }

  private sweep(): void {
    const nowMs = Date.now();
    for (const connection of this.connections) connection.checkDeadline(nowMs);
  }

  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.shuttingDown = true;
    this.stopListening();
    this.closing = new Promise<void>((resolve) => {
      const graceMs = this.options.graceMs ?? DEFAULT_GRACE_MS;
      const grace = setTimeout(() => {
        for (const connection of this.connections) connection.destroy();
      }, graceMs);
      this.onAllClosed = () => {
        clearTimeout(grace);
        if (this.sweeper !== null) clearInterval(this.sweeper);
        this.sweeper = null;
        resolve();
      };
      for (const connection of [...this.connections]) connection.shutdown();
      if (this.connections.size === 0) this.onAllClosed();
    });
    return this.closing;
  }

  private stopListening(): void {
    for (const bound of this.bound.splice(0)) bound.close();
    if (this.closing === null && !this.shuttingDown) {
      this.addresses = [];
      this.tlsAddresses = [];
    }
  }
}

/** The CLI checks the files first, naming them; this guards the programmatic API. */
function assertUsableCredentials(tls: TlsCredentials): void {
  const check = checkTlsCredentials(Buffer.from(tls.cert), Buffer.from(tls.key), Date.now());
  if (check.kind === "error") {
    const subject = { cert: "certificate", key: "key", pair: "certificate and key" }[check.culprit];
    throw new Error(`Cannot serve HTTPS: the ${subject}: ${check.reason}`);
  }
}

function ignoreError(): void {}
