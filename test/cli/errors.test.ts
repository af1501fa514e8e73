/**
 * Start-up errors of `berth serve`: one line on stderr (plus the usage line for a bad flag), never
 * a stack trace, and the exit code README promises (1 for start-up errors, 2 for bad flags).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { after, before, describe, test } from "node:test";
import { killAllCliProcesses, runCli } from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

/** A stack frame as Node prints it. */
const STACK_FRAME = /^ {4}at /m;
const SERVE_USAGE_LINE = /^Usage: berth serve \[DIR\] /;
/** uid and gid of "nobody": a user without the privilege to bind ports below 1024. */
const NOBODY = 65534;

interface ErrorCase {
  readonly name: string;
  readonly args: readonly string[];
  readonly exitCode: number;
  /** What the first stderr line must match. */
  readonly message: RegExp;
  /** A bad flag prints the usage line after the error. */
  readonly usage: boolean;
}

/** Asserts the whole shape of a failed start: exit code, one message line, usage, no stack. */
function assertOneLineError(
  run: { code: number | null; signal: string | null; stdout: string; stderr: string },
  want: ErrorCase,
): void {
  const call = `berth ${want.args.join(" ")}`;
  const lines = run.stderr.split("\n");
  assert.equal(lines.pop(), "", `${call}: stderr does not end with a newline: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, STACK_FRAME, `${call}: stack trace on stderr:\n${run.stderr}`);
  assert.deepEqual(
    { code: run.code, signal: run.signal, stdout: run.stdout },
    { code: want.exitCode, signal: null, stdout: "" },
    `${call}: exit and stdout; stderr:\n${run.stderr}`,
  );
  const [message = "", ...rest] = lines;
  assert.match(message, /^berth: /, `${call}: first stderr line`);
  assert.match(message, want.message, `${call}: first stderr line`);
  if (want.usage) {
    assert.equal(rest.length, 1, `${call}: want the usage line after the error:\n${run.stderr}`);
    assert.match(rest[0] ?? "", SERVE_USAGE_LINE, `${call}: second stderr line`);
  } else {
    assert.deepEqual(rest, [], `${call}: want one stderr line:\n${run.stderr}`);
  }
}

describe("berth serve: bad flags and directories", () => {
  let temp = "";
  before(async () => {
    temp = await makeTempDir("berth-cli-errors-");
  });
  after(() => removeTempDir(temp));

  // "$TMP" in args stands for a fresh temporary directory.
  // biome-ignore format: a table reads best with one row per line
  const cases: ErrorCase[] = [
    { name: "missing directory", args: ["serve", "$TMP/missing"], exitCode: 1, usage: false, message: /^berth: Cannot serve \S+\/missing: no such directory$/ },
    { name: "a file, not a directory", args: ["serve", "README.md"], exitCode: 1, usage: false, message: /^berth: Cannot serve README\.md: not a directory$/ },
    { name: "unknown flag", args: ["serve", "--nope"], exitCode: 2, usage: true, message: /--nope/ },
    { name: "port above 65535", args: ["serve", "--port", "70000"], exitCode: 2, usage: true, message: /^berth: --port .*70000/ },
    { name: "port not a number", args: ["serve", "--port", "abc"], exitCode: 2, usage: true, message: /^berth: --port .*"abc"/ },
    { name: "dotfiles not a choice", args: ["serve", "--dotfiles", "maybe"], exitCode: 2, usage: true, message: /^berth: --dotfiles .*\ballow\b.*\bdeny\b.*"maybe"/ },
    { name: "symlinks not a choice", args: ["serve", "--symlinks", "maybe"], exitCode: 2, usage: true, message: /^berth: --symlinks .*\bcontain\b.*\bfollow\b.*\bdeny\b.*"maybe"/ },
    { name: "two directories", args: ["serve", "examples", "docs"], exitCode: 2, usage: true, message: /^berth: .*one directory/ },
  ];
  for (const row of cases) {
    test(`${row.name}: berth ${row.args.join(" ")}`, async () => {
      const want = { ...row, args: row.args.map((arg) => arg.replace("$TMP", temp)) };
      assertOneLineError(await runCli(want.args), want);
    });
  }
});

describe("berth serve: cannot listen", () => {
  test("port in use: one line naming the address, its owner and the way out, exit 1", async (t) => {
    const holder = createServer();
    t.after(() => holder.close());
    const port = await listenOnFreePort(holder, "127.0.0.1");
    const want: ErrorCase = {
      name: "port in use",
      args: ["serve", "examples/site", "--host", "127.0.0.1", "--port", String(port)],
      exitCode: 1,
      usage: false,
      message: new RegExp(
        // This test process holds the port: berth names it (Linux /proc).
        `^berth: Cannot listen on 127\\.0\\.0\\.1:${port}: address already in use: process ${process.pid} \\(.*\\) is listening there .*pick another port, or port 0 for any free one$`,
      ),
    };
    assertOneLineError(await runCli(want.args), want);
  });

  test("port 80 as an unprivileged user: permission denied, exit 1", async (t) => {
    const lowestUnprivileged = await readUnprivilegedPortStart();
    if (lowestUnprivileged !== undefined && lowestUnprivileged <= 80) {
      t.skip(`net.ipv4.ip_unprivileged_port_start is ${lowestUnprivileged}: anyone may bind 80`);
      return;
    }
    // Root may bind port 80, so run berth as nobody; anyone else is unprivileged already.
    const asNobody = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
    if ("uid" in asNobody) {
      const probe = await runCli(["--version"], asNobody);
      if (probe.code !== 0) {
        t.skip(`uid ${NOBODY} cannot run dist/cli/main.js here: ${probe.cli.describe()}`);
        return;
      }
    }
    const want: ErrorCase = {
      name: "permission denied",
      args: ["serve", "examples/site", "--host", "127.0.0.1", "--port", "80"],
      exitCode: 1,
      usage: false,
      message: /^berth: Cannot listen on 127\.0\.0\.1:80: permission denied\b/,
    };
    assertOneLineError(await runCli(want.args, asNobody), want);
  });
});

function listenOnFreePort(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("no TCP address"));
      else resolve(address.port);
    });
  });
}

/** Linux lets unprivileged users bind ports from this number up (1024 unless changed). */
async function readUnprivilegedPortStart(): Promise<number | undefined> {
  try {
    const text = await readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8");
    return Number(text.trim());
  } catch {
    return undefined;
  }
}
