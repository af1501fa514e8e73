import type { Server } from "node:net";
import { getDefaultHighWaterMark } from "node:stream";
import { getSystemErrorName } from "node:util";

/**
 * A connection driven through libuv's stream handle directly: the TCP (or pipe) handle object
 * that net.Socket itself wraps, without net.Socket's Readable/Writable machinery around it.
 *
 * Why: measured on one core, a net.Socket costs most of what a short connection costs in
 * JavaScript. Its constructor builds two stream states and their buffers, every read goes
 * through Readable.push and an event, every write through Writable's queue and callbacks, and
 * closing walks both streams' end/finish/destroy paths. A bare node:net loop answering
 * `Connection: close` requests spends ~120 µs of CPU per connection here; the same loop on the
 * handle ~55 µs (nginx: ~55 µs). Keep-alive requests gain less (~1–3 µs of ~12–15), because
 * there the kernel's loopback send dominates.
 *
 * What it relies on: `process.binding("stream_wrap")` (WriteWrap, ShutdownWrap and the shared
 * stream state array) and a listening net.Server's `_handle.onconnection`. Both are how
 * lib/net.js itself talks to libuv, unchanged from Node 20 to 26, but neither is public API
 * (process.binding is deprecated, DEP0111, documentation-only). So everything is feature-detected
 * once ({@link streamBindings}); where anything is missing or different, berth uses net.Socket,
 * which the caller can also ask for (--socket-api net). Node's permission model denies
 * process.binding: that is detected the same way.
 *
 * The surface is the part of net.Socket that Connection uses (ConnectionSocket), with the same
 * semantics: allowHalfOpen (the peer's FIN is reported, never acted on), write() reports
 * backpressure and a later "drain", cork()/uncork() batch writes into one writev, end() sends
 * FIN after every queued byte, errors are reported once and followed by "close", and every
 * event is emitted from the event loop, never from inside the call that caused it.
 * Deliberately not copied: net.Socket closes itself once both sides have ended, HandleStream
 * waits for destroy() (Connection always calls it); a write after end() returns false quietly
 * instead of raising an error event (Connection never writes after end()).
 */
export interface StreamHandle {
  /** arrayBuffer: the bytes read, or undefined when reading into a user buffer. */
  onread: ((arrayBuffer: ArrayBuffer | undefined) => void) | null;
  readStart(): number;
  readStop(): number;
  /** Reads go into this buffer instead of a fresh allocation per read. */
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(request: WriteRequest, data: Uint8Array): number;
  writev(request: WriteRequest, chunks: Uint8Array[], allBuffers: true): number;
  shutdown(request: ShutdownRequest): number;
  close(callback: () => void): void;
  /** Bytes libuv holds that the kernel has not taken yet. */
  readonly writeQueueSize: number;
  /** TCP handles only (pipes have neither). */
  setNoDelay?(on: boolean): number;
  getpeername?(out: PeerName): number;
}

interface PeerName {
  address?: string;
  family?: string | number;
  port?: number;
}

/** The request objects libuv reports completions on; `oncomplete` is called with the request
 * as `this`. The other fields are ours (Node sets the same names on its own requests). */
interface WriteRequest {
  handle: StreamHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  async: boolean;
  stream: HandleStream | null;
  /** Keeps the bytes alive while libuv still points at them. */
  buffer: Buffer | Buffer[] | null;
}

interface ShutdownRequest {
  handle: StreamHandle;
  oncomplete: (this: ShutdownRequest, status: number) => void;
  stream: HandleStream | null;
}

interface StreamBindings {
  readonly WriteWrap: new () => WriteRequest;
  readonly ShutdownWrap: new () => ShutdownRequest;
  /** Written by every read and write: nread, the read's offset, and whether a write queued. */
  readonly state: Int32Array;
  readonly kReadBytesOrError: number;
  readonly kArrayBufferOffset: number;
  readonly kLastWriteWasAsync: number;
}

/** libuv's end-of-stream read result (a negative errno-style code). */
const UV_EOF = -4095;

/** Queued bytes past which write() asks the caller to wait for "drain": net.Socket's default
 * highWaterMark, so both socket layers push back at the same point. Read from Node, not
 * written down: it is 16 KiB on Node 20 and 64 KiB from Node 22 on. */
export const WRITE_HIGH_WATER_BYTES = getDefaultHighWaterMark(false);

let bindings: StreamBindings | null | undefined;

