import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { createServableRoot, type ServableRoot } from "../../src/files/open-servable.js";
import { type DirectoryListingInput, planDirectoryListing } from "../../src/server/plan-listing.js";
import type { ResponsePlan } from "../../src/server/response-plan.js";

/*
 * <base>/root/            the served root
 *   é b/                  the listed directory (non-ASCII, so Content-Length must count bytes)
 *     a.txt ("a"), ünïcödé.txt (""), d/ , .env
 */

let base = "";
let root: ServableRoot;
let listedRealPath = "";
const SEGMENTS = ["é b"];
const DATE_LINE = "Date: Sun, 01 Mar 2026 12:00:00 GMT\r\n";

before(async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "berth-plan-listing-")));
  listedRealPath = path.join(base, "root", "é b");
  fs.mkdirSync(path.join(listedRealPath, "d"), { recursive: true });
  fs.writeFileSync(path.join(listedRealPath, "a.txt"), "a");
  fs.writeFileSync(path.join(listedRealPath, "ünïcödé.txt"), "");
  fs.writeFileSync(path.join(listedRealPath, ".env"), "X=1\n");
  root = await createServableRoot(path.join(base, "root"), {
    dotfiles: "deny",
    symlinks: "contain",
  });
});

after(() => {
  if (base !== "") fs.rmSync(base, { recursive: true, force: true });
});

function input(overrides: Partial<DirectoryListingInput> = {}): DirectoryListingInput {
  return {
    method: "GET",
    segments: SEGMENTS,
    query: "",
    accept: null,
    dateLine: DATE_LINE,
    root,
    directoryRealPath: listedRealPath,
    ...overrides,
  };
}

interface Planned {
  readonly plan: ResponsePlan;
  readonly note: string | undefined;
  readonly synchronous: boolean;
}

function plan(overrides: Partial<DirectoryListingInput> = {}): Promise<Planned> {
  return new Promise((resolve) => {
    let returned = false;
    planDirectoryListing(input(overrides), (plan, note) => {
      resolve({ plan, note, synchronous: !returned });
    });
    returned = true;
  });
}

/** The plan's head; every plan here is a "bytes" plan. */
function headOf(planned: Planned): string {
  assert.equal(planned.plan.kind, "bytes");
  if (planned.plan.kind !== "bytes") throw new Error("not a bytes plan");
  return planned.plan.head;
}

function bodyOf(planned: Planned): Buffer {
  const { plan } = planned;
  assert.equal(plan.kind, "bytes");
  if (plan.kind !== "bytes" || plan.body === null) throw new Error("no body");
  return plan.body;
}

const HTML_HEAD = [
  "HTTP/1.1 200 OK",
  "Date: Sun, 01 Mar 2026 12:00:00 GMT",
  "X-Content-Type-Options: nosniff",
  "Cache-Control: no-cache",
  "Vary: Accept",
  "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:",
  "Content-Type: text/html; charset=utf-8",
];

const JSON_HEAD = [
  "HTTP/1.1 200 OK",
  "Date: Sun, 01 Mar 2026 12:00:00 GMT",
  "X-Content-Type-Options: nosniff",
  "Cache-Control: no-cache",
  "Vary: Accept",
  "Content-Type: application/json",
];

/** The head's lines without the CRLFs; every line must end in CRLF. */
function headLines(head: string): string[] {
  assert.ok(head.endsWith("\r\n"), "head ends in CRLF");
  return head.slice(0, -2).split("\r\n");
}

// biome-ignore format: one row per line
const FORMAT_ROWS: ReadonlyArray<readonly [string, string | null, readonly string[]]> = [
  // query              Accept                               head before Content-Length
  ["",                  null,                                HTML_HEAD],
  ["",                  "text/html,*/*;q=0.8",               HTML_HEAD],
  ["",                  "application/json",                  JSON_HEAD],
  ["?format=json",      "text/html",                         JSON_HEAD],
  ["?format=html",      "application/json",                  HTML_HEAD],
  ["?sort=size&v=2",    "application/json, */*",             JSON_HEAD],
];

