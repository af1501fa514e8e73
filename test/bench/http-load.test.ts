/**
 * The load loop of `berth bench http` against real servers on loopback: requests are counted
 * exactly (every request ends once, as a response or as an error of one kind) whatever the
 * pipelining, with a connection per request, and when a server announces a close mid-batch;
 * failures are counted by kind; --rate measures from the scheduled send time.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type HttpLoadOptions, runHttpLoad } from "../../src/bench/http-load.js";
import {
  type BenchMethod,
  buildRequest,
  parseBenchUrls,
  RequestRotation,
} from "../../src/bench/http-target.js";
import { type HttpLoadMeasurements, summarizeHttpLoad } from "../../src/bench/summary.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  pollUntil,
  type RunningServer,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

let root = "";
let berth: RunningServer;

before(async () => {
  root = await makeTempDir("berth-bench-");
  await writeStampedTree(root, { "index.html": "<p>hello</p>\n", "a.txt": "aaaa" });
  berth = await startServer({ root });
});

after(async () => {
  await berth?.server.close();
  await removeTempDir(root);
});

interface LoadRow {
  readonly urls: readonly string[];
  readonly method?: BenchMethod;
  readonly connections: number;
  readonly pipeline?: number;
  readonly close?: boolean;
  readonly requests: number;
  readonly ratePerSecond?: number;
  readonly timeoutMs?: number;
}

/** Runs the load loop as the CLI would, against 127.0.0.1:port. */
function load(port: number, row: LoadRow): Promise<HttpLoadMeasurements> {
  const parsed = parseBenchUrls(
    row.urls.map((path) => `http://127.0.0.1:${port}${path}`),
    undefined,
  );
  assert.equal(parsed.kind, "urls");
  if (parsed.kind !== "urls") throw new Error("unreachable");
  const method = row.method ?? "GET";
  const close = row.close ?? false;
  const pipeline = row.pipeline ?? 1;
  const options: HttpLoadOptions = {
    target: parsed.connectTarget,
    rotation: new RequestRotation(
      parsed.urls.map((url) => buildRequest(url, { method, headers: [], close })),
      pipeline,
    ),
    isHead: method === "HEAD",
    connections: row.connections,
    pipeline,
    close,
    limit: { kind: "requests", count: row.requests },
    ratePerSecond: row.ratePerSecond ?? null,
    // Short enough that a server that stops answering fails the test, not hangs it.
    timeoutMs: row.timeoutMs ?? 3000,
  };
  return runHttpLoad(options);
}

function describeRow(row: LoadRow): string {
  const flags = [
    `-n ${row.requests}`,
    `-c ${row.connections}`,
    row.pipeline === undefined ? "" : `--pipeline ${row.pipeline}`,
    row.close === true ? "--close" : "",
    row.method === undefined ? "" : `--method ${row.method}`,
    row.ratePerSecond === undefined ? "" : `--rate ${row.ratePerSecond}`,
  ];
  return `${row.urls.join(" ")} ${flags.filter((flag) => flag !== "").join(" ")}`;
}

const NO_ERRORS = { connect: 0, reset: 0, timeout: 0, parse: 0 };

