/**
 * One contract, two socket layers. Every row below runs against HandleStream (libuv's stream
 * handle, taken from a listening net.Server by acceptHandlesDirectly) and against the net.Socket
 * a net.Server({ allowHalfOpen: true }) makes, so the suite shows that the two agree on the
 * ConnectionSocket surface Connection relies on (src/server/connection.ts). The client is always
 * a plain net.connect socket.
 *
 * TCP may split or coalesce any write, so bytes are compared concatenated, never per chunk, and
 * completion is judged by end-of-stream or by a byte count, never by a number of events. Every
 * call the test makes on the server socket goes through ServerEnd, which marks it: an event
 * emitted from inside the call that caused it (a "drain" inside uncork(), a "close" inside
 * destroy(), an "error" inside write()) fails the row, whatever the row is about.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { getDefaultHighWaterMark } from "node:stream";
import { after, before, describe, type TestContext, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { acceptHandlesDirectly, HandleStream } from "../../src/net/handle-stream.js";
import type { ConnectionSocket } from "../../src/server/connection.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import { pollUntil } from "../helpers/test-server.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Bound on every wait for something that must happen: generous for a loaded 2-core CI box. */
const WAIT_MS = 5000;
/** How long "nothing arrives" is watched for (paused reading, held cork). */
const QUIET_MS = 200;
/** After the last expected event, how long to watch for a duplicate one. */
const SETTLE_MS = 50;

type Target = "ipv4" | "ipv6" | "unix";

/** A way of turning accepted connections into ConnectionSockets. */
interface SocketLayer {
  readonly name: string;
  /** A listening server on `target`; each accepted connection reaches onSocket synchronously
   * inside the accept, so no event can happen before the test listens. */
  listen(target: Target, onSocket: (socket: ConnectionSocket) => void): Promise<Server>;
}

/** HandleStream, reading into a buffer of each read's own or into one shared by every stream
 * (as berth serve does): then a "data" chunk is valid only inside the listener, which copies it. */
function handleStreamLayer(name: string, readInto: Buffer | null): SocketLayer {
  return {
    name,
    async listen(target, onSocket) {
      const server = createServer({ allowHalfOpen: true }, (socket) => {
        // acceptHandlesDirectly took the accepts over: net must never make a socket here.
        socket.destroy();
        onSocket(netPathRan);
      });
      await listenOn(server, target);
      const tookOver = acceptHandlesDirectly(server, (handle) => {
        const stream = new HandleStream(handle, readInto);
        if (stream.chunksAreTransient !== (readInto !== null)) {
          assert.fail(
            `chunksAreTransient = ${stream.chunksAreTransient} with readInto ${readInto}`,
          );
        }
        const socket: ConnectionSocket = stream;
        onSocket(socket);
      });
      if (!tookOver) {
        server.close();
        assert.fail(
          `acceptHandlesDirectly(server) = false on Node ${process.version}: HandleStream is not usable here`,
        );
      }
      return server;
    },
  };
}

const LAYERS: readonly SocketLayer[] = [
  handleStreamLayer("HandleStream", null),
  handleStreamLayer("HandleStream, shared read buffer", Buffer.alloc(64 * 1024)),
  {
    name: "net.Socket",
    async listen(target, onSocket) {
      const server = createServer({ allowHalfOpen: true }, (socket) => {
        const connectionSocket: ConnectionSocket = socket;
        onSocket(connectionSocket);
      });
      await listenOn(server, target);
      return server;
    },
  },
];

/** Stands for "net.Server made a net.Socket although HandleStream should have had the accept". */
const netPathRan = { netPathRan: true } as unknown as ConnectionSocket;

let unixDir = "";
let unixCount = 0;

