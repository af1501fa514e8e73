/**
 * `berth echo` end to end: the spawned CLI prints one line per address, echoes, logs connections
 * (unless --quiet), exits 0 on SIGTERM; --help describes every flag; bad flags are one line plus
 * the echo usage line, exit 2; addresses that cannot be bound are one line, exit 1.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { after, describe, test } from "node:test";
import {
  type CliProcess,
  defaultLoopbackHosts,
  killAllCliProcesses,
  runCli,
  startCli,
} from "../helpers/cli-process.js";

after(killAllCliProcesses);

const ECHO_USAGE_LINE = /^Usage: berth echo \[--listen ADDR \.\.\.\] /;
const STACK_FRAME = /^ {4}at /m;
const LISTENING = /^berth: echo \((tcp|unix|udp)(?:, (raw|line|length))?\) on (\S+)$/gm;

function start(args: readonly string[]): CliProcess {
  return startCli(["echo", ...args]);
}

/** The "berth: echo (...) on ADDR" lines, once `count` are printed. */
async function listeningLines(cli: CliProcess, count: number): Promise<string[]> {
  const pattern = new RegExp(`(?:${LISTENING.source}\\n){${count}}`, "m");
  await cli.waitForOutput("stdout", pattern);
  return [...cli.stdout.matchAll(LISTENING)].map((match) => match[0]);
}

function portOf(line: string): number {
  return Number(/:(\d+)$/.exec(line)?.[1]);
}

/** Sends `text` on a fresh TCP connection, half-closes and returns everything echoed. */
function tcpExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      reply += chunk;
    });
    socket.on("end", () => resolve(reply));
    socket.on("error", reject);
    socket.setTimeout(3000, () =>
      socket.destroy(new Error(`no EOF; got ${JSON.stringify(reply)}`)),
    );
    socket.end(text, "latin1");
  });
}

