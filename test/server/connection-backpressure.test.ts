/**
 * The send timeout must run whenever a client's answers back up, whichever call found the socket
 * full. With a corked pipelined batch that is the uncork: every write() inside it returned true
 * (HandleStream queues corked bytes; net.Socket below its high-water mark), and only the flush
 * meets the full kernel buffer. A socket double that behaves exactly so makes the case
 * deterministic; the raw-socket tests in timeouts.test.ts reach it only under load.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_PARSER_LIMITS } from "../../src/http/request-parser.js";
import {
  Connection,
  type ConnectionEnvironment,
  type ConnectionSocket,
} from "../../src/server/connection.js";
import { planError } from "../../src/server/static-handler.js";

const SEND_TIMEOUT_MS = 1_000;
const KEEPALIVE_TIMEOUT_MS = 60_000;

/** A socket whose peer reads nothing: corked writes are accepted, anything else (and the flush
 * at uncork) finds the kernel buffer full. */
class FullSocketDouble implements ConnectionSocket {
  destroyed = false;
  writableNeedDrain = false;
  writableFinished = false;
  writableLength = 0;
  readonly remoteAddress = "192.0.2.1";
  readonly remoteFamily = "IPv4";
  readonly remotePort = 4321;
  dataListener: ((chunk: Buffer) => void) | null = null;
  writes = 0;
  private corks = 0;

  on(event: string, listener: (...args: never[]) => void): this {
    if (event === "data") this.dataListener = listener as (chunk: Buffer) => void;
    return this;
  }
  once(): this {
    return this;
  }
  write(data: Buffer): boolean {
    this.writes++;
    this.writableLength += data.length;
    if (this.corks > 0) return true; // queued below the high-water mark
    this.writableNeedDrain = true;
    return false;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    if (this.corks === 0) return;
    this.corks--;
    // The flush: the peer reads nothing, so the kernel takes none of it.
    if (this.corks === 0 && this.writableLength > 0) this.writableNeedDrain = true;
  }
  end(): this {
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
}

function environment(): ConnectionEnvironment {
  return {
    // Every request is answered at once with a small, complete response.
    handler: (request, context, done) => done(planError(404, request.method === "HEAD", context)),
    parserLimits: DEFAULT_PARSER_LIMITS,
    timeouts: {
      headerTimeoutMs: 10_000,
      keepAliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
      sendTimeoutMs: SEND_TIMEOUT_MS,
      bodyTimeoutMs: 10_000,
    },
    maxPipelinedBytes: 64 * 1024,
    log: { access: () => {}, error: () => {}, request: null },
    dateLine: () => "Date: Sat, 21 Nov 2026 12:00:00 GMT\r\n",
    logRecurring: () => {},
    trace: null,
    isShuttingDown: () => false,
    onClosed: () => {},
  };
}

const REQUEST = "GET /a HTTP/1.1\r\nHost: t\r\n\r\n";

for (const { name, chunks } of [
  // The whole batch in one read: it is answered corked, and the uncork finds the socket full.
  { name: "one read of 3 pipelined requests", chunks: [REQUEST.repeat(3)] },
  // More requests arrive after the backed-up batch: they are not read, and not answered.
  { name: "a batch, then more requests", chunks: [REQUEST.repeat(3), REQUEST.repeat(2)] },
]) {
  test(`${name}: a client that reads no answers is dropped after the send timeout`, () => {
    const socket = new FullSocketDouble();
    const startMs = Date.now();
    const connection = new Connection(socket, environment(), startMs);
    for (const chunk of chunks) socket.dataListener?.(Buffer.from(chunk, "latin1"));
    assert.ok(socket.writes >= 3, `answers written: ${socket.writes}`);
    assert.equal(socket.writableNeedDrain, true, "the double's buffer is full");
    // Not before the send timeout...
    connection.checkDeadline(Date.now() + SEND_TIMEOUT_MS - 100);
    assert.equal(socket.destroyed, false, "dropped before the send timeout");
    // ...and at it, not only at the (much longer) keep-alive timeout.
    connection.checkDeadline(Date.now() + SEND_TIMEOUT_MS + 300);
    assert.equal(socket.destroyed, true, "still connected after the send timeout");
  });
}