function listenOn(server: Server, target: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const listening = (): void => {
      server.off("error", reject);
      resolve();
    };
    switch (target) {
      case "ipv4":
        server.listen(0, "127.0.0.1", listening);
        break;
      case "ipv6":
        server.listen(0, "::1", listening);
        break;
      case "unix":
        unixCount++;
        server.listen(join(unixDir, `s${unixCount}.sock`), listening);
        break;
    }
  });
}

type EventKind = "data" | "end" | "drain" | "error" | "close" | "finish" | "end callback";

interface Recorded {
  readonly kind: EventKind;
  /** The ServerEnd call in progress when the event came, or null (from the event loop). */
  readonly insideCall: string | null;
  readonly error?: NodeJS.ErrnoException;
  /** writableNeedDrain as the listener saw it (for "drain"). */
  readonly needDrain?: boolean;
}

/** The server side of a pair: every event in order, and every call marked while it runs. */
class ServerEnd {
  readonly events: Recorded[] = [];
  receivedBytes = 0;
  private readonly chunks: Buffer[] = [];
  private readonly problems: string[] = [];
  private callInProgress: string | null = null;

  // One listener per event: HandleStream keeps a single listener per event name.
  constructor(readonly socket: ConnectionSocket) {
    socket.on("data", (chunk) => {
      if (!Buffer.isBuffer(chunk)) this.problems.push(`"data" gave a ${typeof chunk}`);
      // A shared read buffer's chunk is reused by the next read: keep a copy.
      const transient = socket instanceof HandleStream && socket.chunksAreTransient;
      this.chunks.push(transient ? Buffer.from(chunk) : chunk);
      this.receivedBytes += chunk.length;
      this.record("data");
    });
    socket.on("end", () => this.record("end"));
    socket.on("drain", () => this.record("drain", { needDrain: socket.writableNeedDrain }));
    socket.on("error", (error) => this.record("error", { error }));
    socket.on("close", () => this.record("close"));
    socket.once("finish", () => this.record("finish"));
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  count(kind: EventKind): number {
    return this.events.filter((event) => event.kind === kind).length;
  }

  errors(): NodeJS.ErrnoException[] {
    return this.events.flatMap((event) => (event.error === undefined ? [] : [event.error]));
  }

  /** The event sequence, runs of "data" collapsed: `data×12 end finish close`. */
  describe(): string {
    const words: string[] = [];
    let dataRun = 0;
    const flush = (): void => {
      if (dataRun > 0) words.push(`data×${dataRun}`);
      dataRun = 0;
    };
    for (const event of this.events) {
      if (event.kind === "data") {
        dataRun++;
        continue;
      }
      flush();
      words.push(event.error === undefined ? event.kind : `error(${event.error.code})`);
    }
    flush();
    return `[${words.join(" ")}]`;
  }

  write(data: Buffer): boolean {
    return this.during(`write(${data.length} bytes)`, () => this.socket.write(data));
  }

  cork(): void {
    this.during("cork()", () => this.socket.cork());
  }

  uncork(): void {
    this.during("uncork()", () => this.socket.uncork());
  }

  end(callback?: () => void): void {
    if (callback === undefined) {
      this.during("end()", () => this.socket.end());
      return;
    }
    this.during("end(cb)", () =>
      this.socket.end(() => {
        this.record("end callback");
        callback();
      }),
    );
  }

  destroy(): void {
    this.during("destroy()", () => this.socket.destroy());
  }

  pause(): void {
    this.during("pause()", () => this.socket.pause());
  }

  resume(): void {
    this.during("resume()", () => this.socket.resume());
  }

  setNoDelay(on: boolean): unknown {
    return this.during(`setNoDelay(${on})`, () => this.socket.setNoDelay(on));
  }

  /** What every row must also satisfy: events from the loop only, "close" once and last,
   * "error" at most once and before "close", "end" and "finish" at most once. */
  assertCoherent(): void {
    const problems = [...this.problems];
    for (const event of this.events) {
      if (event.insideCall !== null) {
        problems.push(`"${event.kind}" was emitted synchronously inside ${event.insideCall}`);
      }
    }
    for (const kind of ["close", "error", "end", "finish", "end callback"] as const) {
      if (this.count(kind) > 1) problems.push(`"${kind}" came ${this.count(kind)} times`);
    }
    const closeAt = this.events.findIndex((event) => event.kind === "close");
    if (closeAt !== -1 && closeAt !== this.events.length - 1) {
      problems.push(`events came after "close"`);
    }
    const errorAt = this.events.findIndex((event) => event.kind === "error");
    if (errorAt !== -1 && closeAt !== -1 && errorAt > closeAt) {
      problems.push(`"error" came after "close"`);
    }
    assert.deepEqual(problems, [], `server events ${this.describe()}`);
  }

  private during<T>(call: string, run: () => T): T {
    this.callInProgress = call;
    try {
      return run();
    } finally {
      this.callInProgress = null;
    }
  }

  private record(kind: EventKind, extra: Partial<Recorded> = {}): void {
    this.events.push({ kind, insideCall: this.callInProgress, ...extra });
  }
}

/** The plain net.connect client. */
class ClientEnd {
  connected = false;
  ended = false;
  closed = false;
  receivedBytes = 0;
  readonly errors: NodeJS.ErrnoException[] = [];
  private readonly chunks: Buffer[] = [];

