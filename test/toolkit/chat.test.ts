/**
 * `berth chat` over real sockets on loopback: a chat server in this process (port 0) and plain
 * line clients that read exactly what the server sends (every line must end in CRLF), then the
 * CLI as a child process. Every wait is bounded.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { CHAT_USAGE } from "../../src/cli/chat.js";
import type { BoundAddress } from "../../src/net/listen.js";
import type { Logger } from "../../src/server/connection.js";
import {
  type ChatServer,
  type ChatServerOptions,
  createChatServer,
} from "../../src/toolkit/chat-server.js";
import { chunkings } from "../helpers/chunkings.js";
import {
  type CliProcess,
  hasIpv6Loopback,
  killAllCliProcesses,
  runCli,
  startCli,
} from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

/** How long any single wait for a line or a close may take. */
const WAIT_MS = 3000;

// ---------------------------------------------------------------------------------------------
// A line client

type Target = { readonly host: string; readonly port: number } | { readonly path: string };

const openClients = new Set<LineClient>();

class LineClient {
  /** Every complete line received, decoded as UTF-8, terminator removed. */
  readonly lines: string[] = [];
  /** The same lines as the bytes that came over the wire. */
  readonly rawLines: Buffer[] = [];
  private pending = Buffer.alloc(0);
  private readCount = 0;
  private closed = false;
  private readonly watchers = new Set<() => void>();

  private constructor(readonly socket: Socket) {
    openClients.add(this);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      openClients.delete(this);
      this.notify();
    });
  }

  static open(target: Target): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = "path" in target ? connect(target.path) : connect(target.port, target.host);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.setNoDelay?.(true);
        resolve(new LineClient(socket));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Lines received and not yet taken by next(). */
  get unread(): string[] {
    return this.lines.slice(this.readCount);
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** The next line not yet taken. */
  next(timeoutMs = WAIT_MS): Promise<string> {
    return this.waitFor("a line", timeoutMs, () => {
      if (this.readCount >= this.lines.length) return undefined;
      return this.lines[this.readCount++];
    });
  }

  /** Takes lines in order; they must be exactly `want`. */
  async expect(want: readonly string[], what: string): Promise<void> {
    const got: string[] = [];
    for (const _ of want) got.push(await this.next());
    assert.deepEqual(got, want, what);
  }

  /** Resolves when the server has closed the connection (and everything before was read). */
  waitForClose(timeoutMs = WAIT_MS): Promise<true> {
    return this.waitFor("the close", timeoutMs, () => (this.closed ? true : undefined));
  }

  /** Waits until `check` holds for the lines received so far. */
  waitUntil(what: string, check: (lines: readonly string[]) => boolean, timeoutMs = WAIT_MS) {
    return this.waitFor(what, timeoutMs, () => (check(this.lines) ? true : undefined));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads and drops everything from now on (a flood would otherwise pile up here). */
  discardIncoming(): void {
    this.socket.removeAllListeners("data");
    this.socket.on("data", () => {});
  }

  private onData(chunk: Buffer): void {
    let data = Buffer.concat([this.pending, chunk]);
    for (let lf = data.indexOf(0x0a); lf !== -1; lf = data.indexOf(0x0a)) {
      const line = data.subarray(0, lf + 1);
      // The server promises CRLF on every line; a bare LF shows up as a line that fails tests.
      const ok = lf > 0 && data[lf - 1] === 0x0d;
      this.rawLines.push(line);
      this.lines.push(ok ? line.subarray(0, -2).toString("utf8") : `BARE LF: ${line.toString()}`);
      data = data.subarray(lf + 1);
    }
    this.pending = Buffer.from(data);
    this.notify();
  }

  private notify(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  private waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (value: T | undefined, error?: Error): void => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
        if (error !== undefined) reject(error);
        else resolve(value as T);
      };
      const watcher = (): void => {
        const value = check();
        if (value !== undefined) settle(value);
        else if (this.closed) settle(undefined, new Error(`closed before ${what}: ${this.show()}`));
      };
      const timer = setTimeout(
        () => settle(undefined, new Error(`timed out waiting for ${what}: ${this.show()}`)),
        timeoutMs,
      );
      this.watchers.add(watcher);
      watcher();
    });
  }

  private show(): string {
    const shown = this.lines.slice(-10).map((line) => JSON.stringify(line.slice(0, 100)));
    return `${this.lines.length} lines, ${this.readCount} taken, last: ${shown.join(" | ")}`;
  }
}

