/**
 * The echo server in-process over real loopback sockets: exact bytes back for every framing,
 * many clients at once, backpressure against a client that does not read, limits crossed, UDP
 * datagram boundaries, Unix sockets, and resets that must not hurt anyone else. Every wait is
 * bounded and fails with what arrived so far.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { encodeFrame, encodeFrameHeader } from "../../src/net/frame-codec.js";
import { type BoundAddress, ListenError } from "../../src/net/listen.js";
import type { Logger } from "../../src/server/connection.js";
import {
  createEchoServer,
  type EchoServer,
  type EchoServerOptions,
  formatLineTooLong,
} from "../../src/toolkit/echo-server.js";
import { chunkings } from "../helpers/chunkings.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

const WAIT_MS = 3000;
const latin1 = (text: string): Buffer => Buffer.from(text, "latin1");
const show = (bytes: Buffer): string => JSON.stringify(bytes.toString("latin1"));

// ---------------------------------------------------------------------------------------------
// Helpers

interface CapturedLog extends Logger {
  readonly accessLines: string[];
  readonly errorLines: string[];
}

function captureLog(): CapturedLog {
  const accessLines: string[] = [];
  const errorLines: string[] = [];
  return {
    accessLines,
    errorLines,
    access: (line) => accessLines.push(line),
    error: (line) => errorLines.push(line),
  };
}

interface Started {
  readonly server: EchoServer;
  readonly address: BoundAddress;
  readonly log: CapturedLog;
}

const started: EchoServer[] = [];
after(() => Promise.all(started.map((server) => server.close())));

async function startEcho(options: EchoServerOptions = {}): Promise<Started> {
  const log = captureLog();
  const server = createEchoServer({
    listen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: 0 }],
    graceMs: 500,
    log,
    ...options,
  });
  started.push(server);
  const [address] = await server.listen();
  assert.ok(address !== undefined, "bound no address");
  return { server, address, log };
}

function connectTo(address: BoundAddress): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      address.kind === "unix" ? connect(address.path) : connect(address.port, address.host);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

async function withTimeout<T>(promise: Promise<T>, what: () => string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything the server sends until it closes its side. */
function readUntilEnd(socket: Socket, what: string): Promise<Buffer> {
  const received: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.once("end", () => resolve(Buffer.concat(received)));
    socket.once("error", reject);
  });
  return withTimeout(done, () => `${what}: no EOF; got ${show(Buffer.concat(received))}`);
}

/** Writes each chunk on its own (waiting for it to leave, then a turn of the event loop, so the
 * server mostly reads it apart from the next), optionally half-closes, and returns the echo. */
