/**
 * `berth serve --workers N|auto` (README "Workers"): N processes on the same listeners, one
 * start-up report, whole log lines from every worker, signals through the primary, a dead worker
 * replaced, Unix sockets shared and removed once.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { killAllCliProcesses, startCli } from "../helpers/cli-process.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

let root = "";

before(async () => {
  root = await makeTempDir("berth-workers-");
  await writeTree(root, { "a.txt": "from a worker\n" });
});

after(async () => {
  killAllCliProcesses();
  await removeTempDir(root);
});

/** The live child processes of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim();
    return text === "" ? [] : text.split(" ").map(Number);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  return (
    existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "latin1").includes(") Z ")
  );
}

/** GET over a new connection (`socketPath` for a Unix socket); resolves with status and body. */
function get(
  target: { port: number } | { socketPath: string },
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { ...target, host: "127.0.0.1", path, agent: false, headers: { connection: "close" } },
      (res) => {
        let body = "";
        res.setEncoding("latin1");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await delay(50);
  }
}

const CLF = /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/a\.txt HTTP\/1\.1" 200 14$/;

test("--workers 2: two processes serve one port; one report, whole log lines, a clean stop", async () => {
  const cli = startCli(["serve", root, "--listen", "127.0.0.1:0", "--workers", "2"]);
  const [url] = await cli.waitForUrls(1, 15_000);
  assert.ok(url !== undefined);
  const pid = cli.child.pid as number;
  await waitUntil(() => childrenOf(pid).length === 2, 10_000, "two workers");
  await cli.waitForOutput("stdout", /^berth: 2 worker processes$/m);
  assert.equal([...cli.stdout.matchAll(/berth: serving/g)].length, 1, "one report");

  const responses = await Promise.all(
    Array.from({ length: 40 }, () => get({ port: Number(url.port) }, "/a.txt")),
  );
  assert.ok(responses.every((response) => response.status === 200));
  assert.ok(responses.every((response) => response.body === "from a worker\n"));
  const workers = childrenOf(pid);

  const exit = await cli.stop("SIGTERM", 15_000);
  assert.equal(exit.code, 0, cli.describe());
  await waitUntil(() => workers.every((worker) => !isAlive(worker)), 5000, "workers gone");
  const lines = cli.stdout.split("\n").filter((line) => line.includes('"GET'));
  assert.equal(lines.length, 40, cli.describe());
  for (const line of lines) assert.match(line, CLF);
});

test("a worker that dies is replaced, and the site keeps answering", async () => {
  const cli = startCli(["serve", root, "--listen", "127.0.0.1:0", "--workers", "2", "--quiet"]);
  const [url] = await cli.waitForUrls(1, 15_000);
  assert.ok(url !== undefined);
  const pid = cli.child.pid as number;
  await waitUntil(() => childrenOf(pid).length === 2, 10_000, "two workers");
  const [victim] = childrenOf(pid);
  assert.ok(victim !== undefined);
  process.kill(victim, "SIGKILL");
  await cli.waitForOutput("stderr", new RegExp(`worker ${victim} exited \\(SIGKILL\\)`), 5000);
  await waitUntil(
    () => childrenOf(pid).length === 2 && !childrenOf(pid).includes(victim),
    10_000,
    "a replacement worker",
  );
  for (let i = 0; i < 10; i++) {
    assert.equal((await get({ port: Number(url.port) }, "/a.txt")).status, 200);
  }
  assert.equal((await cli.stop("SIGTERM", 15_000)).code, 0, cli.describe());
});

test("a start-up error is reported once, with the single-process exit code", async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const address = taken.address();
  assert.ok(address !== null && typeof address === "object");
  try {
    const cli = startCli([
      "serve",
      root,
      "--listen",
      `127.0.0.1:${address.port}`,
      "--workers",
      "2",
    ]);
    const exit = await cli.waitForExit(15_000);
    assert.equal(exit.code, 1, cli.describe());
    assert.equal([...cli.stderr.matchAll(/address already in use/g)].length, 1, cli.describe());
  } finally {
    taken.close();
  }
});

test("a Unix socket is shared by the workers and removed at the end", async () => {
  const dir = await makeTempDir("berth-workers-sock-");
  const socketPath = join(dir, "berth.sock");
  try {
    const cli = startCli(["serve", root, "--listen", `unix:${socketPath}`, "--workers", "2"]);
    await cli.waitForOutput("stdout", /^berth: 2 worker processes$/m, 15_000);
    const pid = cli.child.pid as number;
    await waitUntil(() => childrenOf(pid).length === 2, 10_000, "two workers");
    for (let i = 0; i < 10; i++) {
      assert.equal((await get({ socketPath }, "/a.txt")).body, "from a worker\n");
    }
    assert.equal((await cli.stop("SIGTERM", 15_000)).code, 0, cli.describe());
    await waitUntil(() => !existsSync(socketPath), 5000, "the socket file removed");
  } finally {
    await removeTempDir(dir);
  }
});

test("--workers auto starts one per CPU", async () => {
  const cli = startCli(["serve", root, "--listen", "127.0.0.1:0", "--workers", "auto", "--quiet"]);
  await cli.waitForUrls(1, 15_000);
  const count = availableParallelism();
  await cli.waitForOutput("stdout", new RegExp(`^berth: ${count} worker processes$`, "m"));
  await waitUntil(() => childrenOf(cli.child.pid as number).length === count, 10_000, "workers");
  const workers = childrenOf(cli.child.pid as number);
  assert.equal((await cli.stop("SIGTERM", 15_000)).code, 0);
  await waitUntil(() => workers.every((worker) => !isAlive(worker)), 5000, "no worker left");
});