afterEach(() => {
  for (const client of openClients) client.destroy();
});

// ---------------------------------------------------------------------------------------------
// Servers and members

interface TestServer {
  readonly server: ChatServer;
  readonly target: Target;
  readonly info: string[];
  readonly warnings: string[];
}

const openServers = new Set<ChatServer>();

afterEach(async () => {
  for (const server of openServers) await server.close();
  openServers.clear();
});

async function startServer(options: ChatServerOptions = {}): Promise<TestServer> {
  const info: string[] = [];
  const warnings: string[] = [];
  const log: Logger = { access: (line) => info.push(line), error: (line) => warnings.push(line) };
  const server = createChatServer({
    listen: [{ kind: "tcp", hosts: ["127.0.0.1"], port: 0 }],
    log,
    ...options,
  });
  openServers.add(server);
  const [address] = await server.listen();
  return { server, target: targetOf(address), info, warnings };
}

function targetOf(address: BoundAddress | undefined): Target {
  assert.ok(address !== undefined, "no address bound");
  return address.kind === "unix"
    ? { path: address.path }
    : { host: address.host, port: address.port };
}

/** The address a `berth chat --listen 127.0.0.1:0` child process printed. */
async function cliTarget(cli: CliProcess): Promise<Target> {
  const match = await cli.waitForOutput("stdout", /^berth: chat on 127\.0\.0\.1:(\d+)$/m);
  return { host: "127.0.0.1", port: Number(match[1]) };
}

const COMMANDS_LINE =
  "* commands: /nick NAME, /who, /quit; start a line with // to send one beginning with /";
const WELCOME = /^\* welcome to berth chat; you are (\S+) \(/;

interface Member {
  readonly client: LineClient;
  readonly name: string;
}

/** Connects and reads the two welcome lines. */
async function joinRoom(target: Target): Promise<Member> {
  const client = await LineClient.open(target);
  const welcome = await client.next();
  const name = WELCOME.exec(welcome)?.[1];
  assert.ok(name !== undefined, `not a welcome: ${JSON.stringify(welcome)}`);
  assert.equal(await client.next(), COMMANDS_LINE);
  return { client, name };
}

/** Joins `count` members one after another; each earlier one reads the join notice. */
async function joinInTurn(target: Target, count: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const member = await joinRoom(target);
    for (const earlier of members) {
      assert.equal(await earlier.client.next(), `* ${member.name} joined`);
    }
    members.push(member);
  }
  return members;
}

// ---------------------------------------------------------------------------------------------
// The room over TCP

