/**
 * Graceful shutdown through the API (README "Graceful shutdown", StaticServer.close()): idle
 * connections close at once, responses in flight finish and their connections then close, new
 * connections are refused, and after graceMs whatever remains is destroyed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  createSparseFile,
  pollUntil,
  RawConnection,
  type RunningServer,
  startServer,
  type TestServerOptions,
  writeStampedTree,
  ZeroFileDownload,
} from "../helpers/test-server.js";

const MiB = 1024 * 1024;
const BIG_FILE_BYTES = 32 * MiB;
/** "At once" for an idle connection, and "soon" after a response in flight finished. */
const PROMPT_MS = 500;

let root = "";
const started: RunningServer[] = [];

before(async () => {
  root = await makeTempDir("berth-graceful-close-");
  await writeStampedTree(root, { "hello.txt": "hello\n" });
  createSparseFile(join(root, "big.bin"), BIG_FILE_BYTES);
});

after(async () => {
  for (const running of started) await running.server.close();
  await removeTempDir(root);
});

async function startTracked(options: Omit<TestServerOptions, "root">): Promise<RunningServer> {
  const running = await startServer({ root, ...options });
  started.push(running);
  return running;
}

const get = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`;

/** Reads in bursts: after every `burstBytes`, stops reading for `pauseMs`. */
function readSlowly(download: ZeroFileDownload, burstBytes: number, pauseMs: number): void {
  let sinceBurst = 0;
  download.socket.on("data", (chunk: Buffer) => {
    sinceBurst += chunk.length;
    if (sinceBurst < burstBytes) return;
    sinceBurst = 0;
    download.socket.pause();
    setTimeout(() => download.socket.resume(), pauseMs);
  });
}

/** close() with the time it resolved (performance.now()). */
function closeTimed(running: RunningServer): Promise<number> {
  return running.server.close().then(() => performance.now());
}

async function assertRefused(port: number): Promise<void> {
  await assert.rejects(RawConnection.open(port), /ECONNREFUSED/, `connect after close() succeeded`);
}

describe("close()", () => {
  test("idle closes at once, a slow download finishes, then close() resolves", async () => {
    // A keep-alive timeout far above PROMPT_MS: a finished connection left to idle out is seen.
    const running = await startTracked({ graceMs: 8000, keepAliveTimeoutMs: 3000 });
    const idle = await RawConnection.open(running.port);
    const download = await ZeroFileDownload.start(running.port, get("/big.bin"));
    try {
      idle.write(get("/hello.txt"));
      await idle.waitForResponses(["GET"], 2000);
      const idleBytes = idle.received.length;
      let completedMs = 0;
      download.socket.on("data", () => {
        if (completedMs === 0 && download.bodyBytes >= BIG_FILE_BYTES) {
          completedMs = performance.now();
        }
      });
      readSlowly(download, 2 * MiB, 40);
      await download.waitFor(() => download.bodyBytes >= MiB, 5000, "1 MiB of the body");

      const closeStartMs = performance.now();
      const closed = closeTimed(running);
      await idle.waitForServerGone(PROMPT_MS);
      const idleClosedAfterMs = idle.endedAtMs - closeStartMs;
      assert.ok(
        idleClosedAfterMs < PROMPT_MS,
        `idle connection closed ${idleClosedAfterMs.toFixed(0)} ms after close()`,
      );
      assert.ok(!idle.reset, "the idle connection was reset instead of closed");
      assert.equal(idle.received.length, idleBytes, "the idle connection got bytes at close()");
      assert.ok(
        download.bodyBytes < BIG_FILE_BYTES && !download.endedByServer,
        `precondition: the download (${download.bodyBytes} bytes) was in flight at close()`,
      );

      await download.waitForServerGone(10_000);
      const got =
        `${download.status} ${download.bodyBytes} of ${download.contentLength} body bytes, ` +
        `${download.reset ? "reset" : "closed"}`;
      const want = `200 ${BIG_FILE_BYTES} of ${BIG_FILE_BYTES} body bytes, closed`;
      assert.equal(got, want, `download across close() = ${got}, want ${want}`);
      assert.equal(download.firstNonZeroAt, -1, "body bytes of the sparse file were not zero");

      const closedMs = await closed;
      assert.ok(closedMs >= completedMs, "close() resolved before the download completed");
      // Once its response is done, the connection is idle: shutdown must close it then, not
      // leave it to the keep-alive timeout or the grace period.
      const endAfterMs = download.endedAtMs - completedMs;
      assert.ok(
        endAfterMs < PROMPT_MS,
        `server ended the download's connection ${endAfterMs.toFixed(0)} ms after its last ` +
          `byte, want < ${PROMPT_MS} (keepAliveTimeoutMs 3000, graceMs 8000)`,
      );
      const resolveAfterMs = closedMs - completedMs;
      assert.ok(
        resolveAfterMs < PROMPT_MS,
        `close() resolved ${resolveAfterMs.toFixed(0)} ms after the download completed, want < ${PROMPT_MS}`,
      );
      await assertRefused(running.port);
    } finally {
      idle.destroy();
      download.destroy();
    }
  });

  test("a head in progress at close() is answered with Connection: close", async () => {
    const running = await startTracked({ graceMs: 8000, keepAliveTimeoutMs: 3000 });
    const connection = await RawConnection.open(running.port);
    try {
      connection.write("GET /hello.txt HTTP/1.1\r\nHo");
      // Let the server read the partial head before shutting down.
      await pollUntil(() => running.server.connectionCount === 1, 1000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A loop that was busy runs the timer before polling the socket: wait for the poll phase
      // (setImmediate runs right after it) so the server has surely read the partial head.
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      const closed = closeTimed(running);
      connection.write("st: t\r\n\r\n");
      const [response] = await connection.waitForResponses(["GET"], 2000);
      const got = `${response?.status} Connection: ${response?.header("connection")}`;
      assert.equal(got, "200 Connection: close", `request finished during close() = ${got}`);
      await connection.waitForServerGone(PROMPT_MS);
      const closedMs = await closed;
      assert.ok(
        closedMs - connection.endedAtMs < PROMPT_MS,
        `close() resolved ${(closedMs - connection.endedAtMs).toFixed(0)} ms after the last connection ended`,
      );
    } finally {
      connection.destroy();
    }
  });

  test("with graceMs 200, a stalled download is destroyed and close() resolves soon after", async () => {
    const graceMs = 200;
    const running = await startTracked({ graceMs });
    const download = await ZeroFileDownload.start(running.port, get("/big.bin"));
    try {
      await download.waitFor(() => download.head !== null, 2000, "the response head");
      download.socket.pause();
      const closeStartMs = performance.now();
      const closedMs = await closeTimed(running);
      const elapsedMs = closedMs - closeStartMs;
      assert.ok(
        elapsedMs >= graceMs - 20 && elapsedMs < graceMs + PROMPT_MS,
        `close() with a stalled download resolved after ${elapsedMs.toFixed(0)} ms, want ${graceMs}..${graceMs + PROMPT_MS}`,
      );
      assert.equal(running.server.connectionCount, 0, "connections left after close()");
      download.socket.resume();
      await download.waitForServerGone(5000);
      assert.ok(
        download.bodyBytes < BIG_FILE_BYTES,
        `stalled download received ${download.bodyBytes} of ${BIG_FILE_BYTES} bytes`,
      );
      await assertRefused(running.port);
    } finally {
      download.destroy();
    }
  });
});
