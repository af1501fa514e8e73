import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import {
  compareSortPoints,
  type ListingEntry,
  type SortField,
  type SortOrder,
  type SortPoint,
  sortPointOf,
} from "../../src/files/listing-page.js";
import {
  createServableRoot,
  type OpenServableResult,
  openServable,
  type ServableRoot,
  type SymlinkPolicy,
} from "../../src/files/open-servable.js";
import { type DirectoryPageResult, readDirectoryPage } from "../../src/files/read-directory.js";
import { type DotfilePolicy, resolveRequestPath } from "../../src/files/resolve-path.js";

/*
 * The fixture, built fresh in a temporary directory:
 *
 *   <base>/outside/secret.txt, outside/.hidden   what only "follow" may reach
 *   <base>/rootx/secret.txt                      a sibling whose path starts with the root's path
 *   <base>/root/                                 the served root
 *     hello.txt ("hello\n"), berth.json (hidden when the test says so), sub/inner.txt, sub/.inner-env, empty-dir/
 *     .env, .git/config, .well-known/security.txt, sub/.well-known/x (a dotdir below the root)
 *     the odd names of ODD_NAMES (files), "odd dir #1/" (a directory)
 *     back\slash (never servable), f<0xFF> (not UTF-8: never servable)
 *     link-in.txt -> hello.txt, link-config -> berth.json, link-dir -> sub, link-root -> .
 *     link-out.txt -> ../outside/secret.txt, link-out -> ../outside
 *     link-sibling.txt -> ../rootx/secret.txt
 *     link-env -> .env, link-git -> .git, link-well-known -> .well-known
 *     sub/link-up-env -> ../.env, sub/link-up-hello -> ../hello.txt
 *     link-parent -> .., link-dev-null -> /dev/null, broken -> nope, loop -> loop
 *     fifo (mkfifo), socket (a listening unix domain socket)
 *     unreadable.txt (mode 000), unreadable-dir/ (mode 000, holds a file)
 */

const ODD_NAMES = [
  "a b",
  "#hash",
  "q?x",
  "100%",
  'quote"s',
  "'single'",
  "<img src=x onerror=alert(1)>",
  "émoji 🚀",
  "&amp;",
  "javascript:alert(1)",
];

let base = "";
let rootDir = "";
let socketServer: net.Server | undefined;

// Root bypasses permission bits, so as uid 0 a mode-000 entry is served, hence listed.
const isRoot = process.getuid?.() === 0;

before(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "berth-read-directory-")));
  rootDir = path.join(base, "root");
  const write = (relative: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(base, relative)), { recursive: true });
    fs.writeFileSync(path.join(base, relative), text);
  };
  write("outside/secret.txt", "secret\n");
  write("outside/.hidden", "hidden\n");
  write("rootx/secret.txt", "secret\n");
  write("root/hello.txt", "hello\n");
  write("root/berth.json", "{}\n");
  write("root/sub/inner.txt", "inner\n");
  write("root/sub/.inner-env", "X=1\n");
  write("root/sub/.well-known/x", "x\n");
  fs.mkdirSync(path.join(rootDir, "empty-dir"));
  write("root/.env", "TOKEN=1\n");
  write("root/.git/config", "[core]\n");
  write("root/.well-known/security.txt", "Contact: mailto:security@example.com\n");
  for (const name of ODD_NAMES) write(`root/${name}`, name);
  fs.mkdirSync(path.join(rootDir, "odd dir #1"));
  write("root/back\\slash", "refused by resolveRequestPath\n");
  fs.writeFileSync(Buffer.concat([Buffer.from(`${rootDir}/f`), Buffer.from([0xff])]), "latin-1\n");
  const links: ReadonlyArray<readonly [string, string]> = [
    ["root/link-in.txt", "hello.txt"],
    ["root/link-config", "berth.json"],
    ["root/link-dir", "sub"],
    ["root/link-root", "."],
    ["root/link-out.txt", "../outside/secret.txt"],
    ["root/link-out", "../outside"],
    ["root/link-sibling.txt", "../rootx/secret.txt"],
    ["root/link-env", ".env"],
    ["root/link-git", ".git"],
    ["root/link-well-known", ".well-known"],
    ["root/sub/link-up-env", "../.env"],
    ["root/sub/link-up-hello", "../hello.txt"],
    ["root/link-parent", ".."],
    ["root/link-dev-null", "/dev/null"],
    ["root/broken", "nope"],
    ["root/loop", "loop"],
  ];
  for (const [link, target] of links) fs.symlinkSync(target, path.join(base, link));
  execFileSync("mkfifo", [path.join(rootDir, "fifo")]);
  const server = net.createServer();
  socketServer = server;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path.join(rootDir, "socket"), resolve);
  });
  write("root/unreadable.txt", "nobody may read this\n");
  fs.chmodSync(path.join(rootDir, "unreadable.txt"), 0o000);
  write("root/unreadable-dir/file.txt", "x\n");
  fs.chmodSync(path.join(rootDir, "unreadable-dir"), 0o000);
});