/** The internals this module needs, or null when this Node does not expose them as expected. */
export function streamBindings(): StreamBindings | null {
  if (bindings === undefined) bindings = loadStreamBindings();
  return bindings;
}

function loadStreamBindings(): StreamBindings | null {
  const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
  if (typeof binding !== "function") return null;
  let wrap: Record<string, unknown>;
  try {
    wrap = binding.call(process, "stream_wrap") as Record<string, unknown>;
  } catch {
    return null; // removed, or denied by the permission model
  }
  const { WriteWrap, ShutdownWrap, streamBaseState } = wrap;
  const indices = [wrap.kReadBytesOrError, wrap.kArrayBufferOffset, wrap.kLastWriteWasAsync];
  if (
    typeof WriteWrap !== "function" ||
    typeof ShutdownWrap !== "function" ||
    !(streamBaseState instanceof Int32Array) ||
    !indices.every((index) => Number.isInteger(index)) ||
    getSystemErrorName(UV_EOF) !== "EOF"
  ) {
    return null;
  }
  return {
    WriteWrap: WriteWrap as StreamBindings["WriteWrap"],
    ShutdownWrap: ShutdownWrap as StreamBindings["ShutdownWrap"],
    state: streamBaseState,
    kReadBytesOrError: wrap.kReadBytesOrError as number,
    kArrayBufferOffset: wrap.kArrayBufferOffset as number,
    kLastWriteWasAsync: wrap.kLastWriteWasAsync as number,
  };
}

interface ListeningHandle {
  onconnection: (this: ListeningHandle, status: number, client?: StreamHandle) => void;
}

/**
 * Takes over a listening net.Server's accepts: each new connection's handle goes to onHandle
 * instead of becoming a net.Socket. Accept errors still go through net (the server's "error"
 * event). Returns false, changing nothing, when this Node lacks what HandleStream needs; the
 * server then keeps making net.Sockets.
 */
export function acceptHandlesDirectly(
  server: Server,
  onHandle: (handle: StreamHandle) => void,
): boolean {
  if (streamBindings() === null) return false;
  const listener = (server as unknown as { _handle?: Partial<ListeningHandle> | null })._handle;
  const netOnConnection = listener?.onconnection;
  if (listener === null || listener === undefined || typeof netOnConnection !== "function") {
    return false;
  }
  listener.onconnection = function onConnection(status, client) {
    if (status < 0 || client === undefined || typeof client.writeBuffer !== "function") {
      netOnConnection.call(this, status, client);
      return;
    }
    onHandle(client);
  };
  return true;
}

type Listener<A extends unknown[]> = ((...args: A) => void) | null;

export class HandleStream {
  /** destroy() was called (or an error destroyed it); "close" follows. */
  destroyed = false;
  /** end() finished: every byte was handed to the kernel and our FIN sent. */
  writableFinished = false;
  /** A write() returned false; "drain" is due once everything queued is written. */
  writableNeedDrain = false;
  private readonly b: StreamBindings;
  private peer: PeerName | null = null;
  private ended = false;
  private peerEnded = false;
  private paused = false;
  private corks = 0;
  private corked: Buffer[] = [];
  private corkedBytes = 0;
  private writesInFlight = 0;
  /** A write request whose last use completed at once, reused by the next write. */
  private spareRequest: WriteRequest | null = null;
  private finishCallbacks: (() => void)[] | null = null;
  private onData: Listener<[Buffer]> = null;
  private onEnd: Listener<[]> = null;
  private onDrain: Listener<[]> = null;
  private onError: Listener<[NodeJS.ErrnoException]> = null;
  private onClose: Listener<[]> = null;

  /** The shared read buffer, or null: each read gets a buffer of its own. */
  private readonly readInto: Buffer | null;

  /**
   * readInto: read into this buffer (shared by any number of streams) instead of a fresh
   * allocation per read. Node otherwise allocates 64 KiB for every read and shrinks it to what
   * arrived; measured on a small keep-alive request, ~2.5 µs of ~13. The catch: a "data" chunk
   * is then a view of that buffer, valid only until the listener returns, so the listener must
   * copy whatever it keeps (Connection's parser does: RequestParser.ownInput).
   */
  constructor(
    private readonly handle: StreamHandle,
    readInto: Buffer | null = null,
  ) {
    const found = streamBindings();
    if (found === null) throw new Error("HandleStream needs stream bindings (check first)");
    this.b = found;
    this.readInto =
      readInto !== null && typeof handle.useUserBuffer === "function" ? readInto : null;
    if (this.readInto !== null) handle.useUserBuffer(this.readInto);
    handle.onread = (arrayBuffer) => this.onRead(arrayBuffer);
    handle.readStart();
  }