describe("berth bench http: exact counts against berth serve", { timeout: 20_000 }, () => {
  // biome-ignore format: one row per line
  const rows: readonly (LoadRow & { readonly statusCounts: Record<string, number> })[] = [
    { urls: ["/"], connections: 4, pipeline: 8, requests: 1000, statusCounts: { 200: 1000 } },
    { urls: ["/"], connections: 3, pipeline: 7, requests: 100, statusCounts: { 200: 100 } },
    { urls: ["/"], connections: 4, close: true, requests: 200, statusCounts: { 200: 200 } },
    { urls: ["/a.txt"], method: "HEAD", connections: 2, pipeline: 16, requests: 300, statusCounts: { 200: 300 } },
    { urls: ["/a.txt", "/missing"], connections: 1, pipeline: 5, requests: 101, statusCounts: { 200: 51, 404: 50 } },
    { urls: ["/"], connections: 2, pipeline: 4, requests: 60, ratePerSecond: 600, statusCounts: { 200: 60 } },
  ];
  for (const row of rows) {
    test(describeRow(row), async () => {
      const before = berth.log.accessLines.length;
      const measured = await load(berth.port, row);
      const summary = summarizeHttpLoad(measured);
      assert.deepEqual(
        { requests: summary.requests, statusCounts: summary.statusCounts, errors: summary.errors },
        { requests: row.requests, statusCounts: row.statusCounts, errors: NO_ERRORS },
        describeRow(row),
      );
      assert.equal(measured.histogram.count, row.requests, "one latency per response");
      // The server's own count: every request it answered was counted once, and no more.
      const seen = (): number => berth.log.accessLines.length - before;
      await pollUntil(() => seen() >= row.requests, 2000);
      assert.equal(seen(), row.requests, `requests berth logged for ${describeRow(row)}`);
      assert.ok(measured.bytesRead > 0 && summary.bytesPerSecond > 0, "bytes counted");
    });
  }
});

type RequestHandler = (socket: Socket, nthOnConnection: number) => void;

/** A server that calls `handle` for each request head (no bodies) as it arrives, on 127.0.0.1
 * and a free port, or on a Unix socket at `path`. */
async function startScriptedServer(
  handle: RequestHandler,
  path?: string,
): Promise<{ server: Server; port: number; requests: () => number }> {
  let requests = 0;
  const server = createServer((socket) => {
    let pending = "";
    let nth = 0;
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      for (let end = pending.indexOf("\r\n\r\n"); end !== -1; end = pending.indexOf("\r\n\r\n")) {
        pending = pending.slice(end + 4);
        requests++;
        if (!socket.destroyed) handle(socket, ++nth);
      }
    });
  });
  if (path !== undefined) {
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { server, port: 0, requests: () => requests };
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, requests: () => requests };
}

const OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