after(async () => {
  const server = socketServer;
  if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  if (base !== "") {
    fs.chmodSync(path.join(rootDir, "unreadable-dir"), 0o700);
    fs.rmSync(base, { recursive: true, force: true });
  }
});

const SYMLINK_POLICIES: readonly SymlinkPolicy[] = ["contain", "follow", "deny"];
const DOTFILE_POLICIES: readonly DotfilePolicy[] = ["deny", "allow"];

function segmentsOf(relativePath: string): string[] {
  return relativePath === "" ? [] : relativePath.split("/");
}

function openAsPromise(
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

/** Lists `relativePath` as the handler would: open it with openServable first, then read it. */
async function listDirectory(
  root: ServableRoot,
  relativePath: string,
  options: { sort?: SortField; order?: SortOrder; after?: SortPoint | null; limit?: number } = {},
): Promise<DirectoryPageResult> {
  const segments = segmentsOf(relativePath);
  const opened = await openAsPromise(root, segments);
  assert.equal(opened.kind, "directory", `openServable(${relativePath}) = ${opened.kind}`);
  if (opened.kind !== "directory") throw new Error("unreachable");
  return readDirectoryPage({
    root,
    directoryRealPath: opened.realPath,
    segments,
    order: { sort: options.sort ?? "name", order: options.order ?? "asc" },
    after: options.after ?? null,
    limit: options.limit ?? 5000,
  });
}

function describeEntries(result: DirectoryPageResult): string[] {
  assert.equal(result.kind, "page", `result ${JSON.stringify(result)}`);
  if (result.kind !== "page") return [];
  return result.entries.map((e) => (e.kind === "directory" ? `${e.name}/` : e.name)).sort();
}

type Shown = readonly [contain: boolean, follow: boolean, deny: boolean];
const ALL: Shown = [true, true, true];
const NONE: Shown = [false, false, false];
const LINKED: Shown = [true, true, false];
const FOLLOWED: Shown = [false, true, false];
const U: Shown = isRoot ? ALL : NONE;

/** Whether each root entry is listed per symlink policy, as [dotfiles deny, dotfiles allow]. */
// biome-ignore format: one row per line
const ROOT_TABLE: ReadonlyArray<readonly [string, Shown, Shown]> = [
  //  entry as listed           dotfiles deny   dotfiles allow
  ["hello.txt",                 ALL,            ALL],
  ["berth.json",                ALL,            ALL],
  ["sub/",                      ALL,            ALL],
  ["empty-dir/",                ALL,            ALL],
  ["odd dir #1/",               ALL,            ALL],
  ...ODD_NAMES.map((name) => [name, ALL, ALL] as const),
  [".env",                      NONE,           ALL],
  [".git/",                     NONE,           ALL],
  [".well-known/",              ALL,            ALL],
  ["back\\slash",               NONE,           NONE],
  ["f\uFFFD",                   NONE,           NONE],
  ["link-in.txt",               LINKED,         LINKED],
  ["link-config",               LINKED,         LINKED],
  ["link-dir/",                 LINKED,         LINKED],
  ["link-root/",                LINKED,         LINKED],
  ["link-out.txt",              FOLLOWED,       FOLLOWED],
  ["link-out/",                 FOLLOWED,       FOLLOWED],
  ["link-sibling.txt",          FOLLOWED,       FOLLOWED],
  ["link-parent/",              FOLLOWED,       FOLLOWED],
  ["link-env",                  NONE,           LINKED],
  ["link-git/",                 NONE,           LINKED],
  ["link-well-known/",          LINKED,         LINKED],
  ["link-dev-null",             NONE,           NONE],
  ["broken",                    NONE,           NONE],
  ["loop",                      NONE,           NONE],
  ["fifo",                      NONE,           NONE],
  ["socket",                    NONE,           NONE],
  ["unreadable.txt",            U,              U],
  ["unreadable-dir/",           U,              U],
];

test("readDirectoryPage of the root, per policy", async (t) => {
  for (const symlinks of SYMLINK_POLICIES) {
    for (const [column, dotfiles] of DOTFILE_POLICIES.entries()) {
      await t.test(`symlinks ${symlinks}, dotfiles ${dotfiles}`, async () => {
        const root = await createServableRoot(rootDir, { dotfiles, symlinks });
        const want = ROOT_TABLE.filter(
          (row) => row[1 + column]?.[SYMLINK_POLICIES.indexOf(symlinks)],
        )
          .map(([name]) => name)
          .sort();
        assert.deepEqual(describeEntries(await listDirectory(root, "")), want);
      });
    }
  }
});

// biome-ignore format: one row per line
const SUB_ROWS: ReadonlyArray<readonly [SymlinkPolicy, DotfilePolicy, string, readonly string[]]> = [
  ["contain", "deny",  "sub",      ["inner.txt", "link-up-hello"]],
  ["contain", "allow", "sub",      [".inner-env", ".well-known/", "inner.txt", "link-up-env", "link-up-hello"]],
  ["deny",    "allow", "sub",      [".inner-env", ".well-known/", "inner.txt"]],
  ["contain", "deny",  "link-dir", ["inner.txt", "link-up-hello"]],
  ["follow",  "deny",  "link-out", ["secret.txt"]],
  ["follow",  "allow", "link-out", [".hidden", "secret.txt"]],
  ["contain", "deny",  ".well-known", ["security.txt"]],
  ["contain", "deny",  "empty-dir", []],
];

for (const [symlinks, dotfiles, directory, want] of SUB_ROWS) {
  test(`readDirectoryPage(${directory}) with symlinks ${symlinks}, dotfiles ${dotfiles}`, async () => {
    const root = await createServableRoot(rootDir, { dotfiles, symlinks });
    assert.deepEqual(describeEntries(await listDirectory(root, directory)), [...want].sort());
  });
}

/**
 * The rule itself: an entry is listed exactly when the request its link makes would be served.
 * For every directory and policy, each name on disk goes through the path a browser's click
 * takes (percent-encoded URL → resolveRequestPath → openServable) and must be listed, with the
 * same kind and size, if and only if that serves it.
 */
test("readDirectoryPage lists exactly what openServable would serve", async (t) => {
  const directories = [
    "",
    "sub",
    "link-dir",
    "link-root",
    "link-out",
    ".well-known",
    "link-well-known",
    ".git",
    "odd dir #1",
  ];
  for (const symlinks of SYMLINK_POLICIES) {
    for (const dotfiles of DOTFILE_POLICIES) {
      const root = await createServableRoot(rootDir, { dotfiles, symlinks });
      for (const directory of directories) {
        const segments = segmentsOf(directory);
        const opened = await openAsPromise(root, segments);
        if (opened.kind !== "directory") continue;
        await t.test(`symlinks ${symlinks}, dotfiles ${dotfiles}, /${directory}`, async () => {
          const listed = await readDirectoryPage({
            root,
            directoryRealPath: opened.realPath,
            segments,
            order: { sort: "name", order: "asc" },
            after: null,
            limit: 5000,
          });
          assert.equal(listed.kind, "page");
          if (listed.kind !== "page") return;
          const got = listed.entries.map(describeServed).sort();
          const want: string[] = [];
          for (const name of fs.readdirSync(opened.realPath)) {
            const requestPath = `/${[...segments, name].map(encodeURIComponent).join("/")}`;
            const resolved = resolveRequestPath(requestPath, dotfiles);
            if (resolved.kind !== "ok") continue;
            const served = await openServedEntry(root, resolved.segments);
            if (served !== null) want.push(describeServed({ name, ...served }));
          }
          assert.deepEqual(got, want.sort());
        });
      }
    }
  }
});

function describeServed(entry: Pick<ListingEntry, "name" | "kind" | "sizeBytes">): string {
  return entry.kind === "directory" ? `${entry.name}/` : `${entry.name} (${entry.sizeBytes} B)`;
}

async function openServedEntry(
  root: ServableRoot,
  segments: readonly string[],
): Promise<Pick<ListingEntry, "kind" | "sizeBytes"> | null> {
  const opened = await openAsPromise(root, segments);
  if (opened.kind === "file") return { kind: "file", sizeBytes: opened.stats.size };
  if (opened.kind === "directory") return { kind: "directory", sizeBytes: 0 };
  return null;
}

// berth's own files (ServableRoot.hidden: config, TLS key, log) are never served, so never listed,
// neither by name nor through a symlink.
// biome-ignore format: one row per line
const HIDDEN_ROWS: ReadonlyArray<readonly [SymlinkPolicy, DotfilePolicy, readonly string[]]> = [
  ["contain", "deny",  ["berth.json", "link-config"]],
  ["follow",  "allow", ["berth.json", "link-config", "link-out.txt"]],
  ["deny",    "deny",  ["berth.json"]],
];

for (const [symlinks, dotfiles, absent] of HIDDEN_ROWS) {
  test(`readDirectoryPage leaves out hidden files (symlinks ${symlinks}, dotfiles ${dotfiles})`, async () => {
    const hidden = [path.join(rootDir, "berth.json"), path.join(base, "outside/secret.txt")];
    const plain = await createServableRoot(rootDir, { dotfiles, symlinks });
    const root = await createServableRoot(rootDir, { dotfiles, symlinks, hidden });
    const want = describeEntries(await listDirectory(plain, "")).filter(
      (name) => !absent.includes(name),
    );
    const got = describeEntries(await listDirectory(root, ""));
    assert.deepEqual(got, want);
    for (const name of absent) assert.ok(!got.includes(name), `${name} is left out`);
  });
}

test("readDirectoryPage reports sizes and modification times", async () => {
  const root = await createServableRoot(rootDir, { dotfiles: "deny", symlinks: "contain" });
  const result = await listDirectory(root, "");
  assert.equal(result.kind, "page");
  if (result.kind !== "page") return;
  const byName = new Map(result.entries.map((e) => [e.name, e]));
  const hello = fs.statSync(path.join(rootDir, "hello.txt"));
  assert.deepEqual(byName.get("hello.txt"), {
    name: "hello.txt",
    kind: "file",
    sizeBytes: 6,
    mtimeMs: hello.mtimeMs,
  });
  // A symlink shows its target's size and time.
  assert.deepEqual(byName.get("link-in.txt"), {
    name: "link-in.txt",
    kind: "file",
    sizeBytes: 6,
    mtimeMs: hello.mtimeMs,
  });
  const sub = fs.statSync(path.join(rootDir, "sub"));
  assert.deepEqual(byName.get("sub"), {
    name: "sub",
    kind: "directory",
    sizeBytes: 0,
    mtimeMs: sub.mtimeMs,
  });
});

// biome-ignore format: one row per line
const FAILURE_ROWS: ReadonlyArray<readonly [string, string]> = [
  ["missing",             "not-found ENOENT"],
  ["hello.txt",           "not-found ENOTDIR"],
  ["unreadable-dir",      isRoot ? "page 1" : "not-found EACCES"],
];

for (const [relativePath, want] of FAILURE_ROWS) {
  test(`readDirectoryPage(<root>/${relativePath}) = ${want}`, async () => {
    const root = await createServableRoot(rootDir, { dotfiles: "deny", symlinks: "contain" });
    const result = await readDirectoryPage({
      root,
      directoryRealPath: path.join(rootDir, relativePath),
      segments: [relativePath],
      order: { sort: "name", order: "asc" },
      after: null,
      limit: 10,
    });
    const got =
      result.kind === "page"
        ? `page ${result.entries.length}`
        : result.kind === "not-found"
          ? `not-found ${result.reason}`
          : `error ${result.error.code}`;
    assert.equal(got, want);
  });
}

test("readDirectoryPage walks a directory of 600 entries page by page in every order", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-read-directory-pages-"));
  try {
    for (let i = 0; i < 600; i++) {
      const name = `${(i * 7919) % 600}-é ${i % 3 === 0 ? "#" : ""}`;
      if (i % 10 === 0) {
        fs.mkdirSync(path.join(dir, name));
      } else {
        // Sizes repeat (ties broken by name); mtimes spread over whole seconds with ties.
        fs.writeFileSync(path.join(dir, name), "x".repeat(i % 17));
        const seconds = 1_700_000_000 + (i % 29);
        fs.utimesSync(path.join(dir, name), seconds, seconds);
      }
    }
    const root = await createServableRoot(dir, { dotfiles: "deny", symlinks: "contain" });
    for (const sort of ["name", "size", "modified"] as const) {
      for (const order of ["asc", "desc"] as const) {
        const full = await listDirectory(root, "", { sort, order, limit: 5000 });
        assert.equal(full.kind, "page");
        if (full.kind !== "page") return;
        assert.equal(full.entries.length, 600);
        const sorted = [...full.entries].sort((a, b) =>
          compareSortPoints(sortPointOf(a, sort), sortPointOf(b, sort), order),
        );
        assert.deepEqual(full.entries, sorted, `sort=${sort} order=${order}: one page in order`);
        assert.equal(full.next, null);
        const walked: ListingEntry[] = [];
        let cursor: SortPoint | null = null;
        let pages = 0;
        for (;;) {
          const page = await listDirectory(root, "", { sort, order, after: cursor, limit: 97 });
          assert.equal(page.kind, "page");
          if (page.kind !== "page") return;
          pages++;
          walked.push(...page.entries);
          if (page.next === null) break;
          assert.equal(page.entries.length, 97, `sort=${sort} order=${order}: a full page`);
          cursor = page.next;
        }
        assert.equal(pages, Math.ceil(600 / 97), `sort=${sort} order=${order}: pages`);
        assert.deepEqual(walked, full.entries, `sort=${sort} order=${order}`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
