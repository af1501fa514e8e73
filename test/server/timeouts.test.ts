/**
 * Connection timeouts (README "berth serve" flags): the header timeout runs from a head's first
 * byte and trickling does not extend it; a silent connection is closed without an answer; an idle
 * keep-alive connection is closed quietly; a client that stops reading is dropped and its file
 * closed. Deadlines are checked every DEADLINE_SWEEP_INTERVAL_MS, so each may fire up to that
 * much late: the windows below allow for it plus scheduling slack.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { DEADLINE_SWEEP_INTERVAL_MS } from "../../src/server/static-server.js";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  countOpenFds,
  createSparseFile,
  flood,
  pollUntil,
  RawConnection,
  type RunningServer,
  settledFdCount,
  startServer,
  writeStampedTree,
  ZeroFileDownload,
} from "../helpers/test-server.js";

const HEADER_TIMEOUT_MS = 400;
// Longer than the header timeout plus a sweep, so an idle close cannot be the header deadline.
const KEEPALIVE_TIMEOUT_MS = 800;
const SEND_TIMEOUT_MS = 500;
// Distinct from the header timeout, so the test tells which clock closed a stalled body.
const BODY_TIMEOUT_MS = 1200;
/** How late a deadline may fire: one sweep interval, plus slack for a busy test machine. */
const LATE_MS = DEADLINE_SWEEP_INTERVAL_MS + 400;
/** The send clock starts once the socket's buffers are full, which takes a moment more to reach
 * (more on a loaded machine): a stalled reader must be gone within about a second of the send
 * timeout. */
const SEND_LATE_MS = 1000;
/** How early: never, but timers and clocks are not exact to the millisecond. */
const EARLY_MS = 30;
const BIG_FILE_BYTES = 256 * 1024 * 1024;

let root = "";
let running: RunningServer;