  constructor(readonly socket: Socket) {
    socket.on("connect", () => {
      this.connected = true;
    });
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.receivedBytes += chunk.length;
    });
    socket.on("end", () => {
      this.ended = true;
    });
    socket.on("error", (error: NodeJS.ErrnoException) => this.errors.push(error));
    socket.on("close", () => {
      this.closed = true;
    });
  }

  received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  describe(): string {
    const state = [this.ended ? "ended" : "", this.closed ? "closed" : ""].filter(Boolean);
    const errors = this.errors.map((error) => error.code ?? error.message);
    return `client got ${this.receivedBytes} bytes ${[...state, ...errors].join(" ")}`.trim();
  }
}

interface Pair {
  readonly server: ServerEnd;
  readonly client: ClientEnd;
  readonly target: Target;
}

/** Fails with `what` unless condition() holds within timeoutMs. */
async function waitUntil(
  condition: () => boolean,
  what: () => string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  if (!(await pollUntil(condition, timeoutMs))) {
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what()}`);
  }
}

/** True when condition() turns true within quietMs (it should not). */
function happensWithin(condition: () => boolean, quietMs = QUIET_MS): Promise<boolean> {
  return pollUntil(condition, quietMs);
}

function assertSameBytes(got: Buffer, want: Buffer, what: string): void {
  if (got.equals(want)) return;
  let at = 0;
  while (at < got.length && at < want.length && got[at] === want[at]) at++;
  assert.fail(`${what}: got ${got.length} bytes, want ${want.length}; first difference at ${at}`);
}

/** Runs `body` on a fresh connection: `layer`'s server socket and a net.connect client. */
async function withPair(
  layer: SocketLayer,
  target: Target,
  body: (pair: Pair) => Promise<void>,
): Promise<void> {
  const accepted: ServerEnd[] = [];
  let netSockets = 0;
  const server = await layer.listen(target, (socket) => {
    if (socket === netPathRan) netSockets++;
    else accepted.push(new ServerEnd(socket));
  });
  const address = server.address();
  assert.ok(address !== null, "the server has an address");
  const client = new ClientEnd(
    typeof address === "string"
      ? connect({ path: address, allowHalfOpen: true })
      : connect({ host: address.address, port: address.port, allowHalfOpen: true }),
  );
  let completed = false;
  try {
    await waitUntil(
      () => client.connected && accepted.length + netSockets > 0,
      () => `the connection (${client.describe()}, ${accepted.length} accepted)`,
    );
    assert.equal(netSockets, 0, `${layer.name}: the accept went to net.Socket instead`);
    assert.equal(accepted.length, 1, "one connection, one server socket");
    await body({ server: accepted[0] as ServerEnd, client, target });
    completed = true;
  } finally {
    client.socket.destroy();
    for (const end of accepted) end.destroy();
    await Promise.all([
      new Promise<void>((resolve) => server.close(() => resolve())),
      pollUntil(() => accepted.every((end) => end.count("close") > 0), WAIT_MS),
    ]);
  }
  if (completed) {
    for (const end of accepted) {
      assert.equal(end.count("close"), 1, `"close" after destroy(): ${end.describe()}`);
      end.assertCoherent();
    }
  }
}

/** Writes `pieces` honoring backpressure: after write() = false, waits for "drain" first.
 * Returns how many writes returned false. */
async function writeHonoringDrain(server: ServerEnd, pieces: readonly Buffer[]): Promise<number> {
  let pushbacks = 0;
  for (const piece of pieces) {
    const drainsBefore = server.count("drain");
    if (server.write(piece)) continue;
    pushbacks++;
    await waitUntil(
      () => server.count("drain") > drainsBefore,
      () => `"drain" after write() = false (${server.describe()})`,
    );
  }
  return pushbacks;
}

/** Writes 256 KiB random pieces until write() returns false; returns what it wrote. */
function writeUntilPushback(server: ServerEnd): Buffer[] {
  const written: Buffer[] = [];
  const maxPieces = 400; // 100 MiB: far past any loopback socket buffer
  for (let i = 0; i < maxPieces; i++) {
    const piece = randomBytes(256 * KiB);
    written.push(piece);
    if (!server.write(piece)) return written;
  }
  assert.fail(`write() never returned false in ${maxPieces} writes to a client reading nothing`);
}

/** Splits `data` into pieces of pieceBytes (the last may be shorter). */
function piecesOf(data: Buffer, pieceBytes: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += pieceBytes) {
    pieces.push(data.subarray(at, at + pieceBytes));
  }
  return pieces;
}

/** The client ends its side and the server sees it: all client bytes have arrived. */
async function clientEndsAndServerSeesEnd({ server, client }: Pair): Promise<void> {
  client.socket.end();
  await waitUntil(
    () => server.count("end") === 1,
    () => `the server's "end" (got ${server.receivedBytes} bytes, ${server.describe()})`,
  );
}

