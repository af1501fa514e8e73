/**
 * CORS (--cors, --cors-origin) and the site's own fields (--header, berth.json rules) on real
 * answers: which responses carry which lines, from the disk path and from the file cache alike
 * (each request is made twice; the second is answered from memory).
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { formatStrongEtag } from "../../src/conditional/etag.js";
import { exchange, type ParsedResponse, parseResponses } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir, writeTree } from "../helpers/temp-dir.js";
import { normalizeDates, type RunningServer, startServer } from "../helpers/test-server.js";

async function request(
  port: number,
  target: string,
  fields = "",
  method = "GET",
): Promise<ParsedResponse> {
  const head = `${method} ${target} HTTP/1.1\r\nHost: t\r\n${fields}Connection: close\r\n\r\n`;
  const { raw } = await exchange(port, head);
  const [response] = parseResponses(raw, [method]).responses;
  assert.ok(response !== undefined, `no response to ${method} ${target}`);
  return response;
}

/** The same request twice; both answers must be identical but for Date. */
async function twice(
  port: number,
  target: string,
  fields = "",
  method = "GET",
): Promise<ParsedResponse> {
  const first = await request(port, target, fields, method);
  const second = await request(port, target, fields, method);
  assert.equal(
    normalizeDates(second.raw),
    normalizeDates(first.raw),
    `${method} ${target} ${fields}`,
  );
  return second;
}

/** Every value of a field, in order. */
function values(response: ParsedResponse, name: string): string[] {
  return response.headers.filter(([field]) => field === name).map(([, value]) => value);
}

let root = "";
const running: RunningServer[] = [];

before(async () => {
  root = await makeTempDir("berth-cors-");
  await writeTree(root, {
    "data.json": '{"ok":true}\n',
    "assets/app.js": "console.log(1);\n",
    "page.html": "<!doctype html><title>p</title>\n",
  });
});

after(async () => {
  await Promise.all(running.map((each) => each.server.close()));
  await removeTempDir(root);
});

describe("--cors (any origin)", () => {
  let port = 0;
  before(async () => {
    const started = await startServer({ root, cors: { anyOrigin: true, origins: new Set() } });
    running.push(started);
    port = started.port;
  });

  test("files, 304s and errors carry Access-Control-Allow-Origin: *, without Vary: Origin", async () => {
    const etag = formatStrongEtag(statSync(join(root, "data.json")));
    const cases: [string, string, number][] = [
      ["/data.json", "Origin: https://app.example\r\n", 200],
      ["/data.json", "", 200],
      ["/data.json", `If-None-Match: ${etag}\r\n`, 304],
      ["/data.json", "Range: bytes=0-1\r\n", 206],
      ["/missing.json", "Origin: https://app.example\r\n", 404],
    ];
    for (const [target, fields, status] of cases) {
      const response = await twice(port, target, fields);
      assert.equal(response.status, status, `${target} ${fields}`);
      assert.deepEqual(values(response, "access-control-allow-origin"), ["*"], fields);
      assert.ok(!values(response, "vary").includes("Origin"), `no Vary: Origin (${fields})`);
    }
    const ok = await request(port, "/data.json");
    assert.equal(ok.header("access-control-expose-headers"), "ETag, Content-Range, Accept-Ranges");
  });

  test("a preflight gets 204 with the methods, the requested headers and a max-age", async () => {
    const response = await request(
      port,
      "/data.json",
      "Origin: https://app.example\r\nAccess-Control-Request-Method: GET\r\n" +
        "Access-Control-Request-Headers: Range, If-None-Match\r\n",
      "OPTIONS",
    );
    assert.equal(response.status, 204);
    assert.equal(response.header("access-control-allow-origin"), "*");
    assert.equal(response.header("access-control-allow-methods"), "GET, HEAD, OPTIONS");
    assert.equal(response.header("access-control-allow-headers"), "range, if-none-match");
    assert.equal(response.header("access-control-max-age"), "7200");
  });
});

describe("--cors-origin (listed origins)", () => {
  let port = 0;
  const allowed = "https://app.example";
  before(async () => {
    const started = await startServer({
      root,
      cors: { anyOrigin: false, origins: new Set([allowed]) },
    });
    running.push(started);
    port = started.port;
  });

  test("an allowed origin is echoed, with Vary: Origin, on 200, 304 and 404", async () => {
    const etag = formatStrongEtag(statSync(join(root, "data.json")));
    const origin = `Origin: ${allowed}\r\n`;
    for (const [fields, status] of [
      [origin, 200],
      [`${origin}If-None-Match: ${etag}\r\n`, 304],
    ] as const) {
      const response = await twice(port, "/data.json", fields);
      assert.equal(response.status, status);
      assert.equal(response.header("access-control-allow-origin"), allowed);
      assert.ok(values(response, "vary").includes("Origin"));
    }
    const missing = await twice(port, "/missing.json", origin);
    assert.equal(missing.status, 404);
    assert.equal(missing.header("access-control-allow-origin"), allowed);
  });

  test("another origin, or none, gets no Allow-Origin but still Vary: Origin", async () => {
    for (const fields of ["Origin: https://evil.example\r\n", "Origin: null\r\n", ""]) {
      const response = await twice(port, "/data.json", fields);
      assert.equal(response.status, 200);
      assert.equal(response.header("access-control-allow-origin"), undefined, fields);
      assert.ok(values(response, "vary").includes("Origin"), fields);
    }
  });

  test("a preflight from another origin is a plain OPTIONS (no CORS fields)", async () => {
    const response = await request(
      port,
      "/data.json",
      "Origin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n",
      "OPTIONS",
    );
    assert.equal(response.status, 204);
    assert.equal(response.header("access-control-allow-origin"), undefined);
    assert.equal(response.header("allow"), "GET, HEAD, OPTIONS");
  });
});

describe("--header and berth.json rules", () => {
  let port = 0;
  before(async () => {
    const started = await startServer({
      root,
      headers: [
        { name: "X-Frame-Options", value: "DENY" },
        { name: "X-Site", value: "global" },
      ],
      rules: [
        {
          match: "assets/**",
          headers: [{ name: "X-Site", value: "assets" }],
          cacheControl: "public, max-age=31536000, immutable",
        },
      ],
    });
    running.push(started);
    port = started.port;
  });

  test("a file's 200, 206 and 304 carry the fields; a rule overrides a global field", async () => {
    const etag = formatStrongEtag(statSync(join(root, "assets/app.js")));
    for (const [fields, status] of [
      ["", 200],
      ["Range: bytes=0-3\r\n", 206],
      [`If-None-Match: ${etag}\r\n`, 304],
    ] as const) {
      const response = await twice(port, "/assets/app.js", fields);
      assert.equal(response.status, status);
      assert.deepEqual(values(response, "x-frame-options"), ["DENY"]);
      assert.deepEqual(values(response, "x-site"), ["assets"]);
      assert.equal(response.header("cache-control"), "public, max-age=31536000, immutable");
    }
    const page = await twice(port, "/page.html");
    assert.deepEqual(values(page, "x-site"), ["global"]);
    assert.equal(page.header("cache-control"), "no-cache", "no rule: the default policy");
  });

  test("berth's own error answers do not carry them", async () => {
    const response = await twice(port, "/missing.txt");
    assert.equal(response.status, 404);
    assert.equal(response.header("x-frame-options"), undefined);
  });
});