before(async () => {
  root = await makeTempDir("berth-timeouts-");
  await writeStampedTree(root, { "digits.txt": "0123456789" });
  createSparseFile(join(root, "big.bin"), BIG_FILE_BYTES);
  running = await startServer({
    root,
    headerTimeoutMs: HEADER_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
    sendTimeoutMs: SEND_TIMEOUT_MS,
    bodyTimeoutMs: BODY_TIMEOUT_MS,
  });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

function assertWithin(what: string, elapsedMs: number, nominalMs: number, lateMs = LATE_MS): void {
  assert.ok(
    elapsedMs >= nominalMs - EARLY_MS && elapsedMs <= nominalMs + lateMs,
    `${what} after ${elapsedMs.toFixed(0)} ms, want ${nominalMs}..${nominalMs + lateMs} ms`,
  );
}

/** status, Connection field, and how the exchange ended, as one comparable line. */
function describeOutcome(raw: Buffer, reset: boolean, closedByServer: boolean): string {
  // Room for a second response, so one that should not exist is shown, not thrown.
  const { responses, rest } = parseResponses(raw, ["GET", "GET"]);
  const statuses = responses.map((r) => `${r.status} Connection: ${r.header("connection")}`);
  const end = reset ? "reset" : closedByServer ? "closed" : "open";
  return `[${statuses.join(", ")}] ${rest.length} stray bytes, ${end}`;
}

// The client-side timing tests are independent connections: run them side by side.
describe("header and keep-alive timeouts", { concurrency: true }, () => {
  test("a partial head gets 408 with Connection: close, then the connection closes", async () => {
    const errorsBefore = running.log.errorLines.length;
    const startMs = performance.now();
    const result = await exchange(running.port, "GET /digits.txt HTTP/1.1\r\nHo", {
      timeoutMs: 3000,
    });
    const elapsedMs = performance.now() - startMs;
    const got = describeOutcome(result.raw, result.reset, result.closedByServer);
    const want = "[408 Connection: close] 0 stray bytes, closed";
    assert.equal(got, want, `partial head = ${got}, want ${want}`);
    assertWithin("408 for a partial head", elapsedMs, HEADER_TIMEOUT_MS);
    const logged = running.log.errorLines.slice(errorsBefore);
    assert.ok(
      logged.some((line) => line.endsWith("request head not received in time: 408")),
      `logged ${JSON.stringify(logged)}`,
    );
  });

  test("trickling one byte every 100 ms does not extend the header timeout", async () => {
    const head = Buffer.from(
      `GET /digits.txt HTTP/1.1\r\nHost: t\r\nX-Slow: ${"s".repeat(40)}\r\n\r\n`,
      "latin1",
    );
    const bytes = [...head].map((_, at) => head.subarray(at, at + 1));
    const startMs = performance.now();
    const result = await exchange(running.port, bytes, { writeDelayMs: 100, timeoutMs: 3000 });
    const elapsedMs = performance.now() - startMs;
    const got = describeOutcome(result.raw, result.reset, result.closedByServer);
    const want = "[408 Connection: close] 0 stray bytes, closed";
    assert.equal(got, want, `trickled head = ${got}, want ${want}`);
    assertWithin("408 for a trickled head", elapsedMs, HEADER_TIMEOUT_MS);
  });

  test("a connection that sends nothing is closed after the header timeout, without a 408", async () => {
    const startMs = performance.now();
    const result = await exchange(running.port, [], { timeoutMs: 3000 });
    const elapsedMs = performance.now() - startMs;
    assert.equal(result.raw.length, 0, `silent connection got ${showBytes(result.raw)}`);
    assert.ok(result.closedByServer && !result.reset, "server did not close cleanly");
    assertWithin("silent connection closed", elapsedMs, HEADER_TIMEOUT_MS);
  });

  test("an idle keep-alive connection is closed quietly after the keep-alive timeout", async () => {
    const connection = await RawConnection.open(running.port);
    try {
      connection.write("GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n");
      await connection.waitForResponses(["GET"], 2000);
      const answeredMs = performance.now();
      const answeredBytes = connection.received.length;
      await connection.waitForServerGone(KEEPALIVE_TIMEOUT_MS + LATE_MS + 1000);
      const idleMs = connection.endedAtMs - answeredMs;
      const extra = connection.received.subarray(answeredBytes);
      assert.equal(extra.length, 0, `idle connection got ${showBytes(extra)}`);
      assert.ok(!connection.reset, "server reset an idle connection instead of closing it");
      assertWithin("idle keep-alive connection closed", idleMs, KEEPALIVE_TIMEOUT_MS);
    } finally {
      connection.destroy();
    }
  });

  test("a body that stops arriving after the answer: closed after the body timeout, no second response", async () => {
    const connection = await RawConnection.open(running.port);
    try {
      // berth answers on the head and discards the body as it comes; 7 of its 10 bytes never do.
      connection.write("GET /digits.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
      await connection.waitForResponses(["GET"], 2000);
      const answeredMs = performance.now();
      await connection.waitForServerGone(BODY_TIMEOUT_MS + LATE_MS + 1000);
      const got = describeOutcome(connection.received, connection.reset, connection.endedByServer);
      const want = "[200 Connection: undefined] 0 stray bytes, closed";
      assert.equal(got, want, `stalled body after the answer = ${got}, want ${want}`);
      assertWithin("stalled body closed", connection.endedAtMs - answeredMs, BODY_TIMEOUT_MS);
    } finally {
      connection.destroy();
    }
  });

  test("on a kept-alive connection the header clock starts at the next head's first byte", async () => {
    const connection = await RawConnection.open(running.port);
    try {
      connection.write("GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n");
      await connection.waitForResponses(["GET"], 2000);
      const offset = connection.received.length;
      await new Promise((resolve) => setTimeout(resolve, 300)); // idle, but under both timeouts
      const partialMs = performance.now();
      connection.write("GET /digits.txt HTTP/1.1\r\nHo");
      const [response] = await connection.waitForResponses(["GET"], 3000, offset);
      const elapsedMs = performance.now() - partialMs;
      assert.equal(response?.status, 408, `second, partial head = ${response?.status}, want 408`);
      assertWithin("408 for the second, partial head", elapsedMs, HEADER_TIMEOUT_MS);
      await connection.waitForServerGone(1000);
    } finally {
      connection.destroy();
    }
  });
});

describe("send timeout", () => {
  test("a client that stops reading is dropped within the send timeout and its file closed", async () => {
    const fdsBefore = await settledFdCount(running.server);
    const download = await ZeroFileDownload.start(
      running.port,
      "GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    try {
      download.socket.pause();
      const startMs = performance.now();
      const dropped = await pollUntil(
        () => running.server.connectionCount === 0,
        SEND_TIMEOUT_MS + SEND_LATE_MS + 1000,
      );
      const elapsedMs = performance.now() - startMs;
      assert.ok(dropped, `connection still open ${elapsedMs.toFixed(0)} ms after reading stopped`);
      assertWithin("stalled reader dropped", elapsedMs, SEND_TIMEOUT_MS, SEND_LATE_MS);
      // What the kernel had buffered still arrives, then the end: never the whole file.
      download.socket.resume();
      await download.waitForServerGone(5000);
      assert.equal(download.status, 200, `GET /big.bin head = ${JSON.stringify(download.head)}`);
      assert.ok(
        download.bodyBytes < BIG_FILE_BYTES,
        `stalled reader received ${download.bodyBytes} of ${BIG_FILE_BYTES} body bytes`,
      );
      assert.equal(download.firstNonZeroAt, -1, "body bytes of the sparse file were not zero");
    } finally {
      download.destroy();
    }
    const released = await pollUntil(() => countOpenFds() === fdsBefore, 1000);
    assert.ok(released, `open fds = ${countOpenFds()}, want ${fdsBefore}`);
  });

  test("a client that pipelines OPTIONS and never reads an answer is dropped within the send timeout", async () => {
    const fdsBefore = await settledFdCount(running.server);
    const connection = await RawConnection.open(running.port);
    try {
      connection.socket.pause();
      const requests = Buffer.from("OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n".repeat(1000), "latin1");
      const startMs = performance.now();
      // Keep sending while the server lets us: an active sender must not pass for a reader.
      const limitMs = SEND_TIMEOUT_MS + SEND_LATE_MS + 2000;
      const dropped = () => running.server.connectionCount === 0;
      const { lastAcceptedMs } = await flood(connection.socket, requests, limitMs, dropped);
      // A write fails as soon as the server destroys the socket, a moment before it forgets it.
      await pollUntil(dropped, Math.max(0, startMs + limitMs - performance.now()), 1);
      const droppedMs = performance.now();
      assert.equal(
        running.server.connectionCount,
        0,
        `a client sending requests but reading no answer was still connected after ${(droppedMs - startMs).toFixed(0)} ms`,
      );
      // The send clock starts once the server's output backs up, and soon after it stops reading
      // requests: the last one the kernel took is the latest that can be.
      assert.ok(
        droppedMs - lastAcceptedMs <= SEND_TIMEOUT_MS + SEND_LATE_MS,
        `non-reading pipeliner dropped ${(droppedMs - lastAcceptedMs).toFixed(0)} ms after the ` +
          `server last took a request, want <= ${SEND_TIMEOUT_MS + SEND_LATE_MS} ms`,
      );
    } finally {
      connection.destroy();
    }
    const released = await pollUntil(() => countOpenFds() === fdsBefore, 1000);
    assert.ok(released, `open fds = ${countOpenFds()}, want ${fdsBefore}`);
  });
});
