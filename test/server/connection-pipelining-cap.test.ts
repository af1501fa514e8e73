/**
 * --max-pipelined-bytes, tested on the connection state machine itself with a fake socket: the
 * kernel's socket buffers (megabytes on loopback) hide a 64 KiB cap from any real client, so the
 * cap is observed where it acts, in Connection's pause()/resume() calls.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { test } from "node:test";
import { DEFAULT_PARSER_LIMITS } from "../../src/http/request-parser.js";
import { Connection, type ConnectionEnvironment } from "../../src/server/connection.js";
import { SILENT_LOGGER } from "../../src/server/log.js";
import type { ResponsePlan } from "../../src/server/response-plan.js";
import type { PlanCallback } from "../../src/server/static-handler.js";

/** Just what Connection uses of a net.Socket, recording what it is asked to do. */
class FakeSocket extends EventEmitter {
  readonly remoteAddress = "127.0.0.1";
  readonly written: Buffer[] = [];
  paused = false;
  destroyed = false;
  writableNeedDrain = false;
  writableFinished = false;
  setNoDelay(): void {}
  cork(): void {}
  uncork(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(data: Buffer): boolean {
    this.written.push(data);
    return true;
  }
  end(callback?: () => void): void {
    callback?.();
  }
  destroy(): void {
    this.destroyed = true;
    this.emit("close");
  }
}

const OK: ResponsePlan = {
  kind: "bytes",
  status: 204,
  head: "HTTP/1.1 204 No Content\r\n",
  body: null,
};
const REQUEST = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"; // 28 bytes

/** A connection whose first request stays unanswered until `answerFirst` runs; later requests
 * are answered at once. */
function openConnection(maxPipelinedBytes: number) {
  const socket = new FakeSocket();
  let held: PlanCallback | null = null;
  const env: ConnectionEnvironment = {
    handler: (_request, _context, done) => {
      if (held === null && socket.written.length === 0) held = done;
      else done(OK);
    },
    parserLimits: DEFAULT_PARSER_LIMITS,
    timeouts: {
      headerTimeoutMs: 1000,
      keepAliveTimeoutMs: 1000,
      sendTimeoutMs: 1000,
      bodyTimeoutMs: 1000,
    },
    maxPipelinedBytes,
    log: SILENT_LOGGER,
    dateLine: () => "",
    logRecurring: () => {},
    trace: null,
    isShuttingDown: () => false,
    onClosed: () => {},
  };
  new Connection(socket as unknown as Socket, env, Date.now());
  return {
    socket,
    answerFirst: () => (held as PlanCallback | null)?.(OK),
  };
}

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [cap: number, pipelined: number, wantPaused: boolean]> = [
  [1024, 36, false],  // 1008 bytes buffered: under the cap
  [1024, 37, true],   // 1036 bytes: over it
  [4096, 37, false],  // the same backlog under a larger cap
  [64,   3,  true],   // 84 bytes over a tiny cap
];

for (const [cap, pipelined, wantPaused] of rows) {
  test(`maxPipelinedBytes ${cap}, ${pipelined} requests behind one in flight: paused = ${wantPaused}`, () => {
    const { socket, answerFirst } = openConnection(cap);
    socket.emit("data", Buffer.from(REQUEST, "latin1"));
    for (let i = 0; i < pipelined; i++) socket.emit("data", Buffer.from(REQUEST, "latin1"));
    assert.equal(
      socket.paused,
      wantPaused,
      `reading paused with ${pipelined * REQUEST.length} bytes buffered`,
    );
    // The response in flight completes: the backlog is answered in order and reading resumes.
    answerFirst();
    assert.equal(socket.written.length, 1 + pipelined, "every buffered request answered");
    assert.equal(socket.paused, false, "reading resumed once the backlog was answered");
  });
}
