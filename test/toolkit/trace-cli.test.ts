/**
 * `--trace` on `berth echo`, `berth chat` and `berth connect`: one line per socket event on
 * stderr, in the order they happened, with the reason each connection closed; nothing of it
 * without the flag. Reads and writes are the chunks as TCP delivered them, so the tests check that
 * their sizes add up to what was sent, never how many there were.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type CliProcess, killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { killAllConnectProcesses, runConnectCli } from "../helpers/connect-process.js";

after(killAllCliProcesses);
after(killAllConnectProcesses);

const TRACE_LINE = /^trace \d\d:\d\d:\d\d\.\d{3} #(\d+) (.*)$/;

/** The trace lines of connection `id` (all of them when undefined), without time and id. */
function eventsOf(stderr: string, id?: number): string[] {
  const events: string[] = [];
  for (const line of stderr.split("\n")) {
    const match = TRACE_LINE.exec(line);
    if (match === null) continue;
    if (id === undefined || Number(match[1]) === id) events.push(match[2] ?? "");
  }
  return events;
}

/** The sum of N over the "VERB N B…" events. */
function bytesOf(events: readonly string[], verb: "read" | "write"): number {
  let sum = 0;
  for (const event of events) {
    const match = new RegExp(`^${verb} (\\d+) B`).exec(event);
    if (match !== null) sum += Number(match[1]);
  }
  return sum;
}

/** The events other than reads and writes (whose count depends on TCP's chunking). */
function shapeOf(events: readonly string[], drop: readonly string[] = []): string[] {
  return events
    .filter((event) => !/^(read|write) \d+ B/.test(event) && !drop.includes(event))
    .map((event) => event.replace(/(from|to) \S+:\d+/, "$1 PEER"));
}

/** The port of the first "berth: <command> (...) on HOST:PORT" line. */
async function portOf(cli: CliProcess): Promise<number> {
  const match = await cli.waitForOutput("stdout", /^berth: \w+ .*on 127\.0\.0\.1:(\d+)$/m);
  return Number(match[1]);
}

interface Conversation {
  /** Wait for this text before writing (chat's welcome). */
  readonly waitFor?: string;
  /** Half-close after the last part (else the server is expected to close first). */
  readonly halfClose: boolean;
}

/** Connects, writes `parts` (a pause between them), and resolves with everything received once
 * the server closed its side; then closes ours. */
function converse(port: number, parts: readonly string[], how: Conversation): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    let received = "";
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      received += text;
    });
    socket.on("end", () => {
      socket.end();
      resolve(received);
    });
    socket.on("error", reject);
    socket.setTimeout(3000, () =>
      socket.destroy(new Error(`no EOF; got ${JSON.stringify(received)}`)),
    );
    socket.once("connect", async () => {
      // A greeting first (chat's welcome), so what follows is answered after it.
      while (how.waitFor !== undefined && !received.includes(how.waitFor)) await delay(5);
      for (const [index, part] of parts.entries()) {
        if (index > 0) await delay(30);
        socket.write(part, "latin1");
      }
      if (how.halfClose) socket.end();
    });
  });
}

/** Waits for the trace line closing connection `id`, then returns that connection's events. */
async function closedEvents(cli: CliProcess, id: number): Promise<string[]> {
  await cli.waitForOutput("stderr", new RegExp(`^trace \\S+ #${id} closed \\(`, "m"));
  return eventsOf(cli.stderr, id);
}

