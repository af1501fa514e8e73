import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import {
  createServableRoot,
  type OpenServableResult,
  openServable,
  type ServableRoot,
  type SymlinkPolicy,
} from "../../src/files/open-servable.js";
import { type DotfilePolicy, resolveRequestPath } from "../../src/files/resolve-path.js";

/*
 * The fixture, built fresh in a temporary directory:
 *
 *   <base>/outside/secret.txt           "secret\n", the file no policy but "follow" may reach
 *   <base>/rootx/secret.txt             a sibling whose path starts with the root's path
 *   <base>/root-link -> root            the served root reached through a symlink
 *   <base>/root/                        the served root
 *     hello.txt                         "hello\n"
 *     nested/index.html, empty-dir/
 *     .env, .git/config, .well-known/security.txt
 *     link-in.txt -> hello.txt          inside → inside
 *     link-out.txt -> ../outside/secret.txt, link-out -> ../outside
 *     link-sibling.txt -> ../rootx/secret.txt   "<base>/rootx" starts with "<base>/root"
 *     link-env -> .env, link-git -> .git, link-well-known -> .well-known
 *     nested/link-up-env -> ../.env
 *     link-parent -> ..                 the root's parent
 *     link-root -> .                    the root itself
 *     link-dev-null -> /dev/null        a character device
 *     broken -> does-not-exist, loop -> loop
 *     fifo (mkfifo), socket (a listening unix domain socket), unreadable.txt (mode 000)
 */

let base = "";
let rootDir = "";
let realRoot = "";
let socketServer: net.Server | undefined;
let hasFifo = false;

before(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "berth-open-servable-")));
  rootDir = path.join(base, "root");
  const write = (relative: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(base, relative)), { recursive: true });
    fs.writeFileSync(path.join(base, relative), text);
  };
  write("outside/secret.txt", "secret\n");
  write("rootx/secret.txt", "secret\n");
  write("root/hello.txt", "hello\n");
  write("root/nested/index.html", "<p>nested</p>\n");
  fs.mkdirSync(path.join(rootDir, "empty-dir"));
  write("root/.env", "TOKEN=1\n");
  write("root/.git/config", "[core]\n");
  write("root/.well-known/security.txt", "Contact: mailto:security@example.com\n");
  const links: ReadonlyArray<readonly [string, string]> = [
    ["root/link-in.txt", "hello.txt"],
    ["root/link-out.txt", "../outside/secret.txt"],
    ["root/link-out", "../outside"],
    ["root/link-sibling.txt", "../rootx/secret.txt"],
    ["root/link-env", ".env"],
    ["root/link-git", ".git"],
    ["root/link-well-known", ".well-known"],
    ["root/nested/link-up-env", "../.env"],
    ["root/link-parent", ".."],
    ["root/link-root", "."],
    ["root/link-dev-null", "/dev/null"],
    ["root/broken", "does-not-exist"],
    ["root/loop", "loop"],
    ["root-link", "root"],
  ];
  for (const [link, target] of links) {
    fs.symlinkSync(target, path.join(base, link));
  }
  try {
    execFileSync("mkfifo", [path.join(rootDir, "fifo")]);
    hasFifo = true;
  } catch {
    hasFifo = false;
  }
  const server = net.createServer();
  socketServer = server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path.join(rootDir, "socket"), resolve);
  });
  write("root/unreadable.txt", "nobody may read this\n");
  fs.chmodSync(path.join(rootDir, "unreadable.txt"), 0o000);
  realRoot = fs.realpathSync(rootDir);
});

