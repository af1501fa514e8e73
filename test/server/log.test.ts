import assert from "node:assert/strict";
import { mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { AccessRecord } from "../../src/server/access-log.js";
import {
  createLogger,
  createRequestIdPrefix,
  createStreamLogger,
  openAccessLogFile,
  withRequestLog,
} from "../../src/server/log.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";

const RECORD: AccessRecord = {
  remote: "127.0.0.1",
  request: null,
  status: 400,
  bodyBytes: 0,
  startMs: Date.UTC(2026, 0, 2, 3, 4, 5),
  durationMs: 0,
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("createLogger", () => {
  test("access off: request is null, so the connection builds no record", () => {
    assert.equal(createLogger(null, null).request, null);
    assert.equal(createStreamLogger(null, process.stderr).request, null);
  });

  test("lines of one turn leave in one write, in order, each ending in a newline", async () => {
    const writes: string[] = [];
    const log = createLogger((text) => writes.push(text), null, { format: "json" });
    log.request?.(RECORD);
    log.request?.({ ...RECORD, status: 408 });
    assert.deepEqual(writes, [], "written before the end of the turn");
    await nextTurn();
    assert.equal(writes.length, 1, `writes: ${JSON.stringify(writes)}`);
    const lines = (writes[0] ?? "").split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { status: number }).status),
      [400, 408],
    );
  });

  test("the default format is common", async () => {
    const writes: string[] = [];
    createLogger((text) => writes.push(text), null).request?.(RECORD);
    await nextTurn();
    assert.deepEqual(writes, ['127.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "-" 400 -\n']);
  });

  test("withRequestLog: a Logger without request gets Common Log Format lines via access()", () => {
    const lines: string[] = [];
    const log = withRequestLog({ access: (line) => lines.push(line), error: () => {} });
    log.request?.(RECORD);
    assert.deepEqual(lines, ['127.0.0.1 - - [02/Jan/2026:03:04:05 +0000] "-" 400 -']);
    const off = { access: () => {}, error: () => {}, request: null };
    assert.equal(withRequestLog(off), off, "an explicit null stays null");
  });

  test("request-id prefixes: 8 base-36 characters, different per call", () => {
    const prefixes = Array.from({ length: 50 }, createRequestIdPrefix);
    for (const prefix of prefixes) assert.match(prefix, /^[0-9a-z]{8}$/);
    assert.equal(new Set(prefixes).size, prefixes.length);
  });
});

describe("openAccessLogFile", () => {
  let dir = "";
  before(async () => {
    dir = await makeTempDir("berth-log-");
  });
  after(() => removeTempDir(dir));

  test("appends; reopen() after a rotation writes to a new file at the path", async () => {
    const path = join(dir, "access.log");
    const errors: string[] = [];
    const file = openAccessLogFile(path, (message) => errors.push(message));
    file.write("one\n");
    file.write("two\n");
    await rename(path, `${path}.1`); // logrotate's move
    file.write("three\n"); // still the old file: the process has not been told yet
    file.reopen();
    file.write("four\n");
    await file.close();
    assert.equal(await readFile(`${path}.1`, "utf8"), "one\ntwo\nthree\n");
    assert.equal(await readFile(path, "utf8"), "four\n");
    assert.deepEqual(errors, []);
    assert.equal((await stat(path)).mode & 0o777, 0o640 & ~process.umask());
  });

  test("appends to an existing file instead of truncating it", async () => {
    const path = join(dir, "existing.log");
    const first = openAccessLogFile(path, () => {});
    first.write("before\n");
    await first.close();
    const second = openAccessLogFile(path, () => {});
    second.write("after\n");
    await second.close();
    assert.equal(await readFile(path, "utf8"), "before\nafter\n");
  });

  test("a path that cannot be opened throws at once, with the errno code", () => {
    assert.throws(
      () => openAccessLogFile(join(dir, "missing-dir", "a.log"), () => {}),
      (error: NodeJS.ErrnoException) => error.code === "ENOENT",
    );
  });

  test("a failed reopen keeps the old file and says so once", async () => {
    const sub = join(dir, "sub");
    await mkdir(sub);
    const path = join(sub, "a.log");
    const errors: string[] = [];
    const file = openAccessLogFile(path, (message) => errors.push(message));
    await rename(path, join(dir, "a.log.1"));
    await rm(sub, { recursive: true });
    file.reopen();
    file.write("kept\n");
    await file.close();
    assert.equal(errors.length, 1, `errors: ${JSON.stringify(errors)}`);
    assert.match(errors[0] ?? "", /cannot reopen \(ENOENT\); keeping the old file/);
    assert.equal(await readFile(join(dir, "a.log.1"), "utf8"), "kept\n");
  });
});