  /** True when "data" chunks are views of a shared buffer, valid only during the listener. */
  get chunksAreTransient(): boolean {
    return this.readInto !== null;
  }

  /** One listener per event, unlike an EventEmitter: a second on() replaces the first (its one
   * user, Connection, registers each event once; a plain field call is cheaper than emit()). */
  on(event: "data", listener: (chunk: Buffer) => void): this;
  on(event: "end" | "drain" | "close", listener: () => void): this;
  on(event: "error", listener: (error: NodeJS.ErrnoException) => void): this;
  on(event: string, listener: (...args: never[]) => void): this {
    switch (event) {
      case "data":
        this.onData = listener as (chunk: Buffer) => void;
        break;
      case "end":
        this.onEnd = listener as () => void;
        break;
      case "drain":
        this.onDrain = listener as () => void;
        break;
      case "error":
        this.onError = listener as (error: NodeJS.ErrnoException) => void;
        break;
      case "close":
        this.onClose = listener as () => void;
        break;
      default:
        throw new Error(`HandleStream has no "${event}" event`);
    }
    return this;
  }

  /** Only "finish" (end() completed), the one one-shot event Connection waits for. */
  once(event: "finish", listener: () => void): this {
    if (event !== "finish") throw new Error(`HandleStream has no one-shot "${event}" event`);
    if (this.writableFinished) {
      process.nextTick(listener);
    } else {
      this.finishCallbacks ??= [];
      this.finishCallbacks.push(listener);
    }
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.peerName().address;
  }

  get remoteFamily(): string | undefined {
    const family = this.peerName().family;
    if (family === undefined) return undefined;
    // Older Nodes reported the family as a number.
    return family === 6 || family === "IPv6" ? "IPv6" : "IPv4";
  }

  get remotePort(): number | undefined {
    return this.peerName().port;
  }

  /** Bytes accepted by write() that the kernel has not taken yet. */
  get writableLength(): number {
    return this.corkedBytes + (this.destroyed ? 0 : this.handle.writeQueueSize);
  }

  setNoDelay(on: boolean): this {
    this.handle.setNoDelay?.(on);
    return this;
  }

  pause(): this {
    if (!this.paused) {
      this.paused = true;
      if (!this.peerEnded && !this.destroyed) this.handle.readStop();
    }
    return this;
  }

  resume(): this {
    if (this.paused) {
      this.paused = false;
      // After EOF libuv has stopped reading; starting again would only report EOF again.
      if (!this.peerEnded && !this.destroyed) this.handle.readStart();
    }
    return this;
  }

  /** Queues (corked) or writes data; false means wait for "drain" before writing more. */
  write(data: Buffer): boolean {
    if (this.destroyed || this.ended) return false;
    if (this.corks > 0) {
      this.corked.push(data);
      this.corkedBytes += data.length;
      if (this.writableLength < WRITE_HIGH_WATER_BYTES) return true;
      this.writableNeedDrain = true;
      return false;
    }
    return this.send(data);
  }

  cork(): void {
    this.corks++;
  }

  uncork(): void {
    if (this.corks === 0) return;
    this.corks--;
    if (this.corks === 0) this.flushCorked();
  }

  /** Sends FIN after every byte already written (libuv queues the shutdown behind them);
   * callback: once that is done. Reading goes on (half-close). */
  end(callback?: () => void): this {
    if (callback !== undefined) this.once("finish", callback);
    if (this.ended || this.destroyed) return this;
    this.ended = true;
    this.corks = 0;
    this.flushCorked();
    if (this.destroyed) return this; // the flush failed
    const request = new this.b.ShutdownWrap();
    request.handle = this.handle;
    request.oncomplete = onShutdownComplete;
    request.stream = this;
    const status = this.handle.shutdown(request);
    if (status !== 0) this.fail(status, "shutdown");
    return this;
  }