describe("berth bench http: a server that closes", { timeout: 20_000 }, () => {
  test("Connection: close mid-batch: unanswered requests are sent again, none lost", async (t) => {
    // The third response on each connection closes it; the requests pipelined behind it are
    // never answered there.
    const scripted = await startScriptedServer((socket, nth) => {
      if (nth < 3) socket.write(OK);
      else if (nth === 3)
        socket.end("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    });
    t.after(() => scripted.server.close());
    const measured = await load(scripted.port, {
      urls: ["/"],
      connections: 2,
      pipeline: 8,
      requests: 90,
    });
    const summary = summarizeHttpLoad(measured);
    assert.deepEqual(
      { requests: summary.requests, statusCounts: summary.statusCounts, errors: summary.errors },
      { requests: 90, statusCounts: { 200: 90 }, errors: NO_ERRORS },
    );
  });

  test("a close-delimited body ends the response and the connection", async (t) => {
    const scripted = await startScriptedServer((socket) =>
      socket.end("HTTP/1.1 200 OK\r\n\r\nbody until close"),
    );
    t.after(() => scripted.server.close());
    const measured = await load(scripted.port, { urls: ["/"], connections: 2, requests: 20 });
    assert.deepEqual(
      { responses: measured.responses, errors: measured.errors, bytesRead: measured.bytesRead },
      {
        responses: 20,
        errors: NO_ERRORS,
        bytesRead: 20 * "HTTP/1.1 200 OK\r\n\r\nbody until close".length,
      },
    );
  });
});

describe("berth bench http: errors by kind", { timeout: 20_000 }, () => {
  // biome-ignore format: one row per line
  const rows: readonly { readonly name: string; readonly handle: RequestHandler; readonly want: Partial<typeof NO_ERRORS>; readonly timeoutMs?: number }[] = [
    { name: "reset on each request", handle: (socket) => socket.resetAndDestroy(), want: { reset: 6 } },
    { name: "FIN without a response", handle: (socket) => socket.end(), want: { reset: 6 } },
    { name: "garbage instead of a response", handle: (socket) => socket.write("garbage\r\n\r\n"), want: { parse: 6 } },
    { name: "a response cut short", handle: (socket) => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"), want: { parse: 6 } },
    { name: "no response at all", handle: () => {}, want: { timeout: 6 }, timeoutMs: 100 },
  ];
  for (const row of rows) {
    test(`${row.name}: -n 6 counts 6 errors`, async (t) => {
      const scripted = await startScriptedServer(row.handle);
      t.after(() => scripted.server.close());
      const measured = await load(scripted.port, {
        urls: ["/"],
        connections: 2,
        requests: 6,
        ...(row.timeoutMs === undefined ? {} : { timeoutMs: row.timeoutMs }),
      });
      assert.deepEqual(
        { responses: measured.responses, errors: measured.errors },
        { responses: 0, errors: { ...NO_ERRORS, ...row.want } },
        row.name,
      );
    });
  }

  test("nothing listening: every request is a connect error", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    await new Promise((resolve) => probe.close(resolve));
    const measured = await load(address.port, {
      urls: ["/"],
      connections: 3,
      pipeline: 2,
      requests: 7,
    });
    assert.deepEqual(
      { responses: measured.responses, errors: measured.errors },
      { responses: 0, errors: { ...NO_ERRORS, connect: 7 } },
    );
  });
});

describe("berth bench http --rate", { timeout: 20_000 }, () => {
  test("latency counts from the scheduled time: a stall delays the requests behind it", async (t) => {
    // The 3rd response is held 200 ms. At 100 req/s on one connection, the requests due during
    // the stall wait for it; measured from when they were due, most take tens of ms. Measured
    // from their actual send (coordinated omission), they would take well under 1 ms.
    const scripted = await startScriptedServer((socket, nth) => {
      if (nth === 3) setTimeout(() => socket.write(OK), 200);
      else socket.write(OK);
    });
    t.after(() => scripted.server.close());
    const measured = await load(scripted.port, {
      urls: ["/"],
      connections: 1,
      requests: 20,
      ratePerSecond: 100,
    });
    assert.equal(measured.responses, 20);
    const p50Us = measured.histogram.valueAtPercentileUs(50);
    assert.ok(
      p50Us >= 50_000,
      `p50 ${p50Us} µs, want ≥ 50 ms (the stall counted for the requests behind it)`,
    );
    // 20 requests at 100/s: the last is due 190 ms after the start.
    assert.ok(measured.durationMs >= 190, `duration ${measured.durationMs} ms`);
  });
});

describe("berth bench http --unix-socket", { timeout: 20_000 }, () => {
  test("requests go to the socket; the URL gives Host and path", async (t) => {
    const dir = await makeTempDir("berth-bench-unix-");
    t.after(() => removeTempDir(dir));
    const heads: string[] = [];
    const scripted = await startScriptedServer((socket) => socket.write(OK), join(dir, "s.sock"));
    scripted.server.prependListener("connection", (socket: Socket) =>
      socket.on("data", (chunk: Buffer) => heads.push(chunk.toString("latin1"))),
    );
    t.after(() => scripted.server.close());
    const parsed = parseBenchUrls(["http://app.local/x"], join(dir, "s.sock"));
    if (parsed.kind !== "urls") throw new Error(JSON.stringify(parsed));
    const requests = parsed.urls.map((url) =>
      buildRequest(url, { method: "GET", headers: [], close: false }),
    );
    const measured = await runHttpLoad({
      target: parsed.connectTarget,
      rotation: new RequestRotation(requests, 4),
      isHead: false,
      connections: 2,
      pipeline: 4,
      close: false,
      limit: { kind: "requests", count: 40 },
      ratePerSecond: null,
      timeoutMs: 3000,
    });
    assert.deepEqual(
      { responses: measured.responses, errors: measured.errors },
      { responses: 40, errors: NO_ERRORS },
    );
    assert.equal(scripted.requests(), 40);
    assert.ok(heads.join("").startsWith("GET /x HTTP/1.1\r\nHost: app.local\r\n\r\n"), heads[0]);
  });
});