after(async () => {
  const server = socketServer;
  if (server !== undefined) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (base !== "") {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

type Kind = OpenServableResult["kind"];
const F: Kind = "file";
const D: Kind = "directory";
const N: Kind = "not-found";

// Root bypasses permission bits (CAP_DAC_OVERRIDE), so as uid 0 a mode-000 file opens like any
// other; the EACCES → not-found mapping can only be observed as an ordinary user.
const isRoot = process.getuid?.() === 0;
const U: Kind = isRoot ? F : N;

/** Expected kind for each symlink policy, as [dotfiles "deny", dotfiles "allow"]. */
type Row = readonly [
  relativePath: string,
  contain: readonly [Kind, Kind],
  follow: readonly [Kind, Kind],
  deny: readonly [Kind, Kind],
];

// biome-ignore format: one row per line, columns aligned
const table: readonly Row[] = [
  //  path (below the root)                contain   follow    deny       (dotfiles deny, allow)
  ["",                                     [D, D],   [D, D],   [D, D]],
  ["hello.txt",                            [F, F],   [F, F],   [F, F]],
  ["nested",                               [D, D],   [D, D],   [D, D]],
  ["nested/index.html",                    [F, F],   [F, F],   [F, F]],
  ["empty-dir",                            [D, D],   [D, D],   [D, D]],
  ["missing.txt",                          [N, N],   [N, N],   [N, N]],
  ["hello.txt/x",                          [N, N],   [N, N],   [N, N]],
  ["a".repeat(256),                        [N, N],   [N, N],   [N, N]],
  [".env",                                 [N, F],   [N, F],   [N, F]],
  [".git",                                 [N, D],   [N, D],   [N, D]],
  [".git/config",                          [N, F],   [N, F],   [N, F]],
  [".well-known",                          [D, D],   [D, D],   [D, D]],
  [".well-known/security.txt",             [F, F],   [F, F],   [F, F]],
  ["link-in.txt",                          [F, F],   [F, F],   [N, N]],
  ["link-out.txt",                         [N, N],   [F, F],   [N, N]],
  ["link-out",                             [N, N],   [D, D],   [N, N]],
  ["link-sibling.txt",                     [N, N],   [F, F],   [N, N]],
  ["link-out/secret.txt",                  [N, N],   [F, F],   [N, N]],
  ["link-env",                             [N, F],   [N, F],   [N, N]],
  ["link-git/config",                      [N, F],   [N, F],   [N, N]],
  ["link-well-known/security.txt",         [F, F],   [F, F],   [N, N]],
  ["nested/link-up-env",                   [N, F],   [N, F],   [N, N]],
  ["link-parent",                          [N, N],   [D, D],   [N, N]],
  ["link-parent/outside/secret.txt",       [N, N],   [F, F],   [N, N]],
  ["link-parent/root/hello.txt",           [F, F],   [F, F],   [N, N]],
  ["link-parent/root/.env",                [N, F],   [N, F],   [N, N]],
  ["link-root/hello.txt",                  [F, F],   [F, F],   [N, N]],
  ["link-dev-null",                        [N, N],   [N, N],   [N, N]],
  ["broken",                               [N, N],   [N, N],   [N, N]],
  ["loop",                                 [N, N],   [N, N],   [N, N]],
  ["fifo",                                 [N, N],   [N, N],   [N, N]],
  ["socket",                               [N, N],   [N, N],   [N, N]],
  ["unreadable.txt",                       [U, U],   [U, U],   [U, U]],
];

const SYMLINK_POLICIES = ["contain", "follow", "deny"] as const satisfies readonly SymlinkPolicy[];
const DOTFILE_POLICIES = ["deny", "allow"] as const satisfies readonly DotfilePolicy[];

/** openServable as a promise; a "file" fd is closed here (the caller owns it). */
function openAndRelease(
  root: ServableRoot,
  segments: readonly string[],
): Promise<OpenServableResult> {
  return new Promise((resolve) => {
    openServable(root, segments, (result) => {
      if (result.kind === "file") fs.closeSync(result.fd);
      resolve(result);
    });
  });
}

function splitSegments(relativePath: string): readonly string[] {
  return relativePath === "" ? [] : relativePath.split("/");
}

function formatResult(result: OpenServableResult): string {
  switch (result.kind) {
    case "file":
    case "directory":
      return `${result.kind} ${result.realPath}`;
    case "not-found":
      return `not-found ${result.reason}`;
    case "error":
      return `error ${result.error.code ?? result.error.message}`;
  }
}

function countOpenFds(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

test("openServable policy table", async (t) => {
  const fdsBefore = countOpenFds();
  for (const symlinks of SYMLINK_POLICIES) {
    for (const [dotfileColumn, dotfiles] of DOTFILE_POLICIES.entries()) {
      const root = await createServableRoot(rootDir, { dotfiles, symlinks });
      for (const row of table) {
        const [relativePath] = row;
        const want = row[1 + SYMLINK_POLICIES.indexOf(symlinks)]?.[dotfileColumn];
        const call = `openServable({symlinks: "${symlinks}", dotfiles: "${dotfiles}"}, ${JSON.stringify(relativePath)})`;
        const skip =
          relativePath === "fifo" && !hasFifo ? "mkfifo is not installed: no FIFO to test" : false;
        // 2 s: a FIFO opened without O_NONBLOCK would wait for a writer forever.
        await t.test(call, { skip, timeout: 2000 }, async () => {
          const got = await openAndRelease(root, splitSegments(relativePath));
          assert.equal(got.kind, want, `${call} = ${formatResult(got)}, want ${want}`);
        });
      }
    }
  }
  assert.equal(
    countOpenFds(),
    fdsBefore,
    `open fds after the table = ${countOpenFds()}, want ${fdsBefore}`,
  );
});

// biome-ignore format: one row per line
const realPathRows: ReadonlyArray<readonly [SymlinkPolicy, string, string]> = [
  ["contain", "", ""],
  ["contain", "hello.txt", "hello.txt"],
  ["contain", "link-in.txt", "hello.txt"],
  ["contain", "link-parent/root/nested", "nested"],
  ["follow", "link-root/nested/index.html", "nested/index.html"],
];

for (const [symlinks, relativePath, wantBelowRoot] of realPathRows) {
  const call = `openServable({symlinks: "${symlinks}"}, ${JSON.stringify(relativePath)}).realPath`;
  test(call, async () => {
    const root = await createServableRoot(rootDir, { dotfiles: "deny", symlinks });
    const got = await openAndRelease(root, splitSegments(relativePath));
    const want = wantBelowRoot === "" ? realRoot : `${realRoot}/${wantBelowRoot}`;
    const gotPath =
      got.kind === "file" || got.kind === "directory" ? got.realPath : formatResult(got);
    assert.equal(gotPath, want, `${call} = ${gotPath}, want ${want}`);
  });
}

test("openServable on a file hands over an fd that reads the file", async () => {
  const root = await createServableRoot(rootDir, { dotfiles: "deny", symlinks: "contain" });
  const result = await new Promise<OpenServableResult>((resolve) =>
    openServable(root, ["hello.txt"], resolve),
  );
  assert.equal(
    result.kind,
    "file",
    `openServable(root, ["hello.txt"]) = ${formatResult(result)}, want file`,
  );
  if (result.kind !== "file") return;
  try {
    assert.equal(fs.readFileSync(result.fd, "utf8"), "hello\n");
    assert.equal(result.stats.size, 6);
  } finally {
    fs.closeSync(result.fd);
  }
});

// A root given through a symlink resolves to its real path, so "deny" still serves plain files
// and "contain" still measures against the real directory.
// biome-ignore format: one row per line
const rootLinkRows: ReadonlyArray<readonly [SymlinkPolicy, string, Kind]> = [
  ["deny", "hello.txt", F],
  ["deny", "link-in.txt", N],
  ["contain", "link-in.txt", F],
  ["contain", "link-out.txt", N],
  ["contain", "link-parent/root/hello.txt", F],
];

for (const [symlinks, relativePath, want] of rootLinkRows) {
  const call = `openServable(createServableRoot("<base>/root-link", {symlinks: "${symlinks}"}), ${JSON.stringify(relativePath)})`;
  test(call, async () => {
    const root = await createServableRoot(path.join(base, "root-link"), {
      dotfiles: "deny",
      symlinks,
    });
    assert.equal(root.realRoot, realRoot, `realRoot = ${root.realRoot}, want ${realRoot}`);
    const got = await openAndRelease(root, splitSegments(relativePath));
    assert.equal(got.kind, want, `${call} = ${formatResult(got)}, want ${want}`);
  });
}

// Serving "/" itself: containment and the dotfile check must not assume a root ending in a name.
// biome-ignore format: one row per line
const slashRootRows: ReadonlyArray<readonly [SymlinkPolicy, string, Kind]> = [
  ["contain", "hello.txt", F],
  ["contain", ".env", N],
  ["contain", "link-out.txt", F],
  ["deny", "hello.txt", F],
  ["deny", "link-in.txt", N],
];

for (const [symlinks, belowFixtureRoot, want] of slashRootRows) {
  const call = `openServable(createServableRoot("/", {symlinks: "${symlinks}"}), "<root>/${belowFixtureRoot}")`;
  test(call, async () => {
    const root = await createServableRoot("/", { dotfiles: "deny", symlinks });
    assert.equal(root.realRoot, "/", `realRoot = ${root.realRoot}, want /`);
    const segments = [...realRoot.split("/").slice(1), belowFixtureRoot];
    const got = await openAndRelease(root, segments);
    assert.equal(got.kind, want, `${call} = ${formatResult(got)}, want ${want}`);
  });
}

// biome-ignore format: one row per line
const badRoots: ReadonlyArray<readonly [string, string]> = [
  ["missing", "no such directory"],
  ["root/hello.txt", "not a directory"],
  ["root/hello.txt/x", "not a directory"],
  ["root/broken", "no such directory"],
  ["root/loop", "too many levels of symbolic links"],
];

for (const [relativeDir, wantReason] of badRoots) {
  test(`createServableRoot("<base>/${relativeDir}") rejects`, async () => {
    const dir = path.join(base, relativeDir);
    await assert.rejects(createServableRoot(dir, { dotfiles: "deny", symlinks: "contain" }), {
      message: `Cannot serve ${dir}: ${wantReason}`,
    });
  });
}

test("createServableRoot(<unreadable dir>) rejects with permission denied", async () => {
  // In the world-writable temp dir, so an unprivileged user can reach it and fail on it alone.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-locked-"));
  fs.chmodSync(dir, 0o000);
  const want = `Cannot serve ${dir}: permission denied`;
  try {
    if (!isRoot) {
      await assert.rejects(createServableRoot(dir, { dotfiles: "deny", symlinks: "contain" }), {
        message: want,
      });
      return;
    }
    // Root reads any directory (CAP_DAC_OVERRIDE): make the same call as uid/gid 65534 (nobody).
    const moduleUrl = new URL("../../src/files/open-servable.js", import.meta.url).href;
    const script = `import(${JSON.stringify(moduleUrl)}).then((m) => m.createServableRoot(${JSON.stringify(dir)}, { dotfiles: "deny", symlinks: "contain" })).then(() => console.log("resolved"), (e) => console.log(e.message));`;
    const got = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
    }).trim();
    assert.equal(got, want, `createServableRoot(${dir}) as nobody = ${got}, want ${want}`);
  } finally {
    fs.chmodSync(dir, 0o700);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Our own bug, not a peer's: segments must come from resolveRequestPath.
// biome-ignore format: one row per line
const notNames: ReadonlyArray<readonly string[]> = [
  [""],
  ["."],
  [".."],
  ["a", ".."],
  ["a/b"],
  ["a\0b"],
];

for (const segments of notNames) {
  const call = `openServable(root, ${JSON.stringify(segments)})`;
  test(`${call} throws`, async () => {
    const root = await createServableRoot(rootDir, { dotfiles: "allow", symlinks: "follow" });
    assert.throws(() => openServable(root, segments, () => {}), Error, `${call} did not throw`);
  });
}

/** The whole boundary: raw request path → resolveRequestPath → openServable. */
async function serveOutcome(root: ServableRoot, rawPath: string): Promise<string> {
  const resolved = resolveRequestPath(rawPath, root.dotfiles);
  if (resolved.kind !== "ok") return `resolve ${resolved.kind} ${resolved.reason}`;
  const opened = await openAndRelease(root, resolved.segments);
  switch (opened.kind) {
    case "file":
    case "directory":
      return `open ${opened.kind}`;
    case "not-found":
      return `open not-found ${opened.reason}`;
    case "error":
      return `open error ${opened.error.code}`;
  }
}

// symlinks "contain", dotfiles "deny" (the defaults). The last rows prove the pipe serves at all.
// biome-ignore format: one row per line
const attacks: ReadonlyArray<readonly [string, string]> = [
  ["/%2e%2e/secret.txt",                      "resolve not-found ESCAPES_ROOT"],
  ["/%2E%2E/outside/secret.txt",              "resolve not-found ESCAPES_ROOT"],
  ["/../outside/secret.txt",                  "resolve not-found ESCAPES_ROOT"],
  ["/nested/../../outside/secret.txt",        "resolve not-found ESCAPES_ROOT"],
  ["/..%2fsecret.txt",                        "resolve not-found ENCODED_SLASH"],
  ["/..%2f..%2foutside%2fsecret.txt",         "resolve not-found ENCODED_SLASH"],
  ["/..%5coutside%5csecret.txt",              "resolve not-found BACKSLASH"],
  ["/%C0%AE%C0%AE/outside/secret.txt",        "resolve bad-request BAD_UTF8"],
  ["/hello.txt%00.html",                      "resolve bad-request ENCODED_NUL"],
  ["/.env",                                   "resolve not-found DOTFILE"],
  ["/%2eenv",                                 "resolve not-found DOTFILE"],
  ["/.git/config",                            "resolve not-found DOTFILE"],
  ["/link-out/secret.txt",                    "open not-found OUTSIDE_ROOT"],
  ["/link-out.txt",                           "open not-found OUTSIDE_ROOT"],
  ["/link-sibling.txt",                       "open not-found OUTSIDE_ROOT"],
  ["/link-parent/outside/secret.txt",         "open not-found OUTSIDE_ROOT"],
  ["/link-parent",                            "open not-found OUTSIDE_ROOT"],
  ["/link-env",                               "open not-found DOTFILE"],
  ["/link-git/config",                        "open not-found DOTFILE"],
  ["/link-parent/root/.env",                  "resolve not-found DOTFILE"],
  ["/nested/link-up-env",                     "open not-found DOTFILE"],
  ["/link-dev-null",                          "open not-found NOT_FILE_OR_DIRECTORY"],
  ["/socket",                                 "open not-found ENXIO"],
  ["/loop",                                   "open not-found ELOOP"],
  ["/broken",                                 "open not-found ENOENT"],
  ["/hello.txt",                              "open file"],
  ["/link-in.txt",                            "open file"],
  ["/.well-known/security.txt",               "open file"],
  ["/nested/",                                "open directory"],
];

test("resolveRequestPath then openServable", async (t) => {
  const root = await createServableRoot(rootDir, { dotfiles: "deny", symlinks: "contain" });
  const fdsBefore = countOpenFds();
  for (const [rawPath, want] of attacks) {
    const call = `serve(${JSON.stringify(rawPath)})`;
    await t.test(call, async () => {
      const got = await serveOutcome(root, rawPath);
      assert.equal(got, want, `${call} = ${got}, want ${want}`);
    });
  }
  const fifo = hasFifo ? "open not-found NOT_FILE_OR_DIRECTORY" : undefined;
  await t.test(
    'serve("/fifo")',
    { skip: fifo === undefined ? "mkfifo is not installed" : false, timeout: 2000 },
    async () => {
      const got = await serveOutcome(root, "/fifo");
      assert.equal(got, fifo, `serve("/fifo") = ${got}, want ${fifo}`);
    },
  );
  assert.equal(
    countOpenFds(),
    fdsBefore,
    `open fds after serving = ${countOpenFds()}, want ${fdsBefore}`,
  );
});
