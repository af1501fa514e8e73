/**
 * berth.json as a user meets it: ./berth.json in the working directory, --config FILE, flags
 * over the file, --no-config, paths relative to the file, the config never served when it lies in
 * DIR, and mistakes reported as one line naming the key (exit 2).
 */
import assert from "node:assert/strict";
import { symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CliProcess, killAllCliProcesses, runCli, startCli } from "../helpers/cli-process.js";
import { exchange, type ParsedResponse, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";

after(killAllCliProcesses);

const STACK_FRAME = /^ {4}at /m;

async function get(port: number, path: string): Promise<ParsedResponse> {
  const { raw } = await exchange(
    port,
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
  );
  const [response] = parseResponses(raw, ["GET"]).responses;
  assert.ok(response !== undefined, `no response to GET ${path}`);
  return response;
}

async function portOf(cli: CliProcess): Promise<number> {
  const [url] = await cli.waitForUrls(1);
  return Number(url?.port);
}

describe("berth.json", () => {
  let dir = "";
  before(async () => {
    dir = await makeTempDir("berth-config-");
    await writeTree(dir, {
      // A project: the config beside the site it serves.
      "project/berth.json": JSON.stringify({
        $schema: "../berth.schema.json",
        root: "public",
        hosts: ["127.0.0.1"],
        port: 0,
        maxAge: 123,
        logFormat: "json",
      }),
      "project/public/style.css": "body{}\n",
      // A config inside the directory it serves.
      "inside/berth.json": JSON.stringify({ hosts: ["127.0.0.1"], port: 0, maxAge: 7 }),
      "inside/page.txt": "page\n",
      "elsewhere/conf/site.json": JSON.stringify({
        root: "../www",
        hosts: ["127.0.0.1"],
        port: 0,
        maxAge: 9,
      }),
      "elsewhere/www/a.txt": "a\n",
      "bad/berth.json": JSON.stringify({ maxAge: "60" }),
      "broken/berth.json": '{\n  "maxAge": 60,\n}\n',
      "unknown/berth.json": JSON.stringify({ "max-age": 60 }),
      "header/berth.json": JSON.stringify({ headers: { "X-A": "ok", "Content-Length": "1" } }),
    });
    await symlink("berth.json", join(dir, "inside", "alias.txt"));
  });
  after(() => removeTempDir(dir));

  test("./berth.json in the working directory is read; root is relative to it", async (t) => {
    const cli = startCli(["serve"], { cwd: join(dir, "project") });
    t.after(() => cli.kill());
    const port = await portOf(cli);
    const response = await get(port, "/style.css");
    assert.equal(response.status, 200, cli.describe());
    assert.equal(response.header("cache-control"), "public, max-age=123");
    const [line = ""] = await cli.waitForOutput("stdout", /^\{.*\}$/m);
    assert.equal((JSON.parse(line) as { target: string }).target, "/style.css");
    assert.match(
      cli.stdout,
      new RegExp(
        `^berth: serving ${join(dir, "project", "public")} on http://127\\.0\\.0\\.1:\\d+/$`,
        "m",
      ),
    );
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("flags override the file", async (t) => {
    const cli = startCli(["serve", "--max-age", "5", "--log-format", "common"], {
      cwd: join(dir, "project"),
    });
    t.after(() => cli.kill());
    const port = await portOf(cli);
    assert.equal((await get(port, "/style.css")).header("cache-control"), "public, max-age=5");
    await cli.waitForOutput(
      "stdout",
      /^127\.0\.0\.1 - - \[.*"GET \/style\.css HTTP\/1\.1" 200 7$/m,
    );
  });

  test("--port on the command line replaces the file's hosts and port as a group", async (t) => {
    const cli = startCli(["serve", "--listen", "127.0.0.1:0"], { cwd: join(dir, "project") });
    t.after(() => cli.kill());
    const urls = await cli.waitForUrls(1);
    assert.equal(urls.length, 1);
    assert.equal((await get(Number(urls[0]?.port), "/style.css")).status, 200);
  });

  test("--config FILE: paths are relative to the file, not the working directory", async (t) => {
    const cli = startCli(["serve", "--config", join("elsewhere", "conf", "site.json")], {
      cwd: dir,
    });
    t.after(() => cli.kill());
    const port = await portOf(cli);
    const response = await get(port, "/a.txt");
    assert.equal(response.status, 200, cli.describe());
    assert.equal(response.header("cache-control"), "public, max-age=9");
  });

  test("--no-config ignores ./berth.json", async (t) => {
    const cli = startCli(["serve", "public", "--no-config", "--host", "127.0.0.1", "--port", "0"], {
      cwd: join(dir, "project"),
    });
    t.after(() => cli.kill());
    const port = await portOf(cli);
    assert.equal((await get(port, "/style.css")).header("cache-control"), "public, max-age=60");
  });

  test("the config is never served from the directory it configures, not even through a symlink", async (t) => {
    const cli = startCli(["serve"], { cwd: join(dir, "inside") });
    t.after(() => cli.kill());
    const port = await portOf(cli);
    const page = await get(port, "/page.txt");
    assert.deepEqual([page.status, page.header("cache-control")], [200, "public, max-age=7"]);
    assert.equal((await get(port, "/berth.json")).status, 404);
    assert.equal((await get(port, "/alias.txt")).status, 404);
    assert.equal((await get(port, "/%62erth.json")).status, 404);
  });

  // [name, working directory, args, the one stderr line]
  // biome-ignore format: one row per line
  const errorRows: ReadonlyArray<readonly [string, string, string[], string | RegExp]> = [
    ["a wrong type",             "bad",     ["serve"],                           'berth: config berth.json: "maxAge" must be an integer ≥ 0, got "60"'],
    ["invalid JSON",             "broken",  ["serve"],                           /^berth: config berth\.json: not valid JSON: .*\(line 3 column 1\)$/],
    ["an unknown key",           "unknown", ["serve"],                           'berth: config berth.json: unknown key "max-age" (did you mean "maxAge"?)'],
    ["a refused header",         "header",  ["serve"],                           /^berth: config berth\.json: "headers\.Content-Length": Content-Length cannot be set: berth frames every response itself/],
    ["a missing --config file",  ".",       ["serve", "--config", "nope.json"],  "berth: config nope.json: no such file"],
    ["--config a directory",     ".",       ["serve", "--config", "project"],    "berth: config project: is a directory"],
  ];
  for (const [name, cwd, args, message] of errorRows) {
    test(`${name}: exit 2 with one line naming it`, async () => {
      const run = await runCli(args, { cwd: join(dir, cwd) });
      assert.deepEqual(
        { code: run.code, stdout: run.stdout },
        { code: 2, stdout: "" },
        run.cli.describe(),
      );
      assert.doesNotMatch(run.stderr, STACK_FRAME);
      const lines = run.stderr.split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, 1, `want one line:\n${run.stderr}`);
      if (typeof message === "string") assert.equal(lines[0], message);
      else assert.match(lines[0] ?? "", message);
    });
  }

  test("a flag with a bad value still prints the usage line", async () => {
    const run = await runCli(["serve", "--cors-origin", "https://A.example"], { cwd: dir });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^berth: --cors-origin https:\/\/A\.example: not a serialized origin \(write https:\/\/a\.example\)\nUsage: berth serve /,
    );
  });
});
