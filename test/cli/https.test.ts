/**
 * `berth serve --tls-cert --tls-key` as a user runs it: curl over HTTPS with the test's own CA,
 * ALPN http/1.1, keep-alive over TLS, plain and TLS listeners in one process, and the start-up
 * errors for missing, wrong and mismatched files (exit 2, one line, no stack).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { killAllCliProcesses, runCli, startCli } from "../helpers/cli-process.js";
import { exchange, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { makeTestCertificate, type TestCertificate } from "../helpers/tls-cert.js";
import { tlsExchange } from "../helpers/tls-client.js";

after(killAllCliProcesses);

const run = promisify(execFile);
const STACK_FRAME = /^ {4}at /m;
const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;

describe("berth serve over HTTPS", () => {
  let dir = "";
  let site = "";
  let tls: TestCertificate;
  let ca = Buffer.alloc(0);
  before(async () => {
    dir = await makeTempDir("berth-https-");
    site = join(dir, "site");
    await writeTree(site, {
      "digits.txt": "0123456789",
      "index.html": "<!doctype html><p>hi</p>\n",
    });
    tls = await makeTestCertificate(dir);
    ca = await readFile(tls.certFile);
  });
  after(() => removeTempDir(dir));

  const tlsFlags = (): string[] => ["--tls-cert", tls.certFile, "--tls-key", tls.keyFile];

  test("curl fetches the exact bytes over HTTPS; ALPN http/1.1; keep-alive over TLS", async (t) => {
    const cli = startCli(["serve", site, "--host", "127.0.0.1", "--port", "0", ...tlsFlags()]);
    t.after(() => cli.kill());
    const [url] = await cli.waitForUrls(1);
    assert.equal(url?.protocol, "https:", cli.describe());
    const base = `https://127.0.0.1:${url?.port}`;

    // Two URLs in one curl run share its connection: curl says so when it re-uses it.
    const { stdout, stderr } = await run("curl", [
      "-sS",
      "-v",
      "--cacert",
      tls.certFile,
      "-w",
      " %{http_version} %{http_code}\\n",
      `${base}/digits.txt`,
      `${base}/digits.txt`,
    ]);
    assert.equal(stdout, "0123456789 1.1 200\n0123456789 1.1 200\n");
    assert.match(stderr, /ALPN[:,] server accepted (to use )?http\/1\.1/, stderr);
    assert.match(stderr, /Re-using existing connection/, stderr);

    const { alpnProtocol, responses } = await tlsExchange(Number(url?.port), ca, [
      GET("/digits.txt"),
      GET("/index.html"),
    ]);
    assert.equal(alpnProtocol, "http/1.1");
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 200],
    );
    // Four requests, four access lines, whatever connection carried them.
    await cli.waitForOutput("stdout", /(?:^127\.0\.0\.1 .*\n){4}/m);
    const exit = await cli.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, cli.describe());
  });

  test("--listen and --tls-listen together: one plain, one TLS listener", async (t) => {
    const cli = startCli([
      "serve",
      site,
      "--listen",
      "127.0.0.1:0",
      "--tls-listen",
      "127.0.0.1:0",
      ...tlsFlags(),
    ]);
    t.after(() => cli.kill());
    const urls = await cli.waitForUrls(2);
    assert.deepEqual(
      urls.map((u) => u.protocol),
      ["http:", "https:"],
      cli.describe(),
    );
    const [plain, secure] = urls;
    const { raw } = await exchange(
      Number(plain?.port),
      "GET /digits.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(parseResponses(raw, ["GET"]).responses[0]?.body.toString(), "0123456789");
    const { responses } = await tlsExchange(Number(secure?.port), ca, [GET("/digits.txt")]);
    assert.equal(responses[0]?.body.toString(), "0123456789");
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
  });

  test("plain HTTP sent to the TLS port: closed, no crash, HTTPS still served", async (t) => {
    const cli = startCli(["serve", site, "--host", "127.0.0.1", "--port", "0", ...tlsFlags()]);
    t.after(() => cli.kill());
    const [url] = await cli.waitForUrls(1);
    const port = Number(url?.port);
    const result = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { timeoutMs: 5000 });
    assert.ok(result.closedByServer, "the TLS port did not close a plain HTTP connection");
    assert.doesNotMatch(result.raw.toString("latin1"), /HTTP\/1\.1/);
    const { responses } = await tlsExchange(port, ca, [GET("/digits.txt")]);
    assert.equal(responses[0]?.status, 200);
    assert.deepEqual(await cli.stop("SIGTERM"), { code: 0, signal: null }, cli.describe());
    assert.doesNotMatch(cli.stderr, /internal error/, cli.describe());
    assert.doesNotMatch(cli.stderr, STACK_FRAME, cli.describe());
  });

  // [name, the TLS flags, the one stderr line]
  const errorRows: ReadonlyArray<readonly [string, (f: TestCertificate) => string[], RegExp]> = [
    [
      "a key of another pair",
      (f) => ["--tls-cert", f.certFile, "--tls-key", f.otherKeyFile],
      /^berth: TLS key \S+other-key\.pem and certificate \S+cert\.pem: the key does not belong to the certificate \(key values mismatch\)$/,
    ],
    [
      "a missing certificate file",
      (f) => ["--tls-cert", join(dir, "missing.pem"), "--tls-key", f.keyFile],
      /^berth: Cannot read TLS certificate \S+missing\.pem: no such file$/,
    ],
    [
      "a missing key file",
      (f) => ["--tls-cert", f.certFile, "--tls-key", join(dir, "missing-key.pem")],
      /^berth: Cannot read TLS key \S+missing-key\.pem: no such file$/,
    ],
    [
      "the key given as the certificate",
      (f) => ["--tls-cert", f.keyFile, "--tls-key", f.keyFile],
      /^berth: TLS certificate \S+key\.pem: is not a PEM certificate \(.+\)$/,
    ],
    [
      "the certificate given as the key",
      (f) => ["--tls-cert", f.certFile, "--tls-key", f.certFile],
      /^berth: TLS key \S+cert\.pem: is not a PEM private key \(.+\)$/,
    ],
  ];
  for (const [name, flagsOf, message] of errorRows) {
    test(`${name}: exit 2 with one line`, async () => {
      const args = ["serve", site, "--host", "127.0.0.1", "--port", "0", ...flagsOf(tls)];
      const run = await runCli(args);
      assert.deepEqual(
        { code: run.code, signal: run.signal, stdout: run.stdout },
        { code: 2, signal: null, stdout: "" },
        run.cli.describe(),
      );
      assert.doesNotMatch(run.stderr, STACK_FRAME);
      const lines = run.stderr.split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, 1, `want one stderr line:\n${run.stderr}`);
      assert.match(lines[0] ?? "", message);
    });
  }

  test("--tls-cert without --tls-key is a usage error", async () => {
    const run = await runCli(["serve", site, "--tls-cert", tls.certFile]);
    assert.equal(run.code, 2, run.cli.describe());
    assert.match(run.stderr, /^berth: --tls-cert needs --tls-key too[^\n]*\nUsage: berth serve /);
  });
});
