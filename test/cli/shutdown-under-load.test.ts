/**
 * SIGTERM while `berth serve` is busy (README "Graceful shutdown"): 32 keep-alive connections
 * pipeline GETs back to back (1 to 4 per batch) when the signal arrives. Both sides are counted:
 * every request berth answered (one Common Log Format line each on stdout) is a complete, exact
 * response at a client, and no client holds a truncated one; a connection ends with a FIN after
 * its last answer, and no answer follows one that said Connection: close; new connections are
 * refused at once; the process exits 0 soon after, without waiting out --grace-ms.
 *
 * Whether a random batch is in flight at the signal is up to the scheduler, so one more
 * connection makes it certain: it pipelines GET of a 32 MiB file and GET /alpha.txt, and stops
 * reading mid-body before the signal. The big response must then finish whole (its head, sent
 * before the signal, keeps the connection alive), /alpha.txt must be answered with
 * Connection: close, and berth must close the connection after it.
 *
 * Requests that were written but never answered are expected: berth closes an idle connection at
 * once, so requests still in the kernel's buffer, or written after berth's FIN left, are never
 * read (RFC 9112 §9.3.2: a client retries them on a new connection). They are reported, not
 * asserted on.
 */
import assert from "node:assert/strict";
import { truncate, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { waitUntilRefused } from "../helpers/net-probes.js";
import { parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { pollUntil } from "../helpers/test-server.js";

after(killAllCliProcesses);

const CONNECTIONS = 32;
/** Each batch pipelines 1..MAX_PIPELINE_DEPTH requests in one write. */
const MAX_PIPELINE_DEPTH = 4;
/** How long the load runs before the signal (at least). */
const LOAD_MS = 700;
/** README: berth "stops accepting" on the signal. Measured 12–26 ms alone, 27–305 ms with the rest
 * of the suite running beside it on 2 CPUs (the signal waits for berth to be scheduled). */
const REFUSED_WITHIN_MS = 1000;
/** Every response in flight is small (≤ 1 MiB over loopback): finishing them all, closing every
 * connection and exiting takes well under this. --grace-ms stays at its 10 s default, so an exit
 * within this bound is not the grace period destroying what remained. */
const EXIT_WITHIN_MS = 2000;
/** Bounds every wait, so a hang fails with counts instead of hitting the runner's timeout. */
const WAIT_MS = 5000;
const BIG_FILE_BYTES = 1024 * 1024;
/** The in-flight anchor's file: far more than loopback socket buffers hold (sparse: zeros). */
const ANCHOR_FILE_BYTES = 32 * 1024 * 1024;
/** The anchor stops reading after this much of the body, so its response is mid-stream. */
const ANCHOR_PAUSE_AFTER_BYTES = 1024 * 1024;

/** `sizeBytes` bytes in which every 4-byte word holds its own offset: a misplaced chunk shows. */
function offsetPattern(sizeBytes: number): Buffer {
  const words = Buffer.alloc(sizeBytes);
  for (let at = 0; at + 4 <= sizeBytes; at += 4) words.writeUInt32LE(at, at);
  return words;
}

/** What the test serves, and what each target must answer. */
const FILES: Record<string, Buffer> = {
  "alpha.txt": Buffer.from("alpha\n"),
  "page.html": Buffer.from("<!doctype html><title>p</title><p>page</p>\n"),
  "data.json": Buffer.from('{"n":42}\n'),
  "big.bin": offsetPattern(BIG_FILE_BYTES),
};

interface Target {
  readonly path: string;
  readonly status: number;
  /** The exact body, or null for "any body" (the 404 page). */
  readonly body: Buffer | null;
}

// Mostly small files, one 404 and one 1 MiB file in eight: the big ones are still in flight
// (several 64 KiB steps) when the signal arrives.
// biome-ignore format: one row per line
const TARGETS: readonly Target[] = [
  { path: "/alpha.txt", status: 200, body: FILES["alpha.txt"] ?? null },
  { path: "/page.html", status: 200, body: FILES["page.html"] ?? null },
  { path: "/data.json", status: 200, body: FILES["data.json"] ?? null },
  { path: "/alpha.txt", status: 200, body: FILES["alpha.txt"] ?? null },
  { path: "/page.html", status: 200, body: FILES["page.html"] ?? null },
  { path: "/data.json", status: 200, body: FILES["data.json"] ?? null },
  { path: "/missing.txt", status: 404, body: null },
  { path: "/big.bin", status: 200, body: FILES["big.bin"] ?? null },
];

/** mulberry32: a seeded generator, so a failing run's request mix can be replayed. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One keep-alive connection that writes a batch of 1..4 pipelined GETs, waits for all their
 * answers, and writes the next batch at once, until the server says Connection: close or closes.
 * Responses are framed by Content-Length as they arrive (each byte is concatenated once) and every
 * complete one is checked whole by parseResponses against the file it asked for.
 */
class LoadClient {
  readonly socket: Socket;
  /** Requests whose bytes the kernel took (write callback without error). */
  written = 0;
  /** Complete, correct responses. */
  answered = 0;
  answeredBeforeSignal = 0;
  /** Responses that said Connection: close. */
  closeResponses = 0;
  /** Protocol mistakes: wrong status or body, bytes after Connection: close, malformed bytes. */
  readonly problems: string[] = [];
  /** Received bytes that never formed a complete response when the connection ended. */
  truncatedBytes = 0;
  /** Requests without an answer when the connection ended. */
  unanswered = 0;
  endedByServer = false;
  reset = false;
  closedAtMs = 0;
  readonly closed: Promise<void>;
  private readonly random: () => number;
  private readonly outstanding: Target[] = [];
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Bytes of the response being received, once its head is known; -1 before. */
  private neededBytes = -1;
  private sawClose = false;
  private signalled = false;

  constructor(
    readonly id: number,
    port: number,
  ) {
    this.random = createRandom(0xbe47 + id);
    this.socket = connect({ port, host: "127.0.0.1" });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => {
      this.endedByServer = true;
    });
    this.socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") this.reset = true;
      else this.problems.push(`socket error ${error.code ?? error.message}`);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on("close", () => {
        this.closedAtMs = performance.now();
        this.truncatedBytes = this.bufferedBytes;
        this.unanswered = this.outstanding.length;
        resolve();
      });
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.socket.connecting) {
        resolve();
        return;
      }
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
  }

  start(): void {
    this.writeBatch();
  }

  /** From now on, answers count as after the signal. */
  markSignal(): void {
    this.signalled = true;
  }

  private writeBatch(): void {
    if (this.sawClose || this.socket.destroyed || this.socket.writableEnded) return;
    const depth = 1 + Math.floor(this.random() * MAX_PIPELINE_DEPTH);
    let text = "";
    for (let i = 0; i < depth; i++) {
      const target = TARGETS[Math.floor(this.random() * TARGETS.length)] ?? TARGETS[0];
      if (target === undefined) throw new Error("TARGETS is empty");
      this.outstanding.push(target);
      text += `GET ${target.path} HTTP/1.1\r\nHost: load\r\n\r\n`;
    }
    this.socket.write(Buffer.from(text, "latin1"), (error) => {
      if (!error) this.written += depth;
    });
  }

  private onData(chunk: Buffer): void {
    if (this.sawClose) {
      this.problems.push(`${chunk.length} bytes after a Connection: close response`);
      return;
    }
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    try {
      while (this.takeResponse()) {}
    } catch (error) {
      this.problems.push((error as Error).message);
      this.socket.destroy();
      return;
    }
    if (this.outstanding.length === 0 && !this.sawClose) this.writeBatch();
  }

  /** Takes one complete response off the buffer, if there is one; false when more is needed. */
  private takeResponse(): boolean {
    if (this.bufferedBytes === 0) return false;
    if (this.neededBytes === -1) {
      const buffered = this.joinChunks();
      const headEnd = buffered.indexOf("\r\n\r\n");
      if (headEnd === -1) return false;
      const head = buffered.toString("latin1", 0, headEnd);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
      if (length === undefined) throw new Error(`response without Content-Length: ${head}`);
      this.neededBytes = headEnd + 4 + Number(length);
    }
    if (this.bufferedBytes < this.neededBytes) return false;
    const buffered = this.joinChunks();
    const raw = buffered.subarray(0, this.neededBytes);
    const rest = buffered.subarray(this.neededBytes);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.bufferedBytes = rest.length;
    this.neededBytes = -1;
    this.check(raw);
    return true;
  }

  private joinChunks(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private check(raw: Buffer): void {
    const target = this.outstanding.shift();
    if (target === undefined) {
      throw new Error(`connection ${this.id}: a response nobody asked for: ${showBytes(raw)}`);
    }
    const { responses, rest } = parseResponses(raw, ["GET"]);
    const [response] = responses;
    if (response === undefined || rest.length > 0) {
      throw new Error(`connection ${this.id}: GET ${target.path}: unparseable ${showBytes(raw)}`);
    }
    const bodyOk = target.body === null || response.body.equals(target.body);
    if (response.status !== target.status || !bodyOk) {
      this.problems.push(
        `GET ${target.path} = ${response.status} with ${response.body.length} body bytes` +
          `${bodyOk ? "" : " (wrong bytes)"}, want ${target.status}`,
      );
    }
    this.answered++;
    if (!this.signalled) this.answeredBeforeSignal++;
    const connection = response.header("connection");
    if (connection === "close") {
      this.closeResponses++;
      this.sawClose = true;
    } else if (connection !== undefined) {
      this.problems.push(`GET ${target.path}: Connection: ${connection}`);
    }
  }
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Compares in 64 KiB steps with memcmp: 32 MiB byte by byte in JS would take ~0.3 s. */
function isAllZeros(bytes: Buffer): boolean {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const part = bytes.subarray(at, at + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * GET /anchor.bin and GET /alpha.txt pipelined; stops reading after ANCHOR_PAUSE_AFTER_BYTES of
 * the first body until resume(). The big body is counted (and checked to be zeros), not kept.
 */
class InFlightAnchor {
  readonly socket: Socket;
  bigHead = "";
  bigLength = -1;
  bigBodyBytes = 0;
  bigNonZero = false;
  endedByServer = false;
  reset = false;
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private tail: Buffer[] = [];
  private resumed = false;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1" });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("end", () => {
      this.endedByServer = true;
    });
    this.socket.on("error", () => {
      this.reset = true;
    });
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.socket.write(
      "GET /anchor.bin HTTP/1.1\r\nHost: load\r\n\r\nGET /alpha.txt HTTP/1.1\r\nHost: load\r\n\r\n",
    );
  }

  get isMidStream(): boolean {
    return this.bigBodyBytes >= ANCHOR_PAUSE_AFTER_BYTES && this.bigBodyBytes < this.bigLength;
  }

  resume(): void {
    this.resumed = true;
    this.socket.resume();
  }

  /** The bytes after the big response: the answer to GET /alpha.txt. */
  get tailBytes(): Buffer {
    return Buffer.concat(this.tail);
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    if (this.bigLength === -1) {
      this.pending = Buffer.concat([this.pending, data]);
      const headEnd = this.pending.indexOf("\r\n\r\n");
      if (headEnd === -1) return;
      this.bigHead = this.pending.toString("latin1", 0, headEnd + 4);
      this.bigLength = Number(/\r\ncontent-length: *(\d+)/i.exec(this.bigHead)?.[1] ?? 0);
      data = this.pending.subarray(headEnd + 4);
      this.pending = Buffer.alloc(0);
    }
    const take = Math.min(data.length, this.bigLength - this.bigBodyBytes);
    if (take > 0) {
      if (!this.bigNonZero && !isAllZeros(data.subarray(0, take))) this.bigNonZero = true;
      this.bigBodyBytes += take;
    }
    if (take < data.length) this.tail.push(data.subarray(take));
    if (!this.resumed && this.bigBodyBytes >= ANCHOR_PAUSE_AFTER_BYTES) this.socket.pause();
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One Common Log Format line per answered request: host - - [date] "request" status bytes. */
const ACCESS_LINE = /^\S+ - - \[[^\]]+\] "[^"]*" \d{3} (?:\d+|-)$/gm;

let root = "";

before(async () => {
  root = await makeTempDir("berth-shutdown-load-");
  await writeTree(root, FILES);
  await writeFile(join(root, "anchor.bin"), "");
  await truncate(join(root, "anchor.bin"), ANCHOR_FILE_BYTES); // sparse: no disk used
});

after(async () => {
  await removeTempDir(root);
});

test(`SIGTERM under load (${CONNECTIONS} keep-alive connections pipelining 1..${MAX_PIPELINE_DEPTH}): every answer logged is received whole, exit 0`, async (t) => {
  const cli = startCli(["serve", root, "--host", "127.0.0.1", "--port", "0"]);
  t.after(() => cli.kill());
  const [url] = await cli.waitForUrls(1);
  const port = Number(url?.port);

  const clients = Array.from({ length: CONNECTIONS }, (_, id) => new LoadClient(id, port));
  const anchor = new InFlightAnchor(port);
  t.after(() => {
    for (const client of clients) client.socket.destroy();
    anchor.socket.destroy();
  });
  await withTimeout(
    Promise.all(clients.map((client) => client.connected())),
    WAIT_MS,
    () => `${CONNECTIONS} connections`,
  );
  for (const client of clients) client.start();
  // ~700 ms of load; on a machine busy with other tests, longer, until every connection has had
  // an answer (the signal must meet load on all of them).
  await delay(LOAD_MS);
  const loaded = await pollUntil(
    () => clients.every((c) => c.answered > 0) && anchor.isMidStream,
    WAIT_MS,
  );
  assert.ok(
    loaded,
    `after ${LOAD_MS + WAIT_MS} ms of load, connections without an answer: ` +
      `${clients.filter((c) => c.answered === 0).map((c) => c.id)}; anchor at ` +
      `${anchor.bigBodyBytes} of ${anchor.bigLength} body bytes`,
  );

  const sum = (field: (client: LoadClient) => number): number =>
    clients.reduce((total, client) => total + field(client), 0);
  for (const client of clients) client.markSignal();
  const signalledMs = performance.now();
  const writtenBeforeSignal = sum((c) => c.written);
  cli.signal("SIGTERM");

  const refusedMs = await waitUntilRefused(port, REFUSED_WITHIN_MS, signalledMs);
  // berth has seen the signal (it says so before it stops listening): the anchor may go on.
  await cli.waitForOutput("stderr", /\bSIGTERM\b/);
  assert.equal(cli.exit, null, `exited with the anchor's response in flight: ${cli.describe()}`);
  anchor.resume();
  const exit = await cli.waitForExit(WAIT_MS);
  const exitMs = performance.now() - signalledMs;
  await withTimeout(
    Promise.all([...clients.map((client) => client.closed), anchor.closed]),
    WAIT_MS,
    () => `every connection to close (${clients.filter((c) => c.closedAtMs === 0).length} open)`,
  );
  const lastCloseMs = Math.max(...clients.map((c) => c.closedAtMs)) - signalledMs;

  const logLines = cli.stdout.match(ACCESS_LINE)?.length ?? 0;
  const anchorTail = parseResponses(anchor.tailBytes, ["GET"]);
  const answered =
    sum((c) => c.answered) +
    (anchor.bigBodyBytes === anchor.bigLength ? 1 : 0) +
    anchorTail.responses.length;
  const figures =
    `requests written ${sum((c) => c.written)} (${writtenBeforeSignal} before SIGTERM), ` +
    `answered ${answered} (${answered - sum((c) => c.answeredBeforeSignal)} after SIGTERM, ` +
    `${sum((c) => c.closeResponses)} with Connection: close), access log lines ${logLines}, ` +
    `unanswered ${sum((c) => c.unanswered)}; refused after ${Math.round(refusedMs)} ms, ` +
    `last connection closed after ${Math.round(lastCloseMs)} ms, exit after ${Math.round(exitMs)} ms`;
  t.diagnostic(figures);

  assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
  assert.ok(
    exitMs <= EXIT_WITHIN_MS,
    `exited ${Math.round(exitMs)} ms after SIGTERM, want ≤ ${EXIT_WITHIN_MS}; ${figures}`,
  );
  const problems = clients.flatMap((c) => c.problems.map((p) => `connection ${c.id}: ${p}`));
  assert.deepEqual(problems, [], figures);
  const truncated = clients
    .filter((c) => c.truncatedBytes > 0)
    .map((c) => `connection ${c.id}: ${c.truncatedBytes} bytes of an unfinished response`);
  assert.deepEqual(truncated, [], figures);
  const notEnded = clients
    .filter((c) => !c.endedByServer || c.reset)
    .map((c) => `connection ${c.id}: ${c.reset ? "reset" : "no FIN from the server"}`);
  assert.deepEqual(notEnded, [], `each connection must end with berth's FIN; ${figures}`);
  assert.equal(answered, logLines, `complete responses vs access log lines; ${figures}`);

  // The anchor: the response in flight at the signal finished whole, the request behind it was
  // answered with Connection: close, then berth closed the connection.
  const [alpha] = anchorTail.responses;
  const anchorOutcome =
    `${anchor.bigHead.split("\r\n", 1)[0]}, Connection: ` +
    `${/\r\nconnection: *(\S+)/i.exec(anchor.bigHead)?.[1] ?? "-"}, ` +
    `${anchor.bigBodyBytes} of ${anchor.bigLength} bytes${anchor.bigNonZero ? " (not zeros)" : ""}; ` +
    `then ${alpha?.status ?? "nothing"} ${JSON.stringify(alpha?.body.toString("latin1") ?? "")} ` +
    `Connection: ${alpha?.header("connection") ?? "-"}, ${anchorTail.rest.length} stray bytes; ` +
    `${anchor.reset ? "reset" : anchor.endedByServer ? "closed by berth" : "not closed"}`;
  assert.equal(
    anchorOutcome,
    `HTTP/1.1 200 OK, Connection: -, ${ANCHOR_FILE_BYTES} of ${ANCHOR_FILE_BYTES} bytes; ` +
      `then 200 "alpha\\n" Connection: close, 0 stray bytes; closed by berth`,
    `the pipelined pair in flight at SIGTERM; ${figures}`,
  );
});
