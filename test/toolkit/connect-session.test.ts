/**
 * runStreamSession with in-memory streams whose writes the test completes by hand, so
 * backpressure is observable: a side whose destination is full must be paused (nothing read
 * beyond what is already in flight) and resumed only by the destination's drain, and the session
 * must end only once stdout has taken every byte.
 */
import assert from "node:assert/strict";
import { Duplex, PassThrough, Readable, Writable } from "node:stream";
import { describe, test } from "node:test";
import type { FramingOptions } from "../../src/toolkit/client-framing.js";
import { runStreamSession, type StreamSessionEnd } from "../../src/toolkit/tcp-client.js";

const RAW: FramingOptions = {
  framing: "raw",
  frameType: 1,
  frameFormat: "text",
  maxFrameBytes: 1024,
  maxLineBytes: 1024,
};

/** A writable side with a 16-byte high-water mark whose writes complete only when released. */
class HeldWrites {
  readonly chunks: Buffer[] = [];
  private readonly held: (() => void)[] = [];
  private autoComplete = false;

  write(chunk: Buffer, callback: () => void): void {
    this.chunks.push(chunk);
    if (this.autoComplete) callback();
    else this.held.push(callback);
  }

  /** Completes every held write, and every later one at once. */
  release(): void {
    this.autoComplete = true;
    for (const callback of this.held.splice(0)) callback();
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
}

const HIGH_WATER_BYTES = 16;

function createFakeSocket(peer: HeldWrites): Duplex & { ended: boolean } {
  const socket = new Duplex({
    highWaterMark: HIGH_WATER_BYTES,
    allowHalfOpen: true,
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      peer.write(chunk, () => callback());
    },
    final(callback) {
      (socket as Duplex & { ended: boolean }).ended = true;
      callback();
    },
  });
  return Object.assign(socket, { ended: false });
}

function createHeldOutput(screen: HeldWrites): Writable {
  return new Writable({
    highWaterMark: HIGH_WATER_BYTES,
    write(chunk: Buffer, _encoding, callback) {
      screen.write(chunk, () => callback());
    },
  });
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function track(session: Promise<StreamSessionEnd>): { end: StreamSessionEnd | null } {
  const state: { end: StreamSessionEnd | null } = { end: null };
  session.then((end) => {
    state.end = end;
  });
  return state;
}

describe("runStreamSession backpressure and endings", () => {
  test("stdin is paused while the socket is full, and resumed by its drain", async () => {
    const peer = new HeldWrites();
    const socket = createFakeSocket(peer);
    const input = new PassThrough();
    const session = track(runStreamSession(socket, input, new PassThrough(), RAW));
    input.write(Buffer.alloc(64, "a"));
    await tick();
    assert.equal(input.isPaused(), true, "stdin still flowing into a full socket");
    input.write(Buffer.alloc(64, "b"));
    await tick();
    assert.deepEqual(
      { inSocket: socket.writableLength, leftInStdin: input.readableLength },
      { inSocket: 64, leftInStdin: 64 },
      "a second chunk was read from stdin while the socket was full",
    );
    peer.release();
    await tick();
    assert.equal(input.isPaused(), false, "stdin not resumed after the socket drained");
    assert.equal(peer.text, `${"a".repeat(64)}${"b".repeat(64)}`);
    input.end();
    await tick();
    assert.equal(socket.ended, true, "stdin EOF did not half-close the socket");
    assert.equal(session.end, null, "the session ended on stdin EOF; it must wait for the peer");
    socket.push(null);
    await tick();
    assert.deepEqual(session.end, { kind: "peer-closed" });
  });

  test("the socket is paused while stdout is full, and resumed by its drain", async () => {
    const screen = new HeldWrites();
    const socket = createFakeSocket(new HeldWrites());
    const output = createHeldOutput(screen);
    const session = track(runStreamSession(socket, new PassThrough(), output, RAW));
    socket.push(Buffer.alloc(64, "x"));
    await tick();
    assert.equal(socket.isPaused(), true, "the socket is still read into a full stdout");
    socket.push(Buffer.alloc(64, "y"));
    await tick();
    assert.deepEqual(
      { inStdout: output.writableLength, leftInSocket: socket.readableLength },
      { inStdout: 64, leftInSocket: 64 },
      "a second chunk was read from the socket while stdout was full",
    );
    screen.release();
    await tick();
    assert.equal(socket.isPaused(), false, "the socket not resumed after stdout drained");
    assert.equal(screen.text, `${"x".repeat(64)}${"y".repeat(64)}`);
    assert.equal(session.end, null);
  });

  test("the peer's close ends the session only once stdout has taken every byte", async () => {
    const screen = new HeldWrites();
    const socket = createFakeSocket(new HeldWrites());
    const session = track(
      runStreamSession(socket, new PassThrough(), createHeldOutput(screen), RAW),
    );
    socket.push(Buffer.from("last words"));
    socket.push(null);
    await tick();
    assert.equal(session.end, null, "ended before stdout took the last bytes");
    screen.release();
    await tick();
    assert.deepEqual(session.end, { kind: "peer-closed" });
    assert.equal(screen.text, "last words");
  });

  test("a reset after data: the data is printed, then socket-error", async () => {
    const screen = new HeldWrites();
    screen.release();
    const socket = createFakeSocket(new HeldWrites());
    const session = track(
      runStreamSession(socket, new PassThrough(), createHeldOutput(screen), RAW),
    );
    socket.push(Buffer.from("partial"));
    await tick();
    socket.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    await tick();
    assert.deepEqual(session.end, { kind: "socket-error", reason: "connection reset by peer" });
    assert.equal(screen.text, "partial");
  });

  test("stdout closed (EPIPE): output-closed, the socket is destroyed", async () => {
    const socket = createFakeSocket(new HeldWrites());
    const output = new PassThrough();
    const session = track(runStreamSession(socket, new PassThrough(), output, RAW));
    output.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await tick();
    assert.deepEqual(session.end, { kind: "output-closed" });
    assert.equal(socket.destroyed, true);
  });

  test("a stdin read error ends the session", async () => {
    const socket = createFakeSocket(new HeldWrites());
    const input = new Readable({ read() {} });
    const session = track(runStreamSession(socket, input, new PassThrough(), RAW));
    input.destroy(Object.assign(new Error("read EIO"), { code: "EIO" }));
    await tick();
    assert.deepEqual(session.end, { kind: "input-error", reason: "EIO" });
  });
});