  /** Closes the handle at once; pending writes are dropped; "close" follows from the loop. */
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.corked = [];
    this.corkedBytes = 0;
    this.handle.close(() => this.onClose?.());
    return this;
  }

  /** @internal libuv finished an asynchronous write. */
  afterWrite(request: WriteRequest, status: number): void {
    this.writesInFlight--;
    request.buffer = null;
    if (this.destroyed) return; // cancelled by close
    if (status < 0) {
      this.fail(status, "write");
      return;
    }
    if (this.spareRequest === null) {
      request.stream = null;
      this.spareRequest = request;
    }
    this.drainIfDue();
  }

  /** @internal libuv sent our FIN (or failed to). */
  afterShutdown(status: number): void {
    if (this.destroyed) return;
    // ENOTCONN: the peer reset first; the read side reports that (or close does).
    if (status < 0 && getSystemErrorName(status) !== "ENOTCONN") {
      this.fail(status, "shutdown");
      return;
    }
    this.writableFinished = true;
    const callbacks = this.finishCallbacks;
    this.finishCallbacks = null;
    if (callbacks !== null) for (const callback of callbacks) callback();
  }

  private flushCorked(): void {
    const chunks = this.corked;
    if (chunks.length === 0) return;
    this.corked = [];
    this.corkedBytes = 0;
    const needDrain = this.writableNeedDrain;
    const flushed = chunks.length === 1 ? this.send(chunks[0] as Buffer) : this.send(chunks);
    if (flushed && needDrain && !this.destroyed) {
      // Everything went out at once: the drain the caller waits for is due now, but from the
      // loop, as net.Socket does, never inside the caller's uncork().
      process.nextTick(() => this.drainIfDue());
    }
  }

  /** "drain", once a write() said to wait and nothing is queued any more (no write in flight,
   * nothing corked). The one place both completions (libuv's, and a flush that went out at
   * once) decide it. */
  private drainIfDue(): void {
    if (this.destroyed || !this.writableNeedDrain) return;
    if (this.writesInFlight > 0 || this.corkedBytes > 0) return;
    this.writableNeedDrain = false;
    this.onDrain?.();
  }

  /** Hands data to libuv, which writes what the kernel takes now and queues the rest. */
  private send(data: Buffer | Buffer[]): boolean {
    const b = this.b;
    let request = this.spareRequest;
    if (request === null) {
      request = new b.WriteWrap();
      request.handle = this.handle;
      request.oncomplete = onWriteComplete;
      request.async = false;
      request.stream = null;
      request.buffer = null;
    } else {
      this.spareRequest = null;
    }
    const status = Array.isArray(data)
      ? this.handle.writev(request, data, true)
      : this.handle.writeBuffer(request, data);
    if (status !== 0) {
      this.fail(status, "write");
      return false;
    }
    if (b.state[b.kLastWriteWasAsync] === 0) {
      this.spareRequest = request; // done at once: libuv holds nothing of it
      return true;
    }
    request.stream = this;
    request.buffer = data;
    this.writesInFlight++;
    this.writableNeedDrain = true;
    return false;
  }

  private onRead(arrayBuffer: ArrayBuffer | undefined): void {
    const b = this.b;
    const nread = b.state[b.kReadBytesOrError] as number;
    if (nread > 0) {
      const readInto = this.readInto;
      this.onData?.(
        readInto !== null
          ? readInto.subarray(0, nread)
          : Buffer.from(arrayBuffer as ArrayBuffer, b.state[b.kArrayBufferOffset], nread),
      );
      return;
    }
    if (nread === 0 || this.destroyed) return;
    if (nread === UV_EOF) {
      this.peerEnded = true;
      this.onEnd?.();
      return;
    }
    this.fail(nread, "read");
  }

  /** A libuv error: reported once (from the loop), then the handle is closed. */
  private fail(status: number, syscall: string): void {
    if (this.destroyed) return;
    const code = getSystemErrorName(status);
    const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
    error.code = code;
    error.errno = status;
    error.syscall = syscall;
    this.destroy();
    process.nextTick(() => this.onError?.(error));
  }

  private peerName(): PeerName {
    if (this.peer === null) {
      const out: PeerName = {};
      if (this.destroyed || this.handle.getpeername?.(out) !== 0) {
        // A pipe, or the peer already left: what net.Socket reports then.
        this.peer = {};
        return this.peer;
      }
      this.peer = out;
    }
    return this.peer;
  }
}

function onWriteComplete(this: WriteRequest, status: number): void {
  this.stream?.afterWrite(this, status);
}

function onShutdownComplete(this: ShutdownRequest, status: number): void {
  const stream = this.stream;
  this.stream = null;
  stream?.afterShutdown(status);
}