async function exchange(
  address: BoundAddress,
  chunks: readonly Buffer[],
  what: string,
  options: { readonly end?: boolean } = {},
): Promise<Buffer> {
  const socket = await connectTo(address);
  socket.setNoDelay(true);
  const reply = readUntilEnd(socket, what);
  try {
    for (const chunk of chunks) {
      await new Promise<void>((resolve, reject) =>
        socket.write(chunk, (error) => (error ? reject(error) : resolve())),
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (options.end !== false) socket.end();
    return await reply;
  } finally {
    socket.destroy();
  }
}

/** Polls until check() holds (or fails after WAIT_MS with explain()). */
async function waitUntil(check: () => boolean, explain: () => string): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${explain()}`);
    await delay(5);
  }
}

interface Stall {
  readonly sent: Buffer;
  readonly sawPause: boolean;
  /** The most bufferedBytes the server reported for the client while it was not reading. */
  readonly maxBufferedBytes: number;
}

/**
 * Writes 8 MiB blocks from a client that reads nothing until the server stops reading from it
 * (it has paused and its byte count stands still). 8 MiB is enough with usual kernel buffers;
 * where they hold more, up to 32 MiB is sent.
 */
async function stallServer(server: EchoServer, socket: Socket): Promise<Stall> {
  const blockBytes = 8 * 1024 * 1024;
  const sent: Buffer[] = [];
  let maxBufferedBytes = 0;
  let sawPause = false;
  for (let block = 0; block < 4 && !sawPause; block++) {
    const data = randomBytes(blockBytes);
    sent.push(data);
    socket.write(data);
    let lastIn = -1;
    let stablePolls = 0;
    while (stablePolls < 20) {
      await delay(5);
      const [client] = server.clients();
      if (client === undefined) throw new Error("the client was closed");
      maxBufferedBytes = Math.max(maxBufferedBytes, client.bufferedBytes);
      if (client.state === "waiting-drain") sawPause = true;
      stablePolls = client.bytesIn === lastIn ? stablePolls + 1 : 0;
      lastIn = client.bytesIn;
    }
  }
  return { sent: Buffer.concat(sent), sawPause, maxBufferedBytes };
}

// ---------------------------------------------------------------------------------------------
// Raw

describe("echo, raw framing", () => {
  test("every byte value 0x00..0xFF comes back exactly", async () => {
    const { address } = await startEcho();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const got = await exchange(address, [all], "0x00..0xFF");
    assert.ok(got.equals(all), `echoed ${got.toString("hex")}`);
  });

  test("50 concurrent clients each get their own data back", async () => {
    const { server, address } = await startEcho();
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connectTo(address)));
    await waitUntil(
      () => server.clients().length === 50,
      () => `${server.clients().length} of 50 clients connected`,
    );
    const sent = sockets.map((_, i) =>
      Buffer.concat([latin1(`client ${i}:`), randomBytes(32_768)]),
    );
    const replies = sockets.map((socket, i) => readUntilEnd(socket, `client ${i}`));
    for (const [i, socket] of sockets.entries()) socket.end(sent[i] ?? Buffer.alloc(0));
    const got = await Promise.all(replies);
    got.forEach((reply, i) => {
      assert.ok(
        reply.equals(sent[i] ?? Buffer.alloc(0)),
        `client ${i}: ${reply.length} bytes back`,
      );
    });
  });

  test("a client that writes 8 MiB without reading pauses the server; all of it arrives later", async () => {
    const { server, address } = await startEcho();
    const socket = await connectTo(address);
    socket.pause(); // read nothing until told
    const stall = await stallServer(server, socket);
    assert.ok(stall.sawPause, "the server never paused reading");
    // Bound: the socket's 16 KiB high-water mark plus one 64 KiB read, on each side.
    assert.ok(
      stall.maxBufferedBytes <= 256 * 1024,
      `server held up to ${stall.maxBufferedBytes} bytes for a client that does not read`,
    );
    const reply = readUntilEnd(socket, "the stalled client, reading at last");
    socket.end();
    socket.resume();
    const got = await reply;
    assert.equal(got.length, stall.sent.length, "bytes echoed");
    assert.ok(got.equals(stall.sent), "echoed bytes differ from sent bytes");
  });

  test("a client reset mid-write does not crash the server; later clients are served", async () => {
    const { server, address, log } = await startEcho();
    const socket = await connectTo(address);
    socket.pause();
    assert.ok((await stallServer(server, socket)).sawPause, "the server never paused reading");
    socket.resetAndDestroy();
    await waitUntil(
      () => server.clients().length === 0,
      () => `${server.clients().length} clients still open`,
    );
    assert.match(log.accessLines.at(-1) ?? "", /closed: reset by peer \((ECONNRESET|EPIPE)\)/);
    assert.deepEqual(log.errorLines, [], "a reset is not an error");
    const got = await exchange(address, [latin1("still here")], "the next client");
    assert.equal(got.toString("latin1"), "still here");
  });
});

// ---------------------------------------------------------------------------------------------
// Line

describe("echo, line framing", () => {
  const LINES = latin1("one\ntwo\r\n\r\n\nthree\tfour\r\n");

  test("lines split at every byte position come back whole and identical", async () => {
    const { address } = await startEcho({ framing: "line" });
    const all = [...chunkings(LINES)];
    const got = await Promise.all(all.map((c) => exchange(address, c.chunks, c.name)));
    all.forEach((c, i) => {
      assert.equal(show(got[i] ?? Buffer.alloc(0)), show(LINES), c.name);
    });
  });

  // biome-ignore format: one row per line
  const ENDINGS: readonly (readonly [string, string])[] = [
    ["LF", "lf\n"],
    ["CRLF", "crlf\r\n"],
    ["a CR inside a line", "a\rb\n"],
    ["an empty CRLF line", "\r\n"],
    ["an unterminated last line, at EOF", "x\neof"],
  ];
  for (const [name, input] of ENDINGS) {
    test(`terminators are kept as received: ${name}`, async () => {
      const { address } = await startEcho({ framing: "line" });
      const got = await exchange(address, [latin1(input)], name);
      assert.equal(show(got), JSON.stringify(input));
    });
  }

  test("a partial line is held until its terminator arrives", async () => {
    const { address } = await startEcho({ framing: "line" });
    const socket = await connectTo(address);
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.write("abc");
    await delay(50);
    assert.equal(show(Buffer.concat(received)), '""', "echoed before the line ended");
    const reply = readUntilEnd(socket, "the completed line");
    socket.end("def\r\n");
    assert.equal(show(Buffer.concat([...received, await reply])), show(latin1("abcdef\r\n")));
  });

  test("a line over --max-line-bytes gets the error line, then the connection closes", async () => {
    const { address, log } = await startEcho({ framing: "line", maxLineBytes: 8 });
    // The client does not end its side: the close is the server's.
    const got = await exchange(
      address,
      [latin1("12345678\r\n123456789\nnever\n")],
      "line too long",
      { end: false },
    );
    assert.equal(show(got), show(latin1(`12345678\r\n${formatLineTooLong(8)}`)));
    assert.equal(formatLineTooLong(8), "error: line too long (max 8 bytes)\n");
    assert.match(log.errorLines.join("\n"), /line too long \(max 8 bytes\)/);
  });

  test("past --max-clients a new client is told and closed; the others carry on", async () => {
    const { address, log } = await startEcho({ framing: "line", maxClients: 2 });
    const first = await connectTo(address);
    const second = await connectTo(address);
    const third = await exchange(address, [], "third client", { end: false });
    assert.equal(third.toString("latin1"), "error: too many clients (max 2)\n");
    assert.match(log.errorLines.join("\n"), /max clients \(2\) reached/);
    for (const [i, socket] of [first, second].entries()) {
      const reply = readUntilEnd(socket, `client ${i}`);
      socket.end(`client ${i}\n`);
      assert.equal((await reply).toString("latin1"), `client ${i}\n`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Length

describe("echo, length framing", () => {
  const FRAMES = Buffer.concat([
    encodeFrame(1, "hi"),
    encodeFrame(0, ""),
    encodeFrame(255, Buffer.from([0, 10, 13, 255, 7])),
  ]);

  test("frames split at every byte position come back whole with their type", async () => {
    const { address } = await startEcho({ framing: "length" });
    const all = [...chunkings(FRAMES)];
    const got = await Promise.all(all.map((c) => exchange(address, c.chunks, c.name)));
    all.forEach((c, i) => {
      assert.equal((got[i] ?? Buffer.alloc(0)).toString("hex"), FRAMES.toString("hex"), c.name);
    });
  });

  test("a frame over --max-frame-bytes closes the connection before its payload", async () => {
    const { address, log } = await startEcho({ framing: "length", maxFrameBytes: 16 });
    // 3 of the 17 payload bytes are sent, and the client never ends: the server must not wait.
    const input = Buffer.concat([encodeFrame(7, "ok"), encodeFrameHeader(1, 17), latin1("abc")]);
    const got = await exchange(address, [input], "frame too large", { end: false });
    assert.equal(got.toString("hex"), encodeFrame(7, "ok").toString("hex"));
    assert.match(log.errorLines.join("\n"), /frame too large \(declares 17 bytes, max 16\)/);
  });
});

// ---------------------------------------------------------------------------------------------
// UDP

function hasUdp6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createSocket("udp6");
    probe.once("error", () => {
      probe.close();
      resolve(false);
    });
    probe.bind({ address: "::1", port: 0 }, () => probe.close(() => resolve(true)));
  });
}

/** Sends each payload as one datagram and collects as many replies. */
async function udpExchange(address: BoundAddress, payloads: readonly Buffer[]): Promise<Buffer[]> {
  assert.equal(address.kind, "tcp");
  if (address.kind !== "tcp") return [];
  const socket: UdpSocket = createSocket(address.family === 6 ? "udp6" : "udp4");
  const replies: Buffer[] = [];
  try {
    const done = new Promise<void>((resolve) => {
      socket.on("message", (message) => {
        replies.push(message);
        if (replies.length === payloads.length) resolve();
      });
    });
    for (const payload of payloads) socket.send(payload, address.port, address.host);
    await withTimeout(done, () => `${replies.length} of ${payloads.length} replies`);
    return replies;
  } finally {
    socket.close();
  }
}

describe("echo --udp", () => {
  const PAYLOADS = [Buffer.alloc(0), latin1("x"), randomBytes(1000)];
  const lengths = (list: readonly Buffer[]): number[] =>
    list.map((b) => b.length).sort((a, b) => a - b);

  for (const [family, host] of [
    ["IPv4", "127.0.0.1"],
    ["IPv6", "::1"],
  ] as const) {
    test(`datagrams of 0, 1 and 1000 bytes come back one for one (${family})`, async (t) => {
      if (family === "IPv6" && !(await hasUdp6Loopback())) {
        t.skip("this machine cannot bind udp6 ::1");
        return;
      }
      const { address } = await startEcho({
        transport: "udp",
        listen: [{ kind: "tcp", hosts: [host], port: 0 }],
      });
      const replies = await udpExchange(address, PAYLOADS);
      assert.deepEqual(lengths(replies), [0, 1, 1000], "reply lengths");
      for (const payload of PAYLOADS) {
        assert.ok(
          replies.some((reply) => reply.equals(payload)),
          `no reply equal to the ${payload.length}-byte datagram`,
        );
      }
    });
  }

  test("a unix:/ address is refused for UDP", async () => {
    const server = createEchoServer({
      transport: "udp",
      listen: [{ kind: "unix", path: "/tmp/never.sock" }],
      log: captureLog(),
    });
    await assert.rejects(server.listen(), (error: unknown) => {
      assert.ok(error instanceof ListenError);
      assert.match(error.message, /^Cannot listen on unix:\/tmp\/never\.sock with --udp: /);
      return true;
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Unix sockets and shutdown

describe("echo on a Unix socket", () => {
  let dir = "";
  before(async () => {
    dir = await makeTempDir("berth-echo-");
  });
  after(() => removeTempDir(dir));

  test("echoes lines and logs the socket path as the peer", async () => {
    const path = join(dir, "echo.sock");
    const { address, log } = await startEcho({ framing: "line", listen: [{ kind: "unix", path }] });
    assert.deepEqual(address, { kind: "unix", path });
    const got = await exchange(address, [latin1("over unix\n")], "unix");
    assert.equal(got.toString("latin1"), "over unix\n");
    await waitUntil(
      () => log.accessLines.length === 2,
      () => log.accessLines.join(" | "),
    );
    assert.match(log.accessLines[0] ?? "", new RegExp(`^#1 unix:${path} open$`));
    assert.match(
      log.accessLines[1] ?? "",
      new RegExp(`^#1 unix:${path} closed: 10 bytes in, 10 bytes echoed$`),
    );
  });
});

test("close() ends every client and resolves once they are gone", async () => {
  const { server, address } = await startEcho();
  const socket = await connectTo(address);
  const reply = readUntilEnd(socket, "client during close()");
  await waitUntil(
    () => server.clients().length === 1,
    () => "not connected",
  );
  await withTimeout(server.close(), () => "close() did not resolve");
  assert.equal((await reply).length, 0);
  assert.deepEqual(server.clients(), []);
  socket.destroy();
});
