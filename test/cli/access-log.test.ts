/**
 * Access logs as a user gets them: --log-format combined and json with hostile request bytes
 * (every line stays one line, every field stays one field), --log-file with a logrotate-style move
 * and SIGHUP, the log file never served even inside DIR, and an unopenable log file.
 */
import assert from "node:assert/strict";
import { readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CliProcess, killAllCliProcesses, runCli, startCli } from "../helpers/cli-process.js";
import { exchange, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

/** A User-Agent a client could send that tries to end the quoted field, fake a second line-like
 * field and slip in bytes outside ASCII (raw UTF-8 for U+2028 and a NEL byte). The parser admits
 * all of them in a field value (obs-text, RFC 9110 §5.5); control characters it refuses. */
const HOSTILE_AGENT = Buffer.concat([
  Buffer.from('evil" 200 1 "-" "fake\\', "latin1"),
  Buffer.from([0xe2, 0x80, 0xa8, 0x85, 0xff]),
]);
const HOSTILE_TARGET = '/digits.txt?q="x"\\y';

function hostileRequest(): Buffer {
  return Buffer.concat([
    Buffer.from(
      `GET ${HOSTILE_TARGET} HTTP/1.1\r\nHost: example.test\r\nReferer: https://r.example/"\r\nUser-Agent: `,
      "latin1",
    ),
    HOSTILE_AGENT,
    Buffer.from("\r\nConnection: close\r\n\r\n", "latin1"),
  ]);
}

describe("berth serve access logs", () => {
  let dir = "";
  let site = "";
  before(async () => {
    dir = await makeTempDir("berth-access-log-");
    site = join(dir, "site");
    await writeTree(site, { "digits.txt": "0123456789" });
  });
  after(() => removeTempDir(dir));

  async function startOn(
    args: string[],
    t: { after: (fn: () => void) => void },
  ): Promise<[CliProcess, number]> {
    const cli = startCli(["serve", site, "--host", "127.0.0.1", "--port", "0", ...args]);
    t.after(() => cli.kill());
    const [url] = await cli.waitForUrls(1);
    return [cli, Number(url?.port)];
  }

  test("combined: hostile bytes are \\xHH-escaped, the line keeps its six quotes", async (t) => {
    const [cli, port] = await startOn(["--log-format", "combined"], t);
    const { raw } = await exchange(port, hostileRequest());
    assert.equal(parseResponses(raw, ["GET"]).responses[0]?.status, 200);
    const [line = ""] = await cli.waitForOutput("stdout", /^127\.0\.0\.1 .*$/m);
    assert.equal(
      line.replace(/\[[^\]]+\]/, "[DATE]"),
      '127.0.0.1 - - [DATE] "GET /digits.txt?q=\\x22x\\x22\\x5Cy HTTP/1.1" 200 10 "https://r.example/\\x22" "evil\\x22 200 1 \\x22-\\x22 \\x22fake\\x5C\\xE2\\x80\\xA8\\x85\\xFF"',
    );
    assert.equal(line.split('"').length - 1, 6);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("json: one parseable ASCII line per request with time, ids and the exact peer bytes", async (t) => {
    const [cli, port] = await startOn(["--log-format", "json"], t);
    const beforeMs = Date.now();
    await exchange(port, hostileRequest());
    await exchange(port, "GET /missing HTTP/1.0\r\n\r\n");
    const [text = ""] = await cli.waitForOutput("stdout", /^\{.*\}\n\{.*\}\n/m);
    const lines = text.trimEnd().split("\n");
    for (const line of lines) assert.match(line, /^[\x20-\x7e]+$/, `not printable ASCII: ${line}`);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(Object.keys(first ?? {}), [
      "time",
      "remote",
      "method",
      "target",
      "version",
      "status",
      "bytes",
      "durationMs",
      "requestId",
      "referer",
      "userAgent",
      "host",
    ]);
    assert.equal(first?.target, HOSTILE_TARGET);
    assert.equal(first?.userAgent, HOSTILE_AGENT.toString("latin1"));
    assert.equal(first?.referer, 'https://r.example/"');
    assert.equal(first?.host, "example.test");
    assert.deepEqual(
      [first?.status, first?.bytes, second?.status, second?.host],
      [200, 10, 404, null],
    );
    assert.ok(Math.abs(Date.parse(String(first?.time)) - beforeMs) < 5000, `time ${first?.time}`);
    assert.ok(typeof first?.durationMs === "number" && first.durationMs >= 0);
    const ids = [first?.requestId, second?.requestId].map(String);
    assert.match(ids[0] ?? "", /^[0-9a-z]{8}-1$/);
    assert.equal(ids[1], `${ids[0]?.slice(0, -1)}2`);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("--log-file: lines go to the file, not stdout; SIGHUP after a move reopens the path", async (t) => {
    // The log file inside DIR: berth must not serve it.
    const path = join(site, "access.log");
    const [cli, port] = await startOn(["--log-file", path], t);
    const get = async (target: string): Promise<number | undefined> => {
      const { raw } = await exchange(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      return parseResponses(raw, ["GET"]).responses[0]?.status;
    };
    assert.equal(await get("/digits.txt"), 200);
    await waitForFile(cli, path, /"GET \/digits\.txt HTTP\/1\.1" 200 10\n$/);
    assert.equal(await get("/access.log"), 404, "the access log was served");
    await waitForFile(cli, path, /"GET \/access\.log HTTP\/1\.1" 404 /);

    await rename(path, `${path}.1`);
    cli.signal("SIGHUP");
    // The reopen creates the file afresh at the path; a request after it must land there.
    await waitForNewFile(path);
    assert.equal(await get("/digits.txt?after"), 200);
    await waitForFile(cli, path, /"GET \/digits\.txt\?after HTTP\/1\.1" 200 10\n$/);

    const rotated = await readFile(`${path}.1`, "utf8");
    assert.equal(rotated.split("\n").length - 1, 2, `rotated file:\n${rotated}`);
    assert.equal((await readFile(path, "utf8")).split("\n").length - 1, 1);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
    assert.deepEqual(
      cli.stdout.split("\n").filter((line) => line !== "" && !line.startsWith("berth: ")),
      [],
      "access lines on stdout",
    );
  });

  test("--quiet wins over --log-file: no file is created", async (t) => {
    const path = join(dir, "quiet.log");
    const [cli, port] = await startOn(["--quiet", "--log-file", path], t);
    await exchange(port, "GET /digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
    await assert.rejects(stat(path), { code: "ENOENT" });
  });

  test("a log file that cannot be opened: one line, exit 1", async () => {
    const path = join(dir, "no-such-dir", "access.log");
    const run = await runCli([
      "serve",
      site,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-file",
      path,
    ]);
    assert.deepEqual(
      { code: run.code, stdout: run.stdout, stderr: run.stderr },
      { code: 1, stdout: "", stderr: `berth: Cannot open log file ${path}: no such file\n` },
    );
  });
});

/** Waits until the file's text matches (the writer batches per event-loop turn). */
function waitForFile(cli: CliProcess, path: string, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const poll = (): void => {
      readFile(path, "utf8").then(
        (text) => {
          if (pattern.test(text)) resolve();
          else if (Date.now() > deadline)
            reject(new Error(`${path} never matched ${pattern}:\n${text}\n${cli.describe()}`));
          else setTimeout(poll, 20);
        },
        (error: NodeJS.ErrnoException) => {
          if (Date.now() > deadline) reject(new Error(`${path}: ${error.code}\n${cli.describe()}`));
          else setTimeout(poll, 20);
        },
      );
    };
    poll();
  });
}

/** Waits until berth has created the file afresh at `path` (it reopens on SIGHUP). */
async function waitForNewFile(path: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await stat(path);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${path} was not recreated after SIGHUP`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
