/**
 * In-process berth servers and raw client sockets for the integration tests in test/server/.
 * Everything here is test-only: it starts a real server on 127.0.0.1 with a free port, captures
 * its log lines, and gives tests sockets they can write exact bytes to, pause, reset and watch.
 */
import { closeSync, openSync, readdirSync, truncateSync } from "node:fs";
import { utimes } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "../../src/server/connection.js";
import {
  createStaticServer,
  type SocketApi,
  type StaticServer,
  type StaticServerOptions,
} from "../../src/server/static-server.js";
import { type ParsedResponse, parseResponses, showBytes } from "./raw-client.js";
import { writeTree } from "./temp-dir.js";

export interface CapturingLogger extends Logger {
  readonly accessLines: string[];
  readonly errorLines: string[];
}

/** A Logger that keeps every line, so tests can check what berth logged for a request. */
export function createCapturingLogger(): CapturingLogger {
  const accessLines: string[] = [];
  const errorLines: string[] = [];
  return {
    accessLines,
    errorLines,
    access: (line) => {
      accessLines.push(line);
    },
    error: (line) => {
      errorLines.push(line);
    },
  };
}

export interface RunningServer {
  readonly server: StaticServer;
  readonly port: number;
  readonly log: CapturingLogger;
}

/** Every option but where to listen and where to log, which the harness decides. */
export type TestServerOptions = Omit<StaticServerOptions, "hosts" | "port" | "log">;

/** BERTH_TEST_SOCKET_API=net runs the server tests over net.Socket (scripts/run-tests.mjs does,
 * after the default run over libuv's handles), so both socket layers pass the same tests. */
const SOCKET_API_UNDER_TEST: SocketApi =
  process.env.BERTH_TEST_SOCKET_API === "net" ? "net" : "auto";

/** Starts a server on 127.0.0.1 and a free port, logging into a CapturingLogger. */
export async function startServer(options: TestServerOptions): Promise<RunningServer> {
  const log = createCapturingLogger();
  const server = createStaticServer({
    socketApi: SOCKET_API_UNDER_TEST,
    ...options,
    hosts: ["127.0.0.1"],
    port: 0,
    log,
  });
  const [address] = await server.listen();
  if (address?.kind !== "tcp") {
    await server.close();
    throw new Error(`startServer: listen() bound ${JSON.stringify(address)}, want a TCP address`);
  }
  return { server, port: address.port, log };
}

// RFC 9110 §5.6.7: IMF-fixdate.
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** A Date field further than this from the test's clock is wrong, not just slow. */
const DATE_TOLERANCE_MS = 60_000;

/**
 * The bytes as latin1 text with every Date field value replaced by `<date>`, the one value an
 * exact comparison cannot know. A value that is not an IMF-fixdate near now becomes
 * `<bad date: …>`, so the comparison fails and shows it.
 */
export function normalizeDates(raw: Buffer): string {
  return raw.toString("latin1").replace(/(^|\r\n)Date: ([^\r\n]*)\r\n/g, (_, before, value) => {
    const ok =
      IMF_FIXDATE.test(value) && Math.abs(Date.parse(value) - Date.now()) <= DATE_TOLERANCE_MS;
    return `${before}Date: ${ok ? "<date>" : `<bad date: ${value}>`}\r\n`;
  });
}

/** Polls `condition` every `intervalMs` until it holds or `timeoutMs` passed; says which. */
export async function pollUntil(
  condition: () => boolean,
  timeoutMs: number,
  intervalMs = 10,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Open file descriptors of this process (Linux). */
export function countOpenFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * The fd count once `server` has no connections left and the count held still for 50 ms: a
 * baseline that sockets of earlier tests, still closing, cannot skew.
 */
export async function settledFdCount(server: StaticServer): Promise<number> {
  await pollUntil(() => server.connectionCount === 0, 3000);
  let previous = countOpenFds();
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const current = countOpenFds();
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

export interface FloodResult {
  /** Bytes the kernel took. */
  readonly acceptedBytes: number;
  /** performance.now() when the last write was taken; 0 when none was. */
  readonly lastAcceptedMs: number;
}

/**
 * Writes `requests` to `socket` again and again, one write at a time, for `forMs` or until `stop()`
 * holds, and says how many bytes the kernel took: a write's callback runs then, so writing
 * stalls once nobody reads. A test pipelining without reading its answers uses it.
 */
export async function flood(
  socket: Socket,
  requests: Buffer,
  forMs: number,
  stop: () => boolean,
): Promise<FloodResult> {
  let acceptedBytes = 0;
  let lastAcceptedMs = 0;
  let pending: Promise<boolean> | null = null;
  const stopMs = performance.now() + forMs;
  while (performance.now() < stopMs && !stop()) {
    pending ??= new Promise((resolve) => socket.write(requests, (error) => resolve(!error)));
    const written = await Promise.race([
      pending,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 50)),
    ]);
    if (written === null) continue;
    pending = null;
    if (!written) break;
    acceptedBytes += requests.length;
    lastAcceptedMs = performance.now();
  }
  return { acceptedBytes, lastAcceptedMs };
}

function isPeerGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "EPIPE";
}

/** Something a socket is waited for: re-checked on every socket event, rejected on timeout. */
interface Waiter {
  check(): void;
}

/** Shared by the socket wrappers: connection state, event timestamps, waiting with timeouts. */
abstract class WatchedSocket {
  /** The server sent FIN. */
  endedByServer = false;
  /** The socket is fully closed on our side too. */
  closed = false;
  /** The server reset the connection (ECONNRESET/EPIPE). */
  reset = false;
  /** performance.now() when the server's FIN arrived; 0 before. */
  endedAtMs = 0;
  private readonly waiters = new Set<Waiter>();

  protected constructor(readonly socket: Socket) {
    socket.on("end", () => {
      this.endedByServer = true;
      this.endedAtMs = performance.now();
      this.notify();
    });
    socket.on("error", (error) => {
      if (isPeerGone(error)) this.reset = true;
      this.notify();
    });
    socket.on("close", () => {
      this.closed = true;
      this.notify();
    });
  }

  /** What the test has seen so far, for failure messages. */
  protected abstract describe(): string;

  protected notify(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** Resolves once `condition` holds (checked now and after every socket event). */
  waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        check: () => {
          let done: boolean;
          try {
            done = condition();
          } catch (error) {
            this.waiters.delete(waiter);
            clearTimeout(timer);
            reject(error);
            return;
          }
          if (!done) return;
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.describe()}`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
      waiter.check();
    });
  }

  /** Resolves once the server ended or reset the connection. */
  waitForServerGone(timeoutMs: number): Promise<void> {
    return this.waitFor(
      () => this.endedByServer || this.reset || this.closed,
      timeoutMs,
      "the server to end the connection",
    );
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Sends a TCP RST instead of a FIN (Node ≥ 16.17). */
  resetAndDestroy(): void {
    this.socket.resetAndDestroy();
  }
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const onError = (error: Error): void => {
      reject(new Error(`Cannot connect to 127.0.0.1:${port}: ${error.message}`));
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/**
 * A client socket that keeps every byte it receives, for conversations the one-shot exchange()
 * cannot have: a second request on a kept-alive connection, watching an idle connection close.
 */
export class RawConnection extends WatchedSocket {
  private readonly chunks: Buffer[] = [];
  private joined: Buffer | null = null;

  private constructor(socket: Socket) {
    super(socket);
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.joined = null;
      this.notify();
    });
  }

  static async open(port: number): Promise<RawConnection> {
    return new RawConnection(await openSocket(port));
  }

  /** Every byte received so far. */
  get received(): Buffer {
    if (this.joined === null) this.joined = Buffer.concat(this.chunks);
    return this.joined;
  }

  /** Writes latin1 text or bytes exactly. */
  write(data: string | Buffer): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Waits for `methods.length` complete responses in the bytes received after `fromByte`. */
  async waitForResponses(
    methods: readonly string[],
    timeoutMs: number,
    fromByte = 0,
  ): Promise<ParsedResponse[]> {
    let responses: ParsedResponse[] = [];
    await this.waitFor(
      () => {
        responses = parseResponses(this.received.subarray(fromByte), methods).responses;
        return responses.length >= methods.length;
      },
      timeoutMs,
      `${methods.length} response(s) to ${methods.join(", ")}`,
    );
    return responses;
  }

  protected describe(): string {
    const raw = this.received;
    const state = this.reset ? "reset" : this.endedByServer ? "ended by server" : "open";
    return `connection ${state}, received ${raw.length} bytes: ${showBytes(raw, 0, raw.length)}`;
  }
}

/** Compared against received body bytes: the large test files are sparse, all zeros. */
const ZEROS = Buffer.alloc(1024 * 1024);

/**
 * A GET of a large all-zero (sparse) file that counts body bytes instead of keeping them, and
 * notes the first byte that is not zero: a padded or garbage body is caught without holding
 * gigabytes. The head is kept (as latin1 text).
 */
export class ZeroFileDownload extends WatchedSocket {
  /** The response head including its final CRLFCRLF, once complete. */
  head: string | null = null;
  /** Content-Length of the response, or -1 before the head / without one. */
  contentLength = -1;
  bodyBytes = 0;
  /** Body offset of the first non-zero byte, or -1. */
  firstNonZeroAt = -1;
  private headBytes = Buffer.alloc(0);

  private constructor(socket: Socket) {
    super(socket);
    socket.on("data", (chunk: Buffer) => {
      this.onData(chunk);
      this.notify();
    });
  }

  /** Connects and writes `request` (latin1). */
  static async start(port: number, request: string): Promise<ZeroFileDownload> {
    const download = new ZeroFileDownload(await openSocket(port));
    download.socket.write(Buffer.from(request, "latin1"));
    return download;
  }

  private onData(chunk: Buffer): void {
    if (this.head !== null) {
      this.countBody(chunk);
      return;
    }
    this.headBytes = Buffer.concat([this.headBytes, chunk]);
    const end = this.headBytes.indexOf("\r\n\r\n");
    if (end === -1) return;
    this.head = this.headBytes.toString("latin1", 0, end + 4);
    const length = /\r\nContent-Length: (\d+)\r\n/i.exec(this.head)?.[1];
    this.contentLength = length === undefined ? -1 : Number(length);
    const rest = this.headBytes.subarray(end + 4);
    this.headBytes = Buffer.alloc(0);
    this.countBody(rest);
  }

  private countBody(chunk: Buffer): void {
    if (this.firstNonZeroAt === -1) {
      for (let at = 0; at < chunk.length; at += ZEROS.length) {
        const part = chunk.subarray(at, at + ZEROS.length);
        if (part.equals(ZEROS.subarray(0, part.length))) continue;
        const index = part.findIndex((byte) => byte !== 0);
        this.firstNonZeroAt = this.bodyBytes + at + index;
        break;
      }
    }
    this.bodyBytes += chunk.length;
  }

  /** Status code from the head, or 0 before it arrived. */
  get status(): number {
    return Number(/^HTTP\/1\.1 (\d{3}) /.exec(this.head ?? "")?.[1] ?? 0);
  }

  protected describe(): string {
    const state = this.reset ? "reset" : this.endedByServer ? "ended by server" : "open";
    return (
      `download ${state}, head ${JSON.stringify(this.head)}, ` +
      `${this.bodyBytes} of ${this.contentLength} body bytes`
    );
  }
}

/** Every file of a site fixture is stamped with this mtime, so Last-Modified is a known value. */
export const FIXTURE_MTIME = new Date("2024-01-02T03:04:05Z");
/** FIXTURE_MTIME as an HTTP-date (RFC 9110 §5.6.7). */
export const FIXTURE_LAST_MODIFIED = "Tue, 02 Jan 2024 03:04:05 GMT";

/** writeTree, then every file written gets FIXTURE_MTIME. */
export async function writeStampedTree(
  dir: string,
  tree: Record<string, string | Buffer>,
): Promise<void> {
  await writeTree(dir, tree);
  for (const name of Object.keys(tree)) {
    if (!name.endsWith("/")) await utimes(join(dir, name), FIXTURE_MTIME, FIXTURE_MTIME);
  }
}

/** Creates (or replaces) a sparse file of `sizeBytes` zeros: gigabytes that cost no disk. */
export function createSparseFile(path: string, sizeBytes: number): void {
  closeSync(openSync(path, "w"));
  truncateSync(path, sizeBytes);
}
