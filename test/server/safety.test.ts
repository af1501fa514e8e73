/**
 * The security boundary through HTTP (README "Safety"): raw request targets against a root with
 * dotfiles, symlinks in and out, a FIFO, and a secret next to the root, under each policy. Every
 * refusal must be the same 404 as a missing file, and under the default options no response may
 * ever carry the secret's bytes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, realpathSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { after, before, describe, test } from "node:test";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { normalizeDates, type RunningServer, startServer } from "../helpers/test-server.js";

/*
 * <base>/secret.txt, <base>/outside/secret.txt    SECRET, which only symlinks "follow" may reach
 * <base>/root/                                      the served root
 *   hello.txt, .env, .git/config, .well-known/security.txt
 *   link-in -> hello.txt           inside → inside
 *   link-out -> ../secret.txt      inside → outside (a file)
 *   link-out-dir -> ../outside     inside → outside (a directory)
 *   link-env -> .env               inside → a dotfile
 *   fifo                           a named pipe (mkfifo): opening it must not block
 */
const SECRET = "SECRET-MARKER-5f2c9e\n";
const CONTENT = {
  hello: "hello\n",
  secret: SECRET,
  env: "TOKEN=dotenv-value\n",
  git: "[core]\n",
  security: "Contact: mailto:security@example.com\n",
} as const;
type ContentName = keyof typeof CONTENT;

let base = "";
let hasFifo = false;
const servers = new Map<string, RunningServer>();

/** The policies of the table's columns, in order. */
const COLUMNS = [
  ["default", {}],
  ['symlinks: "follow"', { symlinks: "follow" }],
  ['symlinks: "deny"', { symlinks: "deny" }],
  ['dotfiles: "allow"', { dotfiles: "allow" }],
] as const;

before(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "berth-safety-")));
  await writeTree(base, {
    "secret.txt": SECRET,
    "outside/secret.txt": SECRET,
    "root/hello.txt": CONTENT.hello,
    "root/.env": CONTENT.env,
    "root/.git/config": CONTENT.git,
    "root/.well-known/security.txt": CONTENT.security,
  });
  const root = join(base, "root");
  symlinkSync("hello.txt", join(root, "link-in"));
  symlinkSync("../secret.txt", join(root, "link-out"));
  symlinkSync("../outside", join(root, "link-out-dir"));
  symlinkSync(".env", join(root, "link-env"));
  try {
    execFileSync("mkfifo", [join(root, "fifo")]);
    hasFifo = true;
  } catch {
    hasFifo = false;
  }
  for (const [name, policy] of COLUMNS) {
    servers.set(name, await startServer({ root, ...policy }));
  }
});

after(async () => {
  for (const running of servers.values()) await running.server.close();
  await removeTempDir(base);
});

// Expected status under each column (default, follow, symlinks deny, dotfiles allow), and what a
// 200 must contain.
// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [target: string, statuses: readonly [number, number, number, number], body: ContentName | null]> = [
  ["/hello.txt",                        [200, 200, 200, 200], "hello"],
  ["/a/../hello.txt",                   [200, 200, 200, 200], "hello"],
  ["/./hello.txt",                      [200, 200, 200, 200], "hello"],
  ["/secret.txt",                       [404, 404, 404, 404], null],
  ["/../secret.txt",                    [404, 404, 404, 404], null],
  ["/%2e%2e/secret.txt",                [404, 404, 404, 404], null],
  ["/%2E%2E/secret.txt",                [404, 404, 404, 404], null],
  ["/.%2e/secret.txt",                  [404, 404, 404, 404], null],
  ["/..%2fsecret.txt",                  [404, 404, 404, 404], null],
  ["/..%2Fsecret.txt",                  [404, 404, 404, 404], null],
  ["/..%5csecret.txt",                  [404, 404, 404, 404], null],
  ["/a/../../secret.txt",               [404, 404, 404, 404], null],
  ["/./../secret.txt",                  [404, 404, 404, 404], null],
  ["/../outside/secret.txt",            [404, 404, 404, 404], null],
  ["http://t/%2e%2e/secret.txt",        [404, 404, 404, 404], null],
  ["/%C0%AE%C0%AE/secret.txt",          [400, 400, 400, 400], null],
  ["/link-in",                          [200, 200, 404, 200], "hello"],
  ["/link-out",                         [404, 200, 404, 404], "secret"],
  ["/link-out-dir/secret.txt",          [404, 200, 404, 404], "secret"],
  ["/link-out-dir",                     [404, 301, 404, 404], null],
  ["/link-env",                         [404, 404, 404, 200], "env"],
  ["/.env",                             [404, 404, 404, 200], "env"],
  ["/%2eenv",                           [404, 404, 404, 200], "env"],
  ["/%2Eenv",                           [404, 404, 404, 200], "env"],
  ["/.git/config",                      [404, 404, 404, 200], "git"],
  ["/.well-known/../.env",              [404, 404, 404, 200], "env"],
  ["/.well-known/security.txt",         [200, 200, 200, 200], "security"],
  ["/fifo",                             [404, 404, 404, 404], null],
  ["/%00",                              [400, 400, 400, 400], null],
  ["/hello.txt%00.html",                [400, 400, 400, 400], null],
  ["/%zz",                              [400, 400, 400, 400], null],
  ["/%",                                [400, 400, 400, 400], null],
  ["/hello.txt/",                       [404, 404, 404, 404], null],
  ["/hello.txt/.",                      [404, 404, 404, 404], null],
];

/** Every answer must come quickly: a FIFO opened blocking would hang until the timeout. */
const MAX_ANSWER_MS = 1000;

const get = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`;

describe("request targets under each policy", () => {
  for (const [column, [name]] of COLUMNS.entries()) {
    describe(name, () => {
      /** The 404 for a file that does not exist: every refusal must be exactly this. */
      let missing = "";
      before(async () => {
        const running = servers.get(name);
        if (running === undefined) throw new Error(`no server for ${name}`);
        missing = normalizeDates((await exchange(running.port, get("/no-such-file"))).raw);
      });

      for (const [target, statuses, bodyName] of rows) {
        const wantStatus = statuses[column] ?? 0;
        const call = `GET ${target} (${name})`;
        test(`${call} = ${wantStatus}`, async (t) => {
          if (target === "/fifo" && !hasFifo) {
            t.skip("mkfifo is not installed");
            return;
          }
          const running = servers.get(name);
          if (running === undefined) throw new Error(`no server for ${name}`);
          const startMs = performance.now();
          const result = await exchange(running.port, get(target), { timeoutMs: 2000 });
          const elapsedMs = performance.now() - startMs;
          const [response] = parseResponses(result.raw, ["GET"]).responses;
          const body = response?.body.toString("latin1") ?? "";
          assert.equal(
            response?.status,
            wantStatus,
            `${call} = ${response?.status}, want ${wantStatus}; ${showBytes(result.raw, 0, 200)}`,
          );
          assert.ok(elapsedMs < MAX_ANSWER_MS, `${call} took ${elapsedMs.toFixed(0)} ms`);
          if (wantStatus === 200 && bodyName !== null) {
            assert.equal(body, CONTENT[bodyName], `${call} body`);
          }
          if (wantStatus === 404) {
            const got = normalizeDates(result.raw);
            assert.equal(got, missing, `${call} differs from the 404 for a missing file`);
          }
          // Only "follow" may reach outside the root.
          if (name !== 'symlinks: "follow"') {
            assert.ok(
              !result.raw.includes("SECRET-MARKER"),
              `${call} sent the secret: ${showBytes(result.raw, 0, result.raw.length)}`,
            );
          }
        });
      }
    });
  }
});
