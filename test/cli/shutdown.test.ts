/**
 * Graceful shutdown of `berth serve` with connections open, as README describes it: on SIGINT or
 * SIGTERM berth stops accepting, closes idle keep-alive connections at once, lets responses in
 * flight finish and exits 0; after --grace-ms it destroys what remains; a second signal exits at
 * once with 130 (SIGINT) or 143 (SIGTERM).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CliProcess, killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { waitUntilRefused } from "../helpers/net-probes.js";
import { parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

/** Far more than loopback socket buffers hold, so the response is surely still in flight. */
const BIG_FILE_BYTES = 64 * 1024 * 1024;
/** The big file is sparse (zeros) except for these marks at its start and end, so an offset
 * mistake shows. */
const HEAD_MARK = "berth big.bin head";
const TAIL_MARK = "berth big.bin tail";
/** Body bytes the download reads before it stalls: the response is visibly mid-stream. */
const READ_BEFORE_STALL_BYTES = 1024 * 1024;
/** README: idle keep-alive connections are closed "at once" on the signal. */
const IDLE_CLOSE_WITHIN_MS = 500;
/** A second signal exits "at once". */
const SECOND_SIGNAL_EXIT_WITHIN_MS = 1000;
/** Slack for process exit after the work is done (timer sweep, event loop, exit). */
const EXIT_SLACK_MS = 1000;
const WAIT_MS = 5000;

/** A keep-alive client that has finished one request and keeps its connection open. */
interface IdleClient {
  readonly socket: Socket;
  /** Resolves with performance.now() when the server ends or resets the connection. */
  readonly closed: Promise<number>;
}

async function openIdleConnection(port: number, target: string): Promise<IdleClient> {
  const socket = connect({ port, host: "127.0.0.1" });
  const closed = new Promise<number>((resolve) => {
    socket.once("close", () => resolve(performance.now()));
  });
  socket.on("error", () => {}); // a reset is a close too; "close" follows
  const chunks: Buffer[] = [];
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        try {
          if (parseResponses(Buffer.concat(chunks), ["GET"]).responses.length === 1) resolve();
        } catch (error) {
          reject(error);
        }
      });
      socket.once("close", () => reject(new Error(`GET ${target}: closed before the response`)));
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    }),
    WAIT_MS,
    `the response to GET ${target} on the keep-alive connection`,
  );
  const [response] = parseResponses(Buffer.concat(chunks), ["GET"]).responses;
  assert.equal(response?.status, 200, `GET ${target}`);
  assert.equal(response?.header("connection"), undefined, "the connection is kept alive");
  return { socket, closed };
}

/**
 * A raw-socket GET whose reading the test controls: it reads the head and `readBytes` of the
 * body, then stalls (stops reading, so the server's writes back up) until resume().
 */
class Download {
  readonly socket: Socket;
  head: string | null = null;
  contentLength = -1;
  bodyBytes = 0;
  private readonly hash = createHash("sha256");
  private pending = Buffer.alloc(0);
  private stallAfterBytes: number;
  private readonly events = new EventTarget();
  serverClosed = false;

  constructor(port: number, target: string, readBytes: number) {
    this.stallAfterBytes = readBytes;
    this.socket = connect({ port, host: "127.0.0.1" });
    this.socket.on("error", () => {}); // a reset shows as "close" with bytes missing
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("close", () => {
      this.serverClosed = true;
      this.events.dispatchEvent(new Event("change"));
    });
    this.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
  }

  get digest(): string {
    return this.hash.copy().digest("hex");
  }

  /** Resolves once `condition` holds (checked on every chunk and on close), else rejects. */
  waitUntil(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (!condition()) return;
          this.events.removeEventListener("change", check);
          resolve();
        };
        this.events.addEventListener("change", check);
        check();
      }),
      timeoutMs,
      `${what} (head ${this.head === null ? "not received" : "received"}, ` +
        `${this.bodyBytes} body bytes, closed ${this.serverClosed})`,
    );
  }

  /** Reads everything from now on. */
  resume(): void {
    this.stallAfterBytes = Number.POSITIVE_INFINITY;
    this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.head === null) {
      this.pending = Buffer.concat([this.pending, chunk]);
      const end = this.pending.indexOf("\r\n\r\n");
      if (end === -1) return;
      this.head = this.pending.toString("latin1", 0, end);
      this.contentLength = Number(/\r\ncontent-length: *(\d+)/i.exec(this.head)?.[1] ?? -1);
      chunk = this.pending.subarray(end + 4);
      this.pending = Buffer.alloc(0);
    }
    this.bodyBytes += chunk.length;
    this.hash.update(chunk);
    if (this.bodyBytes >= this.stallAfterBytes) this.socket.pause();
    this.events.dispatchEvent(new Event("change"));
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startServing(root: string, extraArgs: readonly string[] = []) {
  const cli = startCli(["serve", root, "--host", "127.0.0.1", "--port", "0", ...extraArgs]);
  const [url] = await cli.waitForUrls(1);
  return { cli, port: Number(url?.port) };
}