for (const [query, accept, want] of FORMAT_ROWS) {
  test(`planDirectoryListing(GET ${query || "/"}, Accept: ${accept}) head`, async () => {
    const planned = await plan({ query, accept });
    assert.equal(planned.synchronous, false, "the callback is asynchronous");
    assert.equal(planned.plan.status, 200);
    const body = bodyOf(planned);
    assert.deepEqual(headLines(headOf(planned)), [...want, `Content-Length: ${body.length}`]);
    const text = body.toString("utf8");
    if (want === JSON_HEAD) {
      const document = JSON.parse(text);
      assert.equal(document.path, "/é b/");
      assert.deepEqual(
        document.entries.map((e: { name: string }) => e.name),
        query.includes("sort=size") ? ["d", "ünïcödé.txt", "a.txt"] : ["d", "a.txt", "ünïcödé.txt"],
      );
    } else {
      assert.ok(text.includes("<title>Index of /é b/</title>"), "title");
      assert.ok(text.includes('<a href="%C3%BCn%C3%AFc%C3%B6d%C3%A9.txt">ünïcödé.txt</a>'), "row");
      assert.ok(!text.includes(".env"), "no dotfile");
    }
  });
}

test("Content-Length counts bytes, not characters", async () => {
  const body = bodyOf(await plan());
  const text = body.toString("utf8");
  assert.ok(Buffer.byteLength(text) > text.length, "the page holds non-ASCII text");
  assert.equal(Buffer.byteLength(text), body.length);
});

test("HEAD: the same head as GET, no body", async () => {
  for (const accept of [null, "application/json"]) {
    const get = await plan({ accept });
    const head = await plan({ accept, method: "HEAD" });
    assert.equal(head.plan.kind, "bytes");
    if (head.plan.kind !== "bytes") return;
    assert.equal(head.plan.body, null, `HEAD (Accept ${accept}) has no body`);
    assert.equal(headOf(head), headOf(get), `HEAD (Accept ${accept}) head = GET head`);
  }
});

test("a page link leads on: ?limit=2 shows two entries and a next link", async () => {
  const first = JSON.parse(bodyOf(await plan({ query: "?limit=2&format=json" })).toString());
  assert.deepEqual(
    first.entries.map((e: { name: string }) => e.name),
    ["d", "a.txt"],
  );
  assert.equal(first.next, "?limit=2&after=f%2Fa.txt&format=json");
  const second = JSON.parse(bodyOf(await plan({ query: first.next })).toString());
  assert.deepEqual(
    second.entries.map((e: { name: string }) => e.name),
    ["ünïcödé.txt"],
  );
  assert.equal(second.next, null);
  const html = bodyOf(await plan({ query: "?limit=2" })).toString();
  assert.ok(html.includes('<a rel="next" href="?limit=2&amp;after=f%2Fa.txt">Next page →</a>'));
});

// biome-ignore format: one row per line
const ERROR_ROWS: ReadonlyArray<readonly [Partial<DirectoryListingInput>, number, string]> = [
  [{ query: "?sort=bogus" },                                     400, "BAD_SORT"],
  [{ query: "?limit=0" },                                        400, "BAD_LIMIT"],
  [{ query: "?after=nope" },                                     400, "BAD_CURSOR"],
  [{ query: "?sort=size&sort=name" },                            400, "DUPLICATE_PARAMETER"],
  [{ directoryRealPath: "/nonexistent/berth-listing" },         404, "listing: ENOENT"],
];

for (const [overrides, status, note] of ERROR_ROWS) {
  for (const method of ["GET", "HEAD"] as const) {
    test(`planDirectoryListing(${method} ${JSON.stringify(overrides)}) = ${status} (${note})`, async () => {
      const planned = await plan({ ...overrides, method });
      assert.equal(planned.synchronous, false, "the callback is asynchronous");
      assert.equal(planned.plan.status, status);
      assert.equal(planned.note, note);
      assert.equal(planned.plan.kind, "bytes");
      if (planned.plan.kind !== "bytes") return;
      const lines = headLines(headOf(planned));
      assert.equal(lines[0], `HTTP/1.1 ${status} ${status === 400 ? "Bad Request" : "Not Found"}`);
      const length = Number(lines.find((l) => l.startsWith("Content-Length: "))?.slice(16));
      assert.ok(length > 0, "an error body is announced");
      if (method === "HEAD") assert.equal(planned.plan.body, null);
      else assert.equal(planned.plan.body?.length, length);
    });
  }
}
