/**
 * Large files through real sockets (README "Connections"): backpressure bounds memory while a
 * client reads nothing, a full download is exact, and faults (resets mid-download, a file that
 * shrinks while it is sent, a burst of reset connections) neither crash the server, nor leak a
 * descriptor, nor send a padded body. The large files are sparse: they cost no disk and read as
 * zeros, so every body byte can be checked.
 */
import assert from "node:assert/strict";
import { truncateSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { exchange, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  countOpenFds,
  createSparseFile,
  flood,
  pollUntil,
  type RunningServer,
  settledFdCount,
  startServer,
  writeStampedTree,
  ZeroFileDownload,
} from "../helpers/test-server.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** README: a 1 GiB download holds about 64 KiB plus the socket buffer. Generous for GC noise. */
const MAX_RSS_GROWTH_BYTES = 48 * MiB;
/** Live memory (JS heap + Buffer memory, after a full GC) a flooding client may make berth hold. */
const MAX_FLOOD_LIVE_BYTES = 32 * MiB;
/** RSS also counts allocator slack left by the garbage of ~10 MB of answers the kernel buffers
 * accept before backpressure; unbounded buffering grows ~150 MiB/s, far past this guard. */
const MAX_FLOOD_RSS_GROWTH_BYTES = 96 * MiB;
const PAUSE_MS = 1500;
/** README: at most 64 KiB of pipelined requests are buffered while a response is in flight. What
 * a client can push is that plus the kernel's socket buffers on both sides (a few MiB). */
const MAX_FLOOD_BYTES = 32 * MiB;
const FLOOD_MS = 1000;

let root = "";
let running: RunningServer;

/** A sparse file of `sizeBytes` zeros under the root; returns its path. */
function createSparseFileInRoot(relativePath: string, sizeBytes: number): string {
  const path = join(root, relativePath);
  createSparseFile(path, sizeBytes);
  return path;
}

before(async () => {
  root = await makeTempDir("berth-streaming-");
  await writeStampedTree(root, { "digits.txt": "0123456789" });
  createSparseFileInRoot("1g.bin", GiB);
  createSparseFileInRoot("256m.bin", 256 * MiB);
  createSparseFileInRoot("64m.bin", 64 * MiB);
  running = await startServer({ root });
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

const get = (target: string, fields = ""): string =>
  `GET ${target} HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;

/** global.gc when node runs with --expose-gc; else exposed at run time (V8 allows it for tests);
 * null when neither works, and memory is then compared without collecting first. */
function findGc(): (() => void) | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === "function") return existing as () => void;
  try {
    setFlagsFromString("--expose-gc");
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/** Bytes the process really holds after a GC: the JS heap plus Buffer backing stores. */
function liveBytesAfterGc(gc: (() => void) | null): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function rssAfterGc(gc: (() => void) | null): number {
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}

/** The same GET for digits.txt, answered while something else is going on. */
async function assertServesDigits(when: string): Promise<void> {
  const result = await exchange(running.port, get("/digits.txt", "Connection: close\r\n"));
  const [response] = parseResponses(result.raw, ["GET"]).responses;
  const got = `${response?.status} ${JSON.stringify(response?.body.toString("latin1"))}`;
  assert.equal(got, `200 "0123456789"`, `GET /digits.txt ${when} = ${got}`);
}

async function assertReleased(fdsBefore: number, what: string): Promise<void> {
  const closed = await pollUntil(() => running.server.connectionCount === 0, 1000);
  assert.ok(closed, `${what}: ${running.server.connectionCount} connection(s) still open`);
  const released = await pollUntil(() => countOpenFds() === fdsBefore, 1000);
  assert.ok(released, `${what}: open fds = ${countOpenFds()}, want ${fdsBefore}`);
}

describe("backpressure", () => {
  test("a paused client of a 1 GiB file: memory stays bounded, then reading resumes", async () => {
    const gc = findGc();
    const fdsBefore = await settledFdCount(running.server);
    const rssBefore = rssAfterGc(gc);
    const download = await ZeroFileDownload.start(running.port, get("/1g.bin"));
    try {
      download.socket.pause();
      // A fixed pause is the point here: time for a server without backpressure to read ahead.
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      const growthBytes = rssAfterGc(gc) - rssBefore;
      assert.ok(
        growthBytes < MAX_RSS_GROWTH_BYTES,
        `RSS grew ${(growthBytes / MiB).toFixed(1)} MiB while a 1 GiB download was paused ` +
          `for ${PAUSE_MS} ms, want < ${MAX_RSS_GROWTH_BYTES / MiB} MiB (gc ${gc === null ? "unavailable" : "run"})`,
      );
      assert.equal(running.server.connectionCount, 1, "the paused download was dropped");

      download.socket.resume();
      const wantBytes = 16 * MiB;
      await download.waitFor(() => download.bodyBytes >= wantBytes, 5000, `${wantBytes} bytes`);
      const got = `${download.status} Content-Length ${download.contentLength}`;
      assert.equal(got, `200 Content-Length ${GiB}`, `GET /1g.bin = ${download.head}`);
      assert.equal(download.firstNonZeroAt, -1, "body bytes of the sparse file were not zero");
    } finally {
      download.destroy();
    }
    await assertReleased(fdsBefore, "after destroying the 1 GiB download");
  });

  // A client that pipelines requests and never reads the answers. Whether berth is busy with one
  // large response or answers each request at once, it must stop reading once its output backs
  // up, or it buffers answers (and requests) without bound.
  // biome-ignore format: one row per line
  const floodRows: ReadonlyArray<readonly [inFlight: string, flooded: string]> = [
    [get("/1g.bin"), get("/digits.txt")],
    ["",             get("/digits.txt")],
    ["",             "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n"],
    ["",             "DELETE /x HTTP/1.1\r\nHost: t\r\n\r\n"],
  ];

  for (const [inFlight, flooded] of floodRows) {
    const what = `${inFlight === "" ? "" : `${inFlight.split(" ", 2).join(" ")}, then `}${flooded.split(" ", 2).join(" ")} × ∞`;
    test(`pipelining without reading (${what}): input and memory stay bounded`, async () => {
      const gc = findGc();
      const fdsBefore = await settledFdCount(running.server);
      const rssBefore = rssAfterGc(gc);
      const liveBefore = liveBytesAfterGc(gc);
      const socket = await openRawSocket(running.port, inFlight);
      socket.pause();
      const requests = Buffer.from(flooded.repeat(1000), "latin1");
      const { acceptedBytes } = await flood(socket, requests, FLOOD_MS, () => false);
      const liveGrowthBytes = liveBytesAfterGc(gc) - liveBefore;
      const rssGrowthBytes = rssAfterGc(gc) - rssBefore;
      socket.destroy();
      assert.ok(
        acceptedBytes < MAX_FLOOD_BYTES &&
          liveGrowthBytes < MAX_FLOOD_LIVE_BYTES &&
          rssGrowthBytes < MAX_FLOOD_RSS_GROWTH_BYTES,
        `flood(${what}) for ${FLOOD_MS} ms: server took ${(acceptedBytes / MiB).toFixed(1)} MiB ` +
          `of requests, live memory grew ${(liveGrowthBytes / MiB).toFixed(1)} MiB, RSS ` +
          `${(rssGrowthBytes / MiB).toFixed(1)} MiB; want < ${MAX_FLOOD_BYTES / MiB} MiB, ` +
          `< ${MAX_FLOOD_LIVE_BYTES / MiB} MiB and < ${MAX_FLOOD_RSS_GROWTH_BYTES / MiB} MiB ` +
          `(gc ${gc === null ? "unavailable" : "run"})`,
      );
      await assertReleased(fdsBefore, `after flood(${what})`);
      await assertServesDigits(`after flood(${what})`);
    });
  }

  test("a full download of a 64 MiB file: exactly Content-Length zero bytes, then close", async () => {
    const download = await ZeroFileDownload.start(
      running.port,
      get("/64m.bin", "Connection: close\r\n"),
    );
    try {
      await download.waitForServerGone(20_000);
      const got =
        `${download.status} Content-Length ${download.contentLength}, ` +
        `${download.bodyBytes} body bytes, ${download.reset ? "reset" : "closed"}`;
      const want = `200 Content-Length ${64 * MiB}, ${64 * MiB} body bytes, closed`;
      assert.equal(got, want, `GET /64m.bin = ${got}, want ${want}`);
      assert.equal(download.firstNonZeroAt, -1, "body bytes of the sparse file were not zero");
    } finally {
      download.destroy();
    }
  });
});

/** `sizeBytes` bytes in which every 4-byte word (little-endian) holds its own offset: a chunk sent
 * twice, skipped or out of order shows up as a wrong word at a known offset. */
function offsetPattern(sizeBytes: number): Buffer {
  const words = Buffer.alloc(Math.ceil(sizeBytes / 4) * 4);
  for (let at = 0; at < words.length; at += 4) words.writeUInt32LE(at, at);
  return words.subarray(0, sizeBytes);
}

// Sizes around FILE_CHUNK_BYTES (64 KiB), the step berth reads and writes a file in.
// biome-ignore format: one row per line
const patternSizes: readonly number[] = [0, 1, 65_535, 65_536, 65_537, 2 * 65_536, 3 * MiB + 5];

describe("exact bodies across chunk boundaries", () => {
  before(async () => {
    const tree: Record<string, Buffer> = {};
    for (const size of patternSizes) tree[`pattern-${size}.bin`] = offsetPattern(size);
    await writeStampedTree(root, tree);
  });

  for (const size of patternSizes) {
    const call = `GET /pattern-${size}.bin`;
    test(`${call}: ${size} bytes, each at its offset`, async () => {
      const request = get(`/pattern-${size}.bin`, "Connection: close\r\n");
      const result = await exchange(running.port, request, { timeoutMs: 5000 });
      const { responses, rest } = parseResponses(result.raw, ["GET"]);
      const [response] = responses;
      const body = response?.body ?? Buffer.alloc(0);
      assert.equal(response?.header("content-length"), String(size), `${call} Content-Length`);
      const want = offsetPattern(size);
      if (!body.equals(want)) {
        const at = want.findIndex((byte, i) => body[i] !== byte);
        assert.fail(`${call}: body of ${body.length} bytes differs from the file at byte ${at}`);
      }
      assert.equal(rest.length, 0, `${call}: bytes after the response`);
    });
  }
});

describe("faults", () => {
  // resetAndDestroy sends an RST at once; destroy sends a FIN, which the kernel turns into an
  // RST because the client leaves bytes unread.
  for (const how of ["resetAndDestroy", "destroy"] as const) {
    test(`a client ${how}()s mid-download: others are still served, every fd is released`, async () => {
      const fdsBefore = await settledFdCount(running.server);
      const download = await ZeroFileDownload.start(running.port, get("/256m.bin"));
      try {
        await download.waitFor(() => download.bodyBytes >= MiB, 5000, "1 MiB of the body");
        await assertServesDigits("during a large download");
        download[how]();
        await assertServesDigits(`right after a client ${how}()ed mid-download`);
      } finally {
        download.destroy();
      }
      await assertReleased(fdsBefore, `after a ${how}() mid-download`);
      await assertServesDigits(`after a ${how}() mid-download`);
    });
  }

  test("a file truncated while it is sent: the connection closes, fewer bytes, never padded", async () => {
    const path = createSparseFileInRoot("shrinking.bin", 32 * MiB);
    const errorsBefore = running.log.errorLines.length;
    const fdsBefore = await settledFdCount(running.server);
    const download = await ZeroFileDownload.start(running.port, get("/shrinking.bin"));
    try {
      await download.waitFor(() => download.bodyBytes >= 64 * 1024, 5000, "64 KiB of the body");
      download.socket.pause();
      truncateSync(path, 1024);
      download.socket.resume();
      await download.waitForServerGone(5000);
      assert.equal(download.contentLength, 32 * MiB, `head = ${download.head}`);
      assert.ok(
        download.bodyBytes < download.contentLength,
        `received ${download.bodyBytes} body bytes of a file truncated during the send, want < ${download.contentLength}`,
      );
      assert.equal(download.firstNonZeroAt, -1, "the body was padded with non-zero bytes");
      const logged = running.log.errorLines.slice(errorsBefore);
      assert.ok(
        logged.some((line) => line.includes("file truncated while sending")),
        `logged ${JSON.stringify(logged)}`,
      );
    } finally {
      download.destroy();
    }
    await assertReleased(fdsBefore, "after a truncated send");
  });

  test("100 connections reset abruptly at every stage: the server still answers", async () => {
    const fdsBefore = await settledFdCount(running.server);
    // What each connection has sent when it is reset: nothing, part of a head, a head whose
    // file is being opened or streamed, a request with half its body.
    const openings = [
      "",
      "GET /digits.txt HT",
      get("/digits.txt"),
      get("/256m.bin"),
      `${get("/digits.txt", "Content-Length: 100\r\n")}${"b".repeat(50)}`,
    ];
    const sockets = await Promise.all(
      Array.from({ length: 100 }, (_, i) => openRawSocket(running.port, openings[i % 5] ?? "")),
    );
    // Reset once the server holds them all, each at whatever stage its opening got it to.
    const accepted = await pollUntil(() => running.server.connectionCount >= 100, 2000);
    assert.ok(accepted, `server accepted ${running.server.connectionCount} of 100 connections`);
    for (const socket of sockets) socket.resetAndDestroy();
    await assertServesDigits("after 100 connections were reset");
    await assertReleased(fdsBefore, "after 100 resets");
  });
});

/** Connects and writes `opening`; errors after our own reset are expected and ignored. */
function openRawSocket(port: number, opening: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      if (opening !== "") socket.write(Buffer.from(opening, "latin1"));
      resolve(socket);
    });
  });
}
