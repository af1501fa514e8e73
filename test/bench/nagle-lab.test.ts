/**
 * `berth bench nagle` against an in-process `berth echo --framing length` on loopback: with Nagle
 * on, a frame written as header then payload waits for the delayed ACK of the header (~40 ms on
 * Linux) on each round trip; with TCP_NODELAY, or with one write, it does not. The bounds are
 * far apart (≥ 10 ms against < 5 ms) so a loaded machine does not blur them: the stall is a
 * kernel timer, not CPU work.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { runNagleLab } from "../../src/bench/nagle-lab.js";
import { createEchoServer, type EchoServer } from "../../src/toolkit/echo-server.js";
import { createCapturingLogger } from "../helpers/test-server.js";

let echo: EchoServer;
let port = 0;

before(async () => {
  echo = createEchoServer({
    framing: "length",
    listen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: 0 }],
    log: createCapturingLogger(),
  });
  const [address] = await echo.listen();
  if (address?.kind !== "tcp") throw new Error(`echo bound ${JSON.stringify(address)}`);
  port = address.port;
});

after(() => echo?.close());

describe("berth bench nagle", () => {
  test("write-write-read stalls with Nagle on, not with TCP_NODELAY or one write", async () => {
    const result = await runNagleLab({
      host: "127.0.0.1",
      port,
      roundTrips: 20,
      payloadBytes: 64,
      roundTripTimeoutMs: 5000,
    });
    assert.equal(result.kind, "rows", JSON.stringify(result));
    if (result.kind !== "rows") return;
    const table = JSON.stringify(result.rows);
    assert.deepEqual(
      result.rows.map((row) => `${row.mode} ${row.nodelay ? "on" : "off"}`),
      ["write-write-read off", "write-write-read on", "single-write off", "single-write on"],
    );
    const [nagle, nodelay, single, singleNodelay] = result.rows;
    assert.ok((nagle?.p50Ms ?? 0) >= 10, `Nagle on, write-write-read p50 should stall: ${table}`);
    for (const row of [nodelay, single, singleNodelay]) {
      assert.ok(
        (row?.p50Ms ?? 99) < 5,
        `${row?.mode} ${row?.nodelay}: p50 should not stall: ${table}`,
      );
    }
    for (const row of result.rows) {
      assert.ok(row.p50Ms <= row.p99Ms && row.p99Ms <= row.maxMs, `percentiles in order: ${table}`);
    }
  });

  test("a peer that is not a length-framed echo is an error, not a hang", async (t) => {
    // A line echo never answers a frame without a newline.
    const silent = createServer((socket) => socket.on("data", () => {}));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    t.after(() => silent.close());
    const address = silent.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const result = await runNagleLab({
      host: "127.0.0.1",
      port: address.port,
      roundTrips: 3,
      payloadBytes: 8,
      roundTripTimeoutMs: 100,
      cases: [{ mode: "single-write", nodelay: true }],
    });
    assert.deepEqual(result, {
      kind: "error",
      message: `127.0.0.1:${address.port}: no echo within 100 ms (is it berth echo --framing length?)`,
    });
  });

  test("nothing listening: one error line", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    await new Promise((resolve) => probe.close(resolve));
    const result = await runNagleLab({
      host: "127.0.0.1",
      port: address.port,
      roundTrips: 3,
      payloadBytes: 8,
      roundTripTimeoutMs: 1000,
    });
    assert.deepEqual(result, {
      kind: "error",
      message: `Cannot connect to 127.0.0.1:${address.port}: ECONNREFUSED`,
    });
  });
});
