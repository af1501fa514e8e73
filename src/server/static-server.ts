import { createServer, type Socket } from "node:net";
import { DEFAULT_MAX_RANGES } from "../conditional/range.js";
import { type Coding, DEFAULT_PRECOMPRESSED_CODINGS } from "../files/accept-encoding.js";
import { createCacheControl, DEFAULT_MAX_AGE_SECONDS } from "../files/cache-control.js";
import { createServableRoot, type SymlinkPolicy } from "../files/open-servable.js";
import type { DotfilePolicy } from "../files/resolve-path.js";
import { formatHttpDate, SecondCache } from "../http/http-date.js";
import { DEFAULT_PARSER_LIMITS } from "../http/request-parser.js";
import type { RequestParserLimits } from "../http/request-types.js";
import { type BoundListeners, bindListeners } from "../net/bind-listeners.js";
import { type BoundAddress, LOOPBACK_HOSTS } from "../net/listen.js";
import type { ListenSpec } from "../net/listen-target.js";
import type { Tracer } from "../net/trace.js";
import {
  Connection,
  type ConnectionEnvironment,
  type ConnectionTimeouts,
  DEFAULT_MAX_PIPELINED_BYTES,
  type Logger,
} from "./connection.js";
import { defaultMaxConnections } from "./fd-limit.js";
import { createFileCache, type FileCacheLimits } from "./file-cache.js";
import { createStreamLogger } from "./log.js";
import { createRateLimitedLog } from "./rate-limited-log.js";
import { createStaticHandler } from "./static-handler.js";

export const DEFAULT_PORT = 8080;
/** Graceful shutdown waits this long for responses in flight before destroying what remains. */
export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
/** How often deadlines are checked: one timer for all connections instead of one per socket,
 * so timeouts fire within this much of their nominal time. */
export const DEADLINE_SWEEP_INTERVAL_MS = 250;

export interface StaticServerOptions {
  /** The directory to serve. */
  readonly root: string;
  /** Where to listen (--listen); when given, hosts and port are not used. */
  readonly listen?: readonly ListenSpec[];
  /** Permission bits for Unix socket files, e.g. 0o660; default: the umask decides. */
  readonly socketMode?: number;
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
}

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
  readonly connectionCount: number;
  /** The --max-connections in force. */
  readonly maxConnections: number;
}

export function createStaticServer(options: StaticServerOptions): StaticServer {
  return new StaticServerImpl(options);
}

class StaticServerImpl implements StaticServer {
  addresses: BoundAddress[] = [];
  private bound: BoundListeners | null = null;
  private readonly connections = new Set<Connection>();
  private readonly dates = new SecondCache((ms) => `Date: ${formatHttpDate(ms)}\r\n`);
  private sweeper: NodeJS.Timeout | null = null;
  private shuttingDown = false;
  private closing: Promise<void> | null = null;
  private onAllClosed: (() => void) | null = null;
  private env: ConnectionEnvironment | null = null;
  private reportRateLimited: ((message: string, nowMs: number) => void) | null = null;
  readonly maxConnections: number;

  constructor(private readonly options: StaticServerOptions) {
    this.maxConnections = options.maxConnections ?? defaultMaxConnections();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<BoundAddress[]> {
    const { options } = this;
    const root = await createServableRoot(options.root, {
      dotfiles: options.dotfiles ?? "deny",
      symlinks: options.symlinks ?? "contain",
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
    const log = options.log ?? createStreamLogger(null, process.stderr);
    this.reportRateLimited = createRateLimitedLog(log.error);
    this.env = {
      handler: createStaticHandler({
        root,
        precompressed: options.precompressed ?? DEFAULT_PRECOMPRESSED_CODINGS,
        cacheControl,
        maxRanges: options.maxRanges ?? DEFAULT_MAX_RANGES,
        cache: createFileCache(options.cache),
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

  /** What to bind: --listen specs, else --host/--port as one group sharing a port. */
  private listenSpecs(): readonly ListenSpec[] {
    const { options } = this;
    if (options.listen !== undefined) return options.listen;
    const hosts = options.hosts ?? LOOPBACK_HOSTS;
    return [{ kind: "tcp", hosts, port: options.port ?? DEFAULT_PORT }];
  }

  private async bindAll(): Promise<void> {
    this.bound = await bindListeners(this.listenSpecs(), {
      createServer: () => createServer({ allowHalfOpen: true }, (socket) => this.accept(socket)),
      ...(this.options.socketMode === undefined ? {} : { socketMode: this.options.socketMode }),
      // Without any explicit address, the default pair includes ::1: a machine without IPv6
      // serves on 127.0.0.1 alone.
      skipUnavailable: this.options.listen === undefined && this.options.hosts === undefined,
      // Accept errors after start-up (EMFILE/ENFILE when libuv's reserve-descriptor trick
      // fails): log, keep serving existing connections, never crash.
      onListenerError: (error) => this.onListenerError(error),
    });
    this.addresses = [...this.bound.addresses];
  }

  private accept(socket: Socket): void {
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
  private rejectBusy(socket: Socket, nowMs: number): void {
    this.reportRateLimited?.(
      `max connections (${this.maxConnections}) reached: new connections answered 503`,
      nowMs,
    );
    socket.on("error", ignoreError);
    socket.resume(); // discard whatever it sends
    socket.end(BUSY_RESPONSE);
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
    this.bound?.close();
    this.bound = null;
    if (this.closing === null && !this.shuttingDown) this.addresses = [];
  }
}

function ignoreError(): void {}