/** The server ends its side and the client sees EOF: all server bytes have arrived. */
async function serverEndsAndClientSeesEnd({ server, client }: Pair): Promise<void> {
  server.end();
  await waitUntil(
    () => client.ended,
    () => `the client's "end" (${client.describe()}, server ${server.describe()})`,
  );
}

/** The client resets the connection (RST), as a crashed or impatient peer does. */
function resetFromClient(client: ClientEnd): void {
  assert.equal(
    typeof client.socket.resetAndDestroy,
    "function",
    `socket.resetAndDestroy is missing on Node ${process.version}`,
  );
  client.socket.resetAndDestroy();
}

interface Row {
  readonly name: string;
  readonly target?: Target;
  run(pair: Pair): Promise<void>;
}

const rows: readonly Row[] = [
  {
    name: "data: several client writes arrive in order, concatenated exactly",
    async run(pair) {
      const parts = ["GET / HTTP/1.1\r\n", "Host: t\r\n", "\r\n", "second", "x".repeat(70_000)];
      for (const part of parts) pair.client.socket.write(part);
      await clientEndsAndServerSeesEnd(pair);
      assertSameBytes(pair.server.received(), Buffer.from(parts.join("")), "server received");
    },
  },
  {
    name: "data: a 1 MiB random payload arrives exactly",
    async run(pair) {
      const payload = randomBytes(MiB);
      pair.client.socket.write(payload.subarray(0, 1));
      pair.client.socket.write(payload.subarray(1, 300_001));
      pair.client.socket.write(payload.subarray(300_001));
      await clientEndsAndServerSeesEnd(pair);
      assertSameBytes(pair.server.received(), payload, "server received");
    },
  },
  {
    name: "write: many small writes reach the client exactly, in order",
    async run(pair) {
      const lines = Array.from({ length: 300 }, (_, i) => Buffer.from(`line ${i}\n`));
      for (const line of lines) pair.server.write(line);
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(pair.client.received(), Buffer.concat(lines), "client received");
    },
  },
  {
    name: "write: 4 MiB in 64 KiB pieces honoring write() = false and 'drain', once per pushback",
    async run(pair) {
      const payload = randomBytes(4 * MiB);
      const pushbacks = await writeHonoringDrain(pair.server, piecesOf(payload, 64 * KiB));
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(pair.client.received(), payload, "client received");
      await delay(SETTLE_MS);
      assert.equal(pair.server.count("drain"), pushbacks, `"drain"s for ${pushbacks} pushbacks`);
    },
  },
  {
    name: "backpressure: a client reading nothing makes write() return false; resume → one 'drain' per pushback",
    async run(pair) {
      const { server, client } = pair;
      const written: Buffer[] = [];
      for (let episode = 1; episode <= 2; episode++) {
        client.socket.pause();
        written.push(...writeUntilPushback(server));
        assert.equal(server.socket.writableNeedDrain, true, "writableNeedDrain after false");
        assert.ok(server.socket.writableLength > 0, "writableLength > 0 after false");
        client.socket.resume();
        await waitUntil(
          () => server.count("drain") === episode,
          () => `"drain" #${episode} (${server.describe()}, ${client.describe()})`,
        );
        assert.equal(server.socket.writableNeedDrain, false, "writableNeedDrain after drain");
        const drain = server.events.filter((event) => event.kind === "drain")[episode - 1];
        assert.equal(drain?.needDrain, false, "writableNeedDrain inside the 'drain' listener");
      }
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(client.received(), Buffer.concat(written), "client received");
      await delay(SETTLE_MS);
      assert.equal(server.count("drain"), 2, "one 'drain' per pushback episode");
    },
  },
  {
    name: "cork/uncork: writes between cork() and uncork() arrive, in order",
    async run(pair) {
      const parts = ["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "\r\n", "hello"];
      pair.server.cork();
      for (const part of parts) {
        assert.equal(pair.server.write(Buffer.from(part)), true, `corked write(${part.length})`);
      }
      pair.server.uncork();
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(pair.client.received(), Buffer.from(parts.join("")), "client received");
    },
  },
  {
    name: "cork/uncork: end() while corked sends the corked bytes, then the FIN",
    async run(pair) {
      const parts = [Buffer.from("head\r\n\r\n"), randomBytes(40 * KiB)];
      pair.server.cork();
      for (const part of parts) pair.server.write(part);
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(pair.client.received(), Buffer.concat(parts), "client received");
    },
  },
  {
    name: "cork/uncork: corked twice, nothing is sent until the second uncork()",
    async run(pair) {
      const { server, client } = pair;
      server.cork();
      server.cork();
      const parts = [Buffer.from("first "), Buffer.from("second "), Buffer.from("third")];
      for (const part of parts) server.write(part);
      server.uncork();
      const corkedBytes = Buffer.concat(parts).length;
      assert.equal(server.socket.writableLength, corkedBytes, "writableLength while corked");
      assert.equal(
        await happensWithin(() => client.receivedBytes > 0),
        false,
        `the client received ${client.receivedBytes} bytes while the server was still corked once`,
      );
      server.uncork();
      await waitUntil(
        () => client.receivedBytes >= corkedBytes,
        () => `the corked bytes after the last uncork() (${client.describe()})`,
      );
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(client.received(), Buffer.concat(parts), "client received");
    },
  },
  {
    name: "cork/uncork: corked writes push back at net.Socket's default high-water mark; 'drain' comes after uncork(), from the loop, once",
    async run(pair) {
      const { server, client } = pair;
      const highWaterBytes = getDefaultHighWaterMark(false);
      const pieceBytes = 4 * KiB;
      const pieces: Buffer[] = [];
      server.cork();
      for (let writing = true; writing; ) {
        assert.ok(pieces.length < 1000, "a corked write() returned false");
        const piece = randomBytes(pieceBytes);
        pieces.push(piece);
        writing = server.write(piece);
      }
      const corkedBytes = pieces.length * pieceBytes;
      assert.equal(
        corkedBytes,
        Math.ceil(highWaterBytes / pieceBytes) * pieceBytes,
        `first false after ${corkedBytes} corked bytes; net.Socket's high-water mark is ${highWaterBytes}`,
      );
      assert.equal(server.socket.writableNeedDrain, true, "writableNeedDrain after false");
      server.uncork();
      await waitUntil(
        () => server.count("drain") === 1,
        () => `"drain" after uncork() (${server.describe()})`,
      );
      assert.equal(server.socket.writableNeedDrain, false, "writableNeedDrain after drain");
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(client.received(), Buffer.concat(pieces), "client received");
      await delay(SETTLE_MS);
      assert.equal(server.count("drain"), 1, "'drain' once");
    },
  },
  {
    name: "end(cb): all bytes then FIN; cb once writableFinished; half-close: the server still reads; peer FIN → 'end'; destroy() → 'close'",
    async run(pair) {
      const { server, client } = pair;
      const parts = [Buffer.from("response head\r\n\r\n"), randomBytes(200 * KiB)];
      for (const part of parts) server.write(part);
      let finishedSeenByCallback: boolean | undefined;
      server.end(() => {
        finishedSeenByCallback = server.socket.writableFinished;
      });
      // Finished means our FIN went out, which libuv does later, from the loop.
      assert.equal(server.socket.writableFinished, false, "writableFinished right after end()");
      await waitUntil(
        () => client.ended,
        () => `the client's "end" (${client.describe()})`,
      );
      assertSameBytes(client.received(), Buffer.concat(parts), "client received before EOF");
      await waitUntil(
        () => server.count("end callback") === 1,
        () => `end()'s callback (${server.describe()})`,
      );
      assert.equal(finishedSeenByCallback, true, "writableFinished inside end()'s callback");
      assert.equal(server.socket.writableFinished, true, "writableFinished");
      assert.equal(server.count("finish"), 1, `"finish" (${server.describe()})`);

      const late = Buffer.from("the client still talks after the server's FIN");
      client.socket.write(late);
      await waitUntil(
        () => server.receivedBytes >= late.length,
        () => `the client's bytes after the server's FIN (${server.describe()})`,
      );
      assertSameBytes(server.received(), late, "server received after its own FIN");
      assert.equal(server.count("end"), 0, "'end' before the client's FIN");
      assert.equal(server.count("close"), 0, "'close' while the client may still write");

      client.socket.end();
      await waitUntil(
        () => server.count("end") === 1,
        () => `'end' (${server.describe()})`,
      );
      // Both directions are done: a net.Socket with autoDestroy may close itself now; either
      // way the destroy() that Connection makes here must leave exactly one "close".
      server.destroy();
      assert.equal(server.socket.destroyed, true, "destroyed after destroy()");
      await waitUntil(
        () => server.count("close") === 1,
        () => `'close' (${server.describe()})`,
      );
      assert.deepEqual(server.errors(), [], "no 'error' on a clean close");
    },
  },
  {
    name: "peer FIN first: the server gets 'end', stays open, and its reply reaches the client",
    async run(pair) {
      const { server, client } = pair;
      client.socket.write("request");
      await clientEndsAndServerSeesEnd(pair);
      assertSameBytes(server.received(), Buffer.from("request"), "server received");
      assert.equal(server.socket.destroyed, false, "destroyed after the peer's FIN");
      const reply = randomBytes(100 * KiB);
      server.write(reply);
      await serverEndsAndClientSeesEnd(pair);
      assertSameBytes(client.received(), reply, "client received the reply after its own FIN");
      assert.deepEqual(server.errors(), [], "no 'error'");
    },
  },
  {
    name: "destroy(): destroyed at once; 'close' once, from the loop; a later write() returns false without throwing; the client sees the close",
    async run(pair) {
      const { server, client } = pair;
      server.write(Buffer.from("bye"));
      server.destroy();
      assert.equal(server.socket.destroyed, true, "destroyed right after destroy()");
      assert.equal(server.count("close"), 0, "'close' inside destroy()");
      assert.equal(server.write(Buffer.from("too late")), false, "write() after destroy()");
      await waitUntil(
        () => server.count("close") === 1,
        () => `'close' (${server.describe()})`,
      );
      // allowHalfOpen: the client sees EOF (or a reset) and then decides itself when to close.
      await waitUntil(
        () => client.ended || client.errors.length > 0,
        () => `EOF at the client (${client.describe()})`,
      );
      await delay(SETTLE_MS);
      assert.equal(server.count("close"), 1, `'close' once (${server.describe()})`);
      assert.deepEqual(server.errors(), [], "no 'error' from destroy() or the late write()");
    },
  },
  {
    name: "peer reset: 'error' ECONNRESET (if reported) then exactly one 'close'",
    async run(pair) {
      const { server, client } = pair;
      client.socket.write("partial request");
      await waitUntil(
        () => server.receivedBytes > 0,
        () => "the client's bytes",
      );
      resetFromClient(client);
      await waitUntil(
        () => server.count("close") === 1,
        () => `'close' (${server.describe()})`,
      );
      await delay(SETTLE_MS);
      assert.equal(server.count("close"), 1, `'close' once (${server.describe()})`);
      assert.deepEqual(
        server.errors().map((error) => error.code),
        server.count("error") === 0 ? [] : ["ECONNRESET"],
        `errors (${server.describe()})`,
      );
      assert.equal(server.socket.destroyed, true, "destroyed after the reset");
    },
  },
  {
    name: "peer reset, then the server writes: 'error' EPIPE or ECONNRESET (not inside write()), then one 'close'",
    async run(pair) {
      const { server, client } = pair;
      server.pause(); // only a write may discover the reset (net.Socket may still read it)
      resetFromClient(client);
      await waitUntil(
        () => client.closed,
        () => "the client's own close",
      );
      const piece = Buffer.alloc(16 * KiB, 0x61);
      await waitUntil(
        () => {
          if (server.count("error") === 0 && server.count("close") === 0) server.write(piece);
          return server.count("close") === 1;
        },
        () => `'close' after writes to a reset peer (${server.describe()})`,
      );
      await delay(SETTLE_MS);
      assert.equal(server.count("close"), 1, `'close' once (${server.describe()})`);
      const codes = server.errors().map((error) => error.code);
      assert.equal(codes.length, 1, `one 'error' (${server.describe()})`);
      assert.ok(
        codes[0] === "EPIPE" || codes[0] === "ECONNRESET",
        `error code ${codes[0]}, want EPIPE or ECONNRESET`,
      );
      assert.equal(server.write(piece), false, "write() after the error");
    },
  },
  {
    name: "pause()/resume(): no 'data' while paused though the client writes; resume() delivers it",
    async run(pair) {
      const { server, client } = pair;
      let want = Buffer.alloc(0);
      for (const text of ["sent while paused", "and again"]) {
        server.pause();
        const bytes = Buffer.from(text);
        client.socket.write(bytes);
        want = Buffer.concat([want, bytes]);
        const before = server.receivedBytes;
        assert.equal(
          await happensWithin(() => server.receivedBytes > before),
          false,
          `'data' while paused (${server.describe()})`,
        );
        server.resume();
        await waitUntil(
          () => server.receivedBytes === want.length,
          () => `the bytes after resume() (${server.describe()})`,
        );
      }
      await clientEndsAndServerSeesEnd(pair);
      assertSameBytes(server.received(), want, "server received");
    },
  },
  {
    name: "remote*: over IPv4 they are the client's localAddress, 'IPv4' and localPort",
    async run({ server, client }) {
      assert.deepEqual(
        [server.socket.remoteAddress, server.socket.remoteFamily, server.socket.remotePort],
        [client.socket.localAddress, "IPv4", client.socket.localPort],
      );
    },
  },
  {
    name: "remote*: over IPv6 ::1 they are the client's localAddress, 'IPv6' and localPort (skipped where ::1 cannot be bound: EADDRNOTAVAIL)",
    target: "ipv6",
    async run({ server, client }) {
      assert.equal(client.socket.localAddress, "::1", "the client's address");
      assert.deepEqual(
        [server.socket.remoteAddress, server.socket.remoteFamily, server.socket.remotePort],
        [client.socket.localAddress, "IPv6", client.socket.localPort],
      );
    },
  },
  {
    name: "remote*: over a Unix socket they are undefined",
    target: "unix",
    async run({ server }) {
      assert.deepEqual(
        [server.socket.remoteAddress, server.socket.remoteFamily, server.socket.remotePort],
        [undefined, undefined, undefined],
      );
    },
  },
  ...(["ipv4", "unix"] as const).map(
    (target): Row => ({
      name: `setNoDelay(true) over ${target === "ipv4" ? "TCP" : "a Unix socket"}: returns without throwing; bytes still flow`,
      target,
      async run(pair) {
        assert.equal(pair.server.setNoDelay(true), pair.server.socket, "setNoDelay() returns");
        pair.server.write(Buffer.from("after setNoDelay"));
        await serverEndsAndClientSeesEnd(pair);
        assertSameBytes(pair.client.received(), Buffer.from("after setNoDelay"), "client received");
      },
    }),
  ),
  {
    name: "events from the loop: end(cb) on a finished socket calls cb later, never inside end()",
    async run(pair) {
      const { server } = pair;
      await serverEndsAndClientSeesEnd(pair);
      await waitUntil(
        () => server.socket.writableFinished,
        () => "writableFinished",
      );
      let called = 0;
      server.end(() => called++);
      assert.equal(called, 0, "end(cb) called cb synchronously");
      await waitUntil(
        () => called === 1,
        () => `end()'s callback (${server.describe()})`,
      );
    },
  },
];

/** Whether ::1 can be bound here; false only for EADDRNOTAVAIL (no IPv6 loopback). */
async function canBindIpv6Loopback(): Promise<boolean> {
  const probe = createServer();
  try {
    await listenOn(probe, "ipv6");
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRNOTAVAIL") return false;
    throw error;
  }
}

async function runRow(layer: SocketLayer, row: Row, t: TestContext): Promise<void> {
  const target = row.target ?? "ipv4";
  if (target === "ipv6" && !(await canBindIpv6Loopback())) {
    t.skip("::1 cannot be bound on this machine (listen: EADDRNOTAVAIL)");
    return;
  }
  await withPair(layer, target, (pair) => row.run(pair));
}

before(async () => {
  unixDir = await makeTempDir("berth-handle-stream-");
});
after(() => removeTempDir(unixDir));

test(`acceptHandlesDirectly takes over a listening server's accepts on Node ${process.version}`, async () => {
  const server = createServer({ allowHalfOpen: true });
  await listenOn(server, "ipv4");
  try {
    assert.equal(
      acceptHandlesDirectly(server, (handle) => new HandleStream(handle).destroy()),
      true,
      "acceptHandlesDirectly(server) = false: this Node lacks the stream bindings HandleStream needs",
    );
  } finally {
    server.close();
  }
});

for (const layer of LAYERS) {
  describe(layer.name, () => {
    for (const row of rows) test(row.name, (t) => runRow(layer, row, t));
  });
}