describe("berth echo --trace", () => {
  test("line framing: accepted, reads, lines parsed, writes, peer FIN, closed (peer FIN)", async (t) => {
    const cli = startCli([
      "echo",
      "--listen",
      "127.0.0.1:0",
      "--framing",
      "line",
      "--quiet",
      "--trace",
    ]);
    t.after(() => cli.kill());
    const sent = ["hello\nwo", "rld\n"];
    const reply = await converse(await portOf(cli), sent, { halfClose: true });
    assert.equal(reply, "hello\nworld\n");
    const events = await closedEvents(cli, 1);
    const shown = JSON.stringify(events, null, 1);
    assert.equal(bytesOf(events, "read"), 12, `reads add up to what was sent: ${shown}`);
    assert.equal(bytesOf(events, "write"), 12, `writes add up to the echo: ${shown}`);
    assert.deepEqual(
      shapeOf(events),
      [
        "accepted from PEER",
        "line 5 B",
        "line 5 B",
        "peer FIN (half-close)",
        "closing: peer FIN (FIN sent)",
        "closed (peer FIN)",
      ],
      shown,
    );
    // Each line is parsed after a read that brought its end, and echoed after it is parsed.
    const firstLine = events.indexOf("line 5 B");
    assert.ok(events.findIndex((event) => event.startsWith("read ")) < firstLine, shown);
    assert.ok(events.findIndex((event) => event.startsWith("write ")) > firstLine, shown);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("a line too long: the error line is written, closed (line too long)", async (t) => {
    const cli = startCli([
      "echo",
      "--listen",
      "127.0.0.1:0",
      "--framing",
      "line",
      "--max-line-bytes",
      "4",
      "--quiet",
      "--trace",
    ]);
    t.after(() => cli.kill());
    const reply = await converse(await portOf(cli), ["ok\ntoo long\n"], { halfClose: true });
    assert.equal(reply, "ok\nerror: line too long (max 4 bytes)\n");
    const events = await closedEvents(cli, 1);
    const shown = JSON.stringify(events, null, 1);
    assert.equal(bytesOf(events, "write"), reply.length, shown);
    assert.deepEqual(
      shapeOf(events, ["peer FIN (half-close)"]),
      [
        "accepted from PEER",
        "line 2 B",
        "closing: line too long (FIN sent, lingering)",
        "closed (line too long)",
      ],
      shown,
    );
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("--udp: a line per datagram received and sent", async (t) => {
    const cli = startCli(["echo", "--udp", "--listen", "127.0.0.1:0", "--quiet", "--trace"]);
    t.after(() => cli.kill());
    const port = await portOf(cli);
    const client = createSocket("udp4");
    t.after(() => client.close());
    const reply = once(client, "message");
    client.send("ping", port, "127.0.0.1");
    await reply;
    const { port: clientPort } = client.address();
    await cli.waitForOutput("stderr", /datagram to /);
    assert.deepEqual(eventsOf(cli.stderr), [
      `datagram from 127.0.0.1:${clientPort} 4 B`,
      `datagram to 127.0.0.1:${clientPort} 4 B`,
    ]);
    assert.match(cli.stderr, /^trace \S+ #0 datagram from /m);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });
});

describe("berth chat --trace", () => {
  test("accepted, welcome written, reads, lines parsed, closing and closed (quit)", async (t) => {
    const cli = startCli(["chat", "--listen", "127.0.0.1:0", "--quiet", "--trace"]);
    t.after(() => cli.kill());
    const sent = ["hi\r\n", "/quit\r\n"];
    const reply = await converse(await portOf(cli), sent, {
      waitFor: "start a line with //",
      halfClose: false,
    });
    assert.match(reply, /\* bye\r\n$/);
    const events = await closedEvents(cli, 1);
    const shown = JSON.stringify(events, null, 1);
    assert.equal(bytesOf(events, "read"), sent.join("").length, `reads: ${shown}`);
    assert.equal(bytesOf(events, "write"), reply.length, `writes: ${shown}`);
    // The welcome is written before anything is read.
    assert.ok(events[1]?.startsWith("write "), shown);
    // The client closes once it has our FIN: its FIN shows after our closing line.
    const peerFin = events.indexOf("peer FIN (half-close)");
    if (peerFin !== -1) assert.ok(peerFin > events.indexOf("closing: quit (FIN sent, lingering)"));
    assert.deepEqual(
      shapeOf(events, ["peer FIN (half-close)"]),
      [
        "accepted from PEER",
        "line 2 B",
        "line 5 B",
        "closing: quit (FIN sent, lingering)",
        "closed (quit)",
      ],
      shown,
    );
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });
});

/** A TCP echo server on 127.0.0.1 that half-closes after the client does. */
async function startEchoServer(t: { after(fn: () => void): void }): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  server.listen({ host: "127.0.0.1", port: 0 });
  await once(server, "listening");
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const address = server.address();
  return typeof address === "object" && address !== null ? address.port : 0;
}

describe("berth connect --trace", () => {
  test("trying, connected, writes, stdin EOF half-close, reads, peer FIN, closed (peer FIN)", async (t) => {
    const port = await startEchoServer(t);
    const sent = "hello\nworld\n";
    const run = await runConnectCli(["127.0.0.1", String(port), "--trace"], sent);
    assert.equal(run.code, 0, run.process.describe());
    assert.equal(run.stdout.toString("latin1"), sent, "stdout carries the data only");
    const events = eventsOf(run.stderr, 1);
    const shown = JSON.stringify(events, null, 1);
    assert.equal(
      run.stderr.split("\n").filter((line) => line !== "" && !TRACE_LINE.test(line)).length,
      0,
      `nothing but trace lines on stderr: ${run.stderr}`,
    );
    assert.equal(bytesOf(events, "write"), sent.length, `writes: ${shown}`);
    assert.equal(bytesOf(events, "read"), sent.length, `reads: ${shown}`);
    assert.deepEqual(
      shapeOf(events),
      [
        "trying 127.0.0.1:PORT",
        "connected to PEER",
        "stdin EOF: FIN sent (half-close)",
        "peer FIN (half-close)",
        "closed (peer FIN)",
      ].map((event) => event.replace("PORT", String(port))),
      shown,
    );
    assert.equal(events[1], `connected to 127.0.0.1:${port}`, shown);
    // Every write comes before the half-close, every read before the peer's FIN.
    const halfClose = events.indexOf("stdin EOF: FIN sent (half-close)");
    const peerFin = events.indexOf("peer FIN (half-close)");
    events.forEach((event, index) => {
      if (event.startsWith("write ")) assert.ok(index < halfClose, shown);
      if (event.startsWith("read ")) assert.ok(index < peerFin && index > 1, shown);
    });
  });

  test("a refused attempt: trying, attempt failed with its code", async () => {
    const probe = createServer();
    probe.listen({ host: "127.0.0.1", port: 0 });
    await once(probe, "listening");
    const { port } = probe.address() as { port: number };
    probe.close();
    await once(probe, "close");
    const run = await runConnectCli(["127.0.0.1", String(port), "--trace"]);
    assert.equal(run.code, 1, run.process.describe());
    assert.deepEqual(eventsOf(run.stderr), [
      `trying 127.0.0.1:${port}`,
      `attempt to 127.0.0.1:${port} failed: ECONNREFUSED`,
    ]);
  });

  test("--udp: datagram to, datagram from, done", async (t) => {
    const server = createSocket("udp4");
    t.after(() => server.close());
    server.on("message", (message, sender) => server.send(message, sender.port, sender.address));
    server.bind({ address: "127.0.0.1", port: 0 });
    await once(server, "listening");
    const { port } = server.address();
    const run = await runConnectCli(["--udp", "127.0.0.1", String(port), "--trace"], "ping\n");
    assert.equal(run.code, 0, run.process.describe());
    assert.equal(run.stdout.toString("latin1"), "ping\n");
    assert.deepEqual(
      eventsOf(run.stderr).filter((event) => event !== "stdin EOF"),
      [
        `datagram to 127.0.0.1:${port} 4 B`,
        `datagram from 127.0.0.1:${port} 4 B`,
        "done (stdin EOF, every line answered)",
      ],
    );
  });
});

describe("without --trace", () => {
  test("echo, chat and connect write no trace line", async (t) => {
    const echo = startCli(["echo", "--listen", "127.0.0.1:0", "--framing", "line", "--quiet"]);
    const chat = startCli(["chat", "--listen", "127.0.0.1:0", "--quiet"]);
    t.after(() => {
      echo.kill();
      chat.kill();
    });
    const echoPort = await portOf(echo);
    assert.equal(await converse(echoPort, ["hello\n"], { halfClose: true }), "hello\n");
    assert.match(
      await converse(await portOf(chat), ["/quit\r\n"], { waitFor: "//", halfClose: false }),
      /bye/,
    );
    const run = await runConnectCli(["127.0.0.1", String(echoPort)], "hi\n");
    assert.equal(run.code, 0, run.process.describe());
    assert.equal(run.stdout.toString("latin1"), "hi\n");
    await echo.stop("SIGTERM");
    await chat.stop("SIGTERM");
    for (const stderr of [echo.stderr, chat.stderr, run.stderr]) {
      assert.doesNotMatch(stderr, /^trace /m);
    }
  });
});