describe("berth chat: the room over real sockets", () => {
  test("three members: joins, messages to the others only, /nick, /who, /quit", async () => {
    const { target, info } = await startServer();
    const [one, two, three] = await joinInTurn(target, 3);
    assert.ok(one && two && three);
    assert.deepEqual(
      [one.name, two.name, three.name],
      ["guest-1", "guest-2", "guest-3"],
      "default names",
    );

    await one.client.send("hello, room\r\n");
    await two.client.expect(["guest-1: hello, room"], "guest-2 gets guest-1's line");
    await three.client.expect(["guest-1: hello, room"], "guest-3 gets guest-1's line");

    await two.client.send("/nick bob\n"); // LF alone is a line end too
    await two.client.expect(["* you are now bob"], "the renamed member");
    // guest-1's next line is the rename: its own "hello" never came back to it.
    await one.client.expect(["* guest-2 is now bob"], "guest-1 sees the rename, not its own line");
    await three.client.expect(["* guest-2 is now bob"], "guest-3 sees the rename");

    await three.client.send("/who\r\n/nick BOB\r\n/dance\r\n");
    await three.client.expect(
      [
        "* 3 here: guest-1, bob, guest-3 (you)",
        "! BOB is taken; pick another name",
        "! unknown command /dance; commands: /nick NAME, /who, /quit",
      ],
      "/who, a taken name and an unknown command, answered to the sender",
    );

    await two.client.send("/quit\r\n");
    await two.client.expect(["* bye"], "the member quitting");
    await two.client.waitForClose();
    await one.client.expect(["* bob left"], "guest-1 sees bob leave");
    await three.client.expect(["* bob left"], "guest-3 sees bob leave");
    // Errors and commands went to guest-3 alone; nothing else is waiting anywhere.
    await delay(50);
    assert.deepEqual([one.client.unread, three.client.unread], [[], []], "nothing else sent");
    assert.deepEqual(
      info.map((line) => line.replace(/^127\.0\.0\.1:\d+ /, "")),
      ["guest-1 joined", "guest-2 joined", "guest-3 joined", "guest-2 is now bob", "bob left"],
      "the activity log (never what members say)",
    );
  });

  test("a line split at every byte position arrives whole", async () => {
    const { target } = await startServer();
    const [sender, receiver] = await joinInTurn(target, 2);
    assert.ok(sender && receiver);
    // Two- and four-byte UTF-8, a CRLF to split between CR and LF, and a command behind it.
    const input = Buffer.from("héllo 𝄞!\r\n/who\r\n", "utf8");
    for (const { name, chunks } of chunkings(input)) {
      for (const chunk of chunks) {
        await sender.client.send(chunk);
        // Let the bytes go out alone: the server reads them in as many pieces as we can manage.
        await delay(1);
      }
      await receiver.client.expect(["guest-1: héllo 𝄞!"], `${name}: the receiver`);
      await sender.client.expect(["* 2 here: guest-1 (you), guest-2"], `${name}: the sender`);
    }
  });

  test("30 members send 5 lines each at once: everyone gets every other line once, in order", async () => {
    const members = 30;
    const perMember = 5;
    const { target, server } = await startServer();
    const joined = await Promise.all(Array.from({ length: members }, () => joinRoom(target)));
    assert.equal(server.memberCount, members);
    await Promise.all(
      joined.map(async ({ client, name }) => {
        for (let k = 0; k < perMember; k++) await client.send(`${name} says ${k}\r\n`);
      }),
    );
    const isMessage = (line: string): boolean => /^guest-\d+: /.test(line);
    const wantCount = (members - 1) * perMember;
    await Promise.all(
      joined.map(({ client, name }) =>
        client.waitUntil(
          `${wantCount} messages at ${name}`,
          (lines) => lines.filter(isMessage).length >= wantCount,
        ),
      ),
    );
    await delay(50); // anything extra (a duplicate) would arrive by now
    for (const { client, name } of joined) {
      const bySender = new Map<string, string[]>();
      for (const line of client.lines.filter(isMessage)) {
        const [sender = "", text = ""] = line.split(": ");
        bySender.set(sender, [...(bySender.get(sender) ?? []), text]);
      }
      assert.equal(bySender.has(name), false, `${name} got its own lines back`);
      assert.equal(bySender.size, members - 1, `${name}: senders heard`);
      for (const [sender, texts] of bySender) {
        const want = Array.from({ length: perMember }, (_, k) => `${sender} says ${k}`);
        assert.deepEqual(texts, want, `${name}: the lines of ${sender}`);
      }
    }
  });

  test("a full room answers one polite line and closes; the members are not disturbed", async () => {
    const { target, warnings } = await startServer({ maxClients: 2 });
    const [one, two] = await joinInTurn(target, 2);
    assert.ok(one && two);
    const third = await LineClient.open(target);
    await third.expect(["* the room is full (2 members); try again later"], "turned away");
    await third.waitForClose();
    await one.client.send("still two of us\r\n");
    await two.client.expect(["guest-1: still two of us"], "no join or leave notice came first");
    assert.deepEqual(warnings, ["the room is full (2 members): turning connections away"]);
    // The place is free again once a member leaves.
    await two.client.send("/quit\r\n");
    await one.client.expect(["* guest-2 left"], "the leave");
    // The connection turned away took no guest number.
    const fourth = await joinRoom(target);
    assert.equal(fourth.name, "guest-3");
  });

  test("a member that stops reading is dropped; an active one keeps receiving promptly", async (t) => {
    // The server runs in a process of its own, as in use: in this one it would share an event
    // loop with the flood and the readers it is judged against.
    const cli = startCli(["chat", "--listen", "127.0.0.1:0", "--max-queue-bytes", "65536"]);
    t.after(() => cli.kill());
    const target = await cliTarget(cli);
    const [slow, active, flooder, pinger] = await joinInTurn(target, 4);
    assert.ok(slow && active && flooder && pinger);
    slow.client.socket.pause();
    flooder.client.discardIncoming();
    pinger.client.discardIncoming();

    // The flooder writes as fast as its socket takes it, until the slow member is gone and for
    // 300 ms more; the pinger sends a numbered line every 20 ms throughout. The active member
    // must get every ping within 500 ms, and every flood line.
    const floodLine = `${"x".repeat(1000)}\r\n`;
    const floodLimitBytes = 256 * 1024 * 1024;
    let floodLines = 0;
    let stop = false;
    const flood = (async () => {
      const batch = floodLine.repeat(64);
      while (!stop && floodLines * floodLine.length < floodLimitBytes) {
        await flooder.client.send(batch);
        floodLines += 64;
        // About 10 MB/s: far more than anyone types, and well within what the active member,
        // in this busy process, reads. Faster, it would fall behind too and be rightly dropped.
        await delay(5);
      }
      await flooder.client.send("done\r\n");
    })();
    const sentAtMs: number[] = [];
    const latenciesMs: number[] = [];
    let floodLinesReceived = 0;
    let droppedAfterLines = 0;
    let onFloodDone = (): void => {};
    const floodDone = new Promise<void>((resolve) => {
      onFloodDone = resolve;
    });
    // Counted as they come, not kept: the flood is megabytes.
    active.client.socket.on("data", () => {
      for (const line of active.client.lines.splice(0)) {
        const ping = /^guest-4: ping (\d+)$/.exec(line);
        const sentMs = sentAtMs[Number(ping?.[1])];
        if (sentMs !== undefined) latenciesMs.push(performance.now() - sentMs);
        else if (line.startsWith("guest-3: x")) floodLinesReceived++;
        else if (line === "guest-3: done") onFloodDone();
        else if (line === `* ${slow.name} left`) {
          droppedAfterLines = floodLinesReceived;
          setTimeout(() => (stop = true), 300);
        }
      }
    });
    const pings = (async () => {
      for (let n = 0; !stop; n++) {
        sentAtMs[n] = performance.now();
        await pinger.client.send(`ping ${n}\r\n`);
        await delay(20);
      }
    })();
    const deadline = setTimeout(() => {
      stop = true;
    }, 6000);
    await Promise.all([flood, pings]);
    clearTimeout(deadline);
    await Promise.race([floodDone, delay(WAIT_MS, undefined, { ref: false })]);

    const report =
      `${floodLines} flood lines of ${floodLine.length} bytes sent, ${floodLinesReceived} ` +
      `received (the slow member dropped after ${droppedAfterLines}); ${latenciesMs.length} pings, worst ${Math.max(...latenciesMs).toFixed(1)} ms`;
    t.diagnostic(report);
    assert.match(
      cli.stderr,
      new RegExp(`${slow.name} stopped reading`),
      `${report}; ${cli.describe()}`,
    );
    assert.deepEqual(
      cli.stderr.match(/guest-\d+ stopped reading/g),
      [`${slow.name} stopped reading`],
      `only the slow member is dropped; ${report}`,
    );
    assert.equal(
      floodLinesReceived,
      floodLines,
      `every flood line reached the active member; ${report}`,
    );
    assert.ok(latenciesMs.length >= 10, `too few pings; ${report}`);
    assert.ok(Math.max(...latenciesMs) < 500, `a ping was late; ${report}`);
    // The slow one's connection is gone: resuming shows the close (a reset, or the end).
    slow.client.socket.resume();
    await slow.client.waitForClose();
  });

  test("control characters and escapes from a member are neutralised for the others", async () => {
    const { target } = await startServer();
    const [sender, receiver] = await joinInTurn(target, 2);
    assert.ok(sender && receiver);
    const hostile = Buffer.concat([
      Buffer.from("\x1b[2J\x1b]0;owned\x07 \rguest-9: fake\x00\x7f ", "latin1"),
      Buffer.from([0xc2, 0x9b, 0x33, 0x31, 0x6d, 0x20, 0xff, 0xc3]), // C1 CSI "31m", invalid UTF-8
      Buffer.from("\ttab ok\r\n", "latin1"),
    ]);
    await sender.client.send(hostile);
    const line = await receiver.client.next();
    assert.equal(
      line,
      "guest-1: \ufffd[2J\ufffd]0;owned\ufffd \ufffdguest-9: fake\ufffd\ufffd \ufffd31m \ufffd\ufffd\ttab ok",
    );
    const raw = receiver.client.rawLines.at(-1) ?? Buffer.alloc(0);
    const controls = [...raw.subarray(0, -2)].filter(
      (byte) => (byte < 0x20 && byte !== 0x09) || byte === 0x7f,
    );
    assert.deepEqual(controls, [], "control bytes in what the receiver's terminal gets");
  });

  test("a line over --max-line-bytes: an error, then the connection closes", async () => {
    const { target, warnings } = await startServer({ maxLineBytes: 16 });
    const [sender, receiver] = await joinInTurn(target, 2);
    assert.ok(sender && receiver);
    await sender.client.send(`${"a".repeat(16)}\r\n`);
    await receiver.client.expect([`guest-1: ${"a".repeat(16)}`], "16 bytes is within the limit");
    await sender.client.send(`${"b".repeat(17)}\r\n`);
    await sender.client.expect(["! line too long (over 16 bytes); disconnecting"], "the sender");
    await sender.client.waitForClose();
    await receiver.client.expect(["* guest-1 left"], "the others");
    assert.match(warnings.join("\n"), /guest-1 sent a line over 16 bytes/);
  });

  test("EOF: an unterminated last line is delivered, then the member leaves", async () => {
    const { target } = await startServer();
    const [sender, receiver] = await joinInTurn(target, 2);
    assert.ok(sender && receiver);
    sender.client.socket.end("see you");
    await receiver.client.expect(["guest-1: see you", "* guest-1 left"], "the receiver");
    await sender.client.waitForClose();
  });

  test("close(): everyone is told, every connection ends, close() resolves", async () => {
    const { target, server } = await startServer();
    const members = await joinInTurn(target, 2);
    const startMs = performance.now();
    await server.close();
    for (const { client } of members) {
      await client.expect(["* server shutting down"], "shutdown notice");
      await client.waitForClose();
    }
    assert.ok(performance.now() - startMs < 1000, "close() waited for nothing");
    await assert.rejects(LineClient.open(target), /ECONNREFUSED/);
  });

  test("an IPv6 loopback room ([::1])", async (t) => {
    if (!(await hasIpv6Loopback())) {
      t.skip("this machine has no IPv6 loopback");
      return;
    }
    const { target } = await startServer({ listen: [{ kind: "tcp", hosts: ["::1"], port: 0 }] });
    assert.equal((target as { host?: string }).host, "::1");
    const [one, two] = await joinInTurn(target, 2);
    assert.ok(one && two);
    await one.client.send("over IPv6\n");
    await two.client.expect(["guest-1: over IPv6"], "the other member");
  });

  test("a Unix socket room", async () => {
    const dir = await makeTempDir("berth-chat-");
    try {
      const path = join(dir, "chat.sock");
      const { target, server } = await startServer({ listen: [{ kind: "unix", path }] });
      const [one, two] = await joinInTurn(target, 2);
      assert.ok(one && two);
      await one.client.send("over a unix socket\n");
      await two.client.expect(["guest-1: over a unix socket"], "the other member");
      await server.close();
      assert.equal(existsSync(path), false, "the socket file is removed on close");
    } finally {
      await removeTempDir(dir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI

const EVERY_FLAG = [
  "--listen",
  "--socket-mode",
  "--max-clients",
  "--max-line-bytes",
  "--max-queue-bytes",
  "--quiet",
  "--trace",
  "--help",
];

// Each test runs its own process and no line client: they can run side by side.
describe("berth chat: the command line", { concurrency: true }, () => {
  test("--help documents every flag", async () => {
    const run = await runCli(["chat", "--help"]);
    assert.equal(run.code, 0, run.cli.describe());
    assert.ok(run.stdout.startsWith(`${CHAT_USAGE}\n`), run.stdout);
    for (const flag of EVERY_FLAG) assert.ok(run.stdout.includes(flag), `--help lacks ${flag}`);
  });

  // biome-ignore format: one row per line
  const badFlags: readonly { args: readonly string[]; message: RegExp }[] = [
    { args: ["--bogus"], message: /^berth: Unknown option '--bogus'/ },
    { args: ["--max-clients", "0"], message: /^berth: --max-clients must be between 1 and \d+, got 0$/ },
    { args: ["--max-queue-bytes", "lots"], message: /^berth: --max-queue-bytes expects a whole number, got "lots"$/ },
    { args: ["--listen", "localhost"], message: /^berth: --listen localhost: the port must be a number/ },
    { args: ["--socket-mode", "rw"], message: /^berth: --socket-mode expects octal permission bits/ },
    { args: ["room"], message: /^berth: berth chat takes no arguments, got "room"$/ },
  ];
  for (const { args, message } of badFlags) {
    test(`berth chat ${args.join(" ")} → usage error, exit 2`, async () => {
      const run = await runCli(["chat", ...args]);
      assert.equal(run.code, 2, run.cli.describe());
      const [first = "", second, ...rest] = run.stderr.split("\n");
      assert.match(first, message);
      assert.deepEqual([second, rest], [CHAT_USAGE, [""]], run.stderr);
    });
  }

  test("an address in use: one line, exit 1", async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = holder.address() as { port: number };
      const run = await runCli(["chat", "--listen", `127.0.0.1:${port}`]);
      assert.equal(run.code, 1, run.cli.describe());
      assert.match(run.stderr, /^berth: Cannot listen on 127\.0\.0\.1:\d+: address already in use/);
      assert.equal(run.stderr.split("\n").length, 2, run.stderr);
    } finally {
      holder.close();
    }
  });
});

// Uses line clients, which the afterEach hooks above destroy: not beside other tests.
describe("berth chat: a session with the command", () => {
  test("start-up line, a chat, SIGTERM tells everyone and exits 0", async (t) => {
    const cli = startCli(["chat", "--listen", "127.0.0.1:0"]);
    t.after(() => cli.kill());
    const target = await cliTarget(cli);
    const [one, two] = await joinInTurn(target, 2);
    assert.ok(one && two);
    await one.client.send("hi from the CLI\r\n");
    await two.client.expect(["guest-1: hi from the CLI"], "the other member");
    await cli.waitForOutput("stdout", /guest-2 joined$/m);
    const exit = await cli.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
    for (const { client } of [one, two]) {
      await client.expect(["* server shutting down"], "shutdown notice");
      await client.waitForClose();
    }
    assert.doesNotMatch(cli.stdout, /hi from the CLI/, "messages are never logged");
  });
});