describe("berth serve: graceful shutdown with connections open", () => {
  let root = "";
  let bigFileDigest = "";
  const clis: CliProcess[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    root = await makeTempDir("berth-cli-shutdown-");
    await writeTree(root, { "small.txt": "small\n" });
    const big = await open(join(root, "big.bin"), "w");
    try {
      await big.truncate(BIG_FILE_BYTES);
      await big.write(HEAD_MARK, 0);
      await big.write(TAIL_MARK, BIG_FILE_BYTES - TAIL_MARK.length);
    } finally {
      await big.close();
    }
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(join(root, "big.bin"))) hash.update(chunk);
    bigFileDigest = hash.digest("hex");
  });
  after(async () => {
    for (const cli of clis) cli.kill();
    for (const socket of sockets) socket.destroy();
    await removeTempDir(root);
  });

  test("SIGTERM: idle closed at once, new connections refused, download finishes, exit 0", async () => {
    const { cli, port } = await startServing(root);
    clis.push(cli);
    const idle = await openIdleConnection(port, "/small.txt");
    sockets.push(idle.socket);
    const download = new Download(port, "/big.bin", READ_BEFORE_STALL_BYTES);
    sockets.push(download.socket);
    await download.waitUntil("the download to start", () => download.bodyBytes > 0);
    assert.match(download.head ?? "", /^HTTP\/1\.1 200 /);
    assert.equal(download.contentLength, BIG_FILE_BYTES, download.head ?? "");

    const signalledMs = performance.now();
    cli.signal("SIGTERM");

    const idleClosedMs = (await withTimeout(idle.closed, WAIT_MS, "the idle close")) - signalledMs;
    assert.ok(
      idleClosedMs <= IDLE_CLOSE_WITHIN_MS,
      `the idle keep-alive connection closed ${Math.round(idleClosedMs)} ms after SIGTERM, ` +
        `want ≤ ${IDLE_CLOSE_WITHIN_MS} ms`,
    );
    await waitUntilRefused(port, IDLE_CLOSE_WITHIN_MS);
    await cli.waitForOutput("stderr", /\bSIGTERM\b/);
    assert.equal(cli.exit, null, `exited with a response in flight: ${cli.describe()}`);
    assert.ok(download.bodyBytes < BIG_FILE_BYTES, "the download was already complete");

    download.resume();
    await download.waitUntil("the whole body", () => download.bodyBytes >= BIG_FILE_BYTES);
    const bodyDoneMs = performance.now();
    assert.equal(download.bodyBytes, BIG_FILE_BYTES, "body bytes");
    assert.equal(download.digest, bigFileDigest, "the body differs from big.bin");

    // The response finished: berth must now close this connection too and exit, without
    // waiting for the client to hang up. Regression: the head went out before the signal without
    // Connection: close, so the connection went back to idle keep-alive and the process lingered
    // for --keepalive-timeout-ms (5 s) after the download.
    await download.waitUntil(
      "berth to close the finished download's connection",
      () => download.serverClosed,
      EXIT_SLACK_MS,
    );
    const exit = await cli.waitForExit(EXIT_SLACK_MS);
    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
    assert.equal(download.bodyBytes, BIG_FILE_BYTES, "bytes after the body");
    assert.ok(performance.now() - bodyDoneMs <= EXIT_SLACK_MS);
  });

  test("SIGINT twice with a stalled download: exits at once with 130", async () => {
    const { cli, port } = await startServing(root);
    clis.push(cli);
    const download = new Download(port, "/big.bin", READ_BEFORE_STALL_BYTES);
    sockets.push(download.socket);
    await download.waitUntil("the download to start", () => download.bodyBytes > 0);

    cli.signal("SIGINT");
    await cli.waitForOutput("stderr", /\bSIGINT\b/);
    assert.equal(cli.exit, null, `exited with a response in flight: ${cli.describe()}`);
    const secondMs = performance.now();
    cli.signal("SIGINT");
    const exit = await cli.waitForExit(WAIT_MS);
    const exitMs = performance.now() - secondMs;

    // README: "A second signal exits at once (exit code 130 for SIGINT, 143 for SIGTERM)".
    assert.deepEqual(exit, { code: 130, signal: null }, cli.describe());
    assert.ok(
      exitMs <= SECOND_SIGNAL_EXIT_WITHIN_MS,
      `exited ${Math.round(exitMs)} ms after the second SIGINT, want ≤ ${SECOND_SIGNAL_EXIT_WITHIN_MS}`,
    );
    assert.match(cli.stderr, /\bSIGINT\b.*\bagain\b/);
    assert.doesNotMatch(cli.stderr, /^ {4}at /m);
    // Read what the kernel still holds: only then is the end of the connection seen.
    download.resume();
    await download.waitUntil("the connection to close", () => download.serverClosed);
    assert.ok(download.bodyBytes < BIG_FILE_BYTES, "the download completed");
  });

  test("--grace-ms 300 with a stalled download: destroyed after the grace, exit 0", async () => {
    const graceMs = 300;
    const { cli, port } = await startServing(root, ["--grace-ms", String(graceMs)]);
    clis.push(cli);
    const download = new Download(port, "/big.bin", 1);
    sockets.push(download.socket);
    await download.waitUntil("the download to start", () => download.bodyBytes > 0);

    const signalledMs = performance.now();
    cli.signal("SIGTERM");
    const exit = await cli.waitForExit(graceMs + WAIT_MS);
    const exitMs = performance.now() - signalledMs;

    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
    assert.ok(
      exitMs >= graceMs - 10 && exitMs <= graceMs + EXIT_SLACK_MS,
      `exited ${Math.round(exitMs)} ms after SIGTERM, want ${graceMs}..${graceMs + EXIT_SLACK_MS}`,
    );
    download.resume();
    await download.waitUntil("the connection to close", () => download.serverClosed);
    assert.ok(download.bodyBytes < BIG_FILE_BYTES, "the stalled download completed");
  });
});