describe("berth echo, running", () => {
  test("--framing line: echoes lines, logs the connection, exits 0 on SIGTERM", async (t) => {
    const cli = start(["--listen", "127.0.0.1:0", "--framing", "line"]);
    t.after(() => cli.kill());
    const [line = ""] = await listeningLines(cli, 1);
    assert.match(line, /^berth: echo \(tcp, line\) on 127\.0\.0\.1:\d+$/);
    const sent = "hello\r\nworld\nno end";
    const reply = await tcpExchange(portOf(line), sent);
    assert.equal(JSON.stringify(reply), JSON.stringify(sent));
    const counts = `${sent.length} bytes in, ${sent.length} bytes echoed`;
    await cli.waitForOutput(
      "stdout",
      new RegExp(`^#1 127\\.0\\.0\\.1:\\d+ closed: ${counts}$`, "m"),
    );
    assert.match(cli.stdout, /^#1 127\.0\.0\.1:\d+ open$/m);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
    assert.doesNotMatch(cli.stderr, STACK_FRAME, cli.describe());
  });

  test("--listen PORT listens on the loopback pair", async (t) => {
    const cli = start(["--listen", "0"]);
    t.after(() => cli.kill());
    const hosts = await defaultLoopbackHosts();
    const lines = await listeningLines(cli, hosts.length);
    const port = portOf(lines[0] ?? "");
    assert.deepEqual(
      lines,
      hosts.map((host) => `berth: echo (tcp, raw) on ${host}:${port}`),
    );
    assert.deepEqual(await cli.stop("SIGINT"), { code: 0, signal: null }, cli.describe());
  });

  test("--udp: datagrams come back; --quiet logs nothing", async (t) => {
    const cli = start(["--udp", "--listen", "127.0.0.1:0", "--quiet"]);
    t.after(() => cli.kill());
    const [line = ""] = await listeningLines(cli, 1);
    assert.match(line, /^berth: echo \(udp\) on 127\.0\.0\.1:\d+$/);
    const client = createSocket("udp4");
    t.after(() => client.close());
    const reply = new Promise<string>((resolve) => {
      client.once("message", (message) => resolve(message.toString("latin1")));
    });
    client.send("ping", portOf(line), "127.0.0.1");
    assert.equal(await reply, "ping");
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
    assert.deepEqual(cli.stdout.split("\n").slice(1), [""], "stdout after the listening line");
  });
});

describe("berth echo --help", () => {
  test("describes every flag, exit 0", async () => {
    const run = await runCli(["echo", "--help"]);
    assert.equal(run.code, 0, run.cli.describe());
    assert.match(run.stdout, ECHO_USAGE_LINE);
    for (const flag of [
      "--listen ADDR",
      "--socket-mode MODE",
      "--udp",
      "--framing raw|line|length",
      "--max-line-bytes N",
      "--max-frame-bytes N",
      "--max-clients N",
      "--quiet",
      "--trace",
      "-h, --help",
    ]) {
      assert.match(run.stdout, new RegExp(`^ {2}${flag.replace(/[|.]/g, "\\$&")} `, "m"), flag);
    }
  });
});

interface ErrorRow {
  readonly name: string;
  readonly args: readonly string[];
  /** What the first stderr line must match. */
  readonly message: RegExp;
}

// biome-ignore format: one row per line
const BAD_FLAGS: readonly ErrorRow[] = [
  { name: "unknown flag", args: ["--bogus"], message: /--bogus/ },
  { name: "framing not a choice", args: ["--framing", "json"], message: /^berth: --framing must be one of raw, line, length, got "json"$/ },
  { name: "max-line-bytes zero", args: ["--framing", "line", "--max-line-bytes", "0"], message: /^berth: --max-line-bytes must be between 1 and / },
  { name: "max-line-bytes without line framing", args: ["--max-line-bytes", "10"], message: /^berth: --max-line-bytes applies to --framing line only$/ },
  { name: "max-frame-bytes without length framing", args: ["--framing", "line", "--max-frame-bytes", "10"], message: /^berth: --max-frame-bytes applies to --framing length only$/ },
  { name: "max-clients not a number", args: ["--max-clients", "many"], message: /^berth: --max-clients expects a whole number, got "many"$/ },
  { name: "udp with a unix socket", args: ["--udp", "--listen", "unix:/tmp/berth-echo.sock"], message: /^berth: Cannot listen on unix:\/tmp\/berth-echo\.sock with --udp: UDP needs HOST:PORT/ },
  { name: "udp with framing", args: ["--udp", "--framing", "line"], message: /^berth: --framing does not apply to --udp/ },
  { name: "bad listen address", args: ["--listen", "::1:7007"], message: /^berth: --listen ::1:7007: write IPv6 addresses in brackets/ },
  { name: "socket mode not octal", args: ["--socket-mode", "999"], message: /^berth: --socket-mode expects octal/ },
  { name: "a positional argument", args: ["7007"], message: /^berth: unexpected argument "7007"/ },
];

describe("berth echo: bad flags exit 2 with the usage line", { concurrency: 3 }, () => {
  for (const row of BAD_FLAGS) {
    test(`${row.name}: berth echo ${row.args.join(" ")}`, async () => {
      const run = await runCli(["echo", ...row.args]);
      const call = `berth echo ${row.args.join(" ")}`;
      assert.deepEqual({ code: run.code, stdout: run.stdout }, { code: 2, stdout: "" }, call);
      assert.doesNotMatch(run.stderr, STACK_FRAME, call);
      const [message = "", usage = "", ...rest] = run.stderr.split("\n");
      assert.match(message, row.message, `${call}: first stderr line`);
      assert.match(usage, ECHO_USAGE_LINE, `${call}: second stderr line`);
      assert.deepEqual(rest, [""], `${call}: nothing after the usage line`);
    });
  }
});

describe("berth echo: cannot listen", () => {
  test("UDP port in use: one line, exit 1", async (t) => {
    const holder = createSocket("udp4");
    t.after(() => holder.close());
    const port = await new Promise<number>((resolve) => {
      holder.bind({ address: "127.0.0.1", port: 0 }, () => resolve(holder.address().port));
    });
    const run = await runCli(["echo", "--udp", "--listen", `127.0.0.1:${port}`]);
    assert.equal(run.code, 1, run.cli.describe());
    assert.equal(
      run.stderr,
      `berth: Cannot listen on udp 127.0.0.1:${port}: address already in use (another socket has this UDP port)\n`,
    );
  });
});
