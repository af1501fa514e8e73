import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type CorsPolicy,
  createCors,
  evaluateCorsFor,
  MAX_ECHOED_REQUEST_HEADERS,
  normalizeHeaderNames,
  parseCorsOrigin,
} from "../../src/http/cors.js";

const ANY: CorsPolicy = { anyOrigin: true, origins: new Set() };
const LISTED: CorsPolicy = {
  anyOrigin: false,
  origins: new Set(["https://app.example", "http://localhost:5173"]),
};

const EXPOSE = "Access-Control-Expose-Headers: ETag, Content-Range, Accept-Ranges";
const METHODS = "Access-Control-Allow-Methods: GET, HEAD, OPTIONS|Access-Control-Max-Age: 7200";

const any = "ANY";
const listed = "LISTED";
const policies: Record<string, CorsPolicy> = { [any]: ANY, [listed]: LISTED };

// [policy, method, Origin, Access-Control-Request-Method, Access-Control-Request-Headers, want]
// biome-ignore format: one row per line
const table: ReadonlyArray<readonly [string, string, string | null, string | null, string | null, string]> = [
  // any origin: the same lines whatever the Origin (no Vary: the answer does not depend on it)
  [any,    "GET",     null,                       null,   null,                         `actual: Access-Control-Allow-Origin: *|${EXPOSE}`],
  [any,    "GET",     "https://evil.example",     null,   null,                         `actual: Access-Control-Allow-Origin: *|${EXPOSE}`],
  [any,    "HEAD",    "null",                     null,   null,                         `actual: Access-Control-Allow-Origin: *|${EXPOSE}`],
  [any,    "OPTIONS", "https://a.example",        null,   null,                         `actual: Access-Control-Allow-Origin: *|${EXPOSE}`],
  [any,    "OPTIONS", null,                       "GET",  null,                         `actual: Access-Control-Allow-Origin: *|${EXPOSE}`],
  [any,    "OPTIONS", "https://a.example",        "GET",  null,                         `preflight: Access-Control-Allow-Origin: *|${METHODS}`],
  [any,    "OPTIONS", "https://a.example",        "GET",  "range, if-none-match",       `preflight: Access-Control-Allow-Origin: *|${METHODS}|Access-Control-Allow-Headers: range, if-none-match|Vary: Access-Control-Request-Headers`],
  [any,    "OPTIONS", "https://a.example",        "PUT",  "X-Custom,  Range ,,",        `preflight: Access-Control-Allow-Origin: *|${METHODS}|Access-Control-Allow-Headers: x-custom, range|Vary: Access-Control-Request-Headers`],
  [any,    "OPTIONS", "https://a.example",        "GET",  "",                           `preflight: Access-Control-Allow-Origin: *|${METHODS}`],
  [any,    "OPTIONS", "https://a.example",        "GET",  "bad header, x",              `preflight: Access-Control-Allow-Origin: *|${METHODS}`],
  [any,    "OPTIONS", "https://a.example",        "GET",  "x\r\nInjected: 1",           `preflight: Access-Control-Allow-Origin: *|${METHODS}`],
  // listed origins: echoed exactly, Vary: Origin on every answer
  [listed, "GET",     "https://app.example",      null,   null,                         `actual: Access-Control-Allow-Origin: https://app.example|Vary: Origin|${EXPOSE}`],
  [listed, "GET",     "http://localhost:5173",    null,   null,                         `actual: Access-Control-Allow-Origin: http://localhost:5173|Vary: Origin|${EXPOSE}`],
  [listed, "GET",     null,                       null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "https://evil.example",     null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "https://APP.example",      null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "https://app.example/",     null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "https://app.example:443",  null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "http://app.example",       null,   null,                         "actual: Vary: Origin"],
  [listed, "GET",     "https://app.example, https://evil.example", null, null,          "actual: Vary: Origin"],
  [listed, "GET",     "null",                     null,   null,                         "actual: Vary: Origin"],
  [listed, "OPTIONS", "https://app.example",      "GET",  null,                         `preflight: Access-Control-Allow-Origin: https://app.example|Vary: Origin|${METHODS}`],
  [listed, "OPTIONS", "https://app.example",      "GET",  "range",                      `preflight: Access-Control-Allow-Origin: https://app.example|Vary: Origin|${METHODS}|Access-Control-Allow-Headers: range|Vary: Access-Control-Request-Headers`],
  // a preflight from an origin not listed is a plain OPTIONS: no CORS fields, the browser refuses
  [listed, "OPTIONS", "https://evil.example",     "GET",  "range",                      "actual: Vary: Origin"],
  [listed, "OPTIONS", null,                       "GET",  null,                         "actual: Vary: Origin"],
];

describe("createCors", () => {
  for (const [policyName, method, origin, requestMethod, requestHeaders, want] of table) {
    const call = `cors[${policyName}](${method}, Origin ${JSON.stringify(origin)}, ACRM ${JSON.stringify(requestMethod)}, ACRH ${JSON.stringify(requestHeaders)})`;
    test(call, () => {
      const cors = createCors(policies[policyName] as CorsPolicy);
      const answer = cors(method, origin, requestMethod, requestHeaders);
      const got = `${answer.kind}: ${answer.headerLines.split("\r\n").slice(0, -1).join("|")}`;
      assert.ok(answer.headerLines.endsWith("\r\n"), `${call}: lines do not end in CRLF`);
      assert.equal(got, want, `${call} = ${got}, want ${want}`);
    });
  }

  test("answers are precomputed: the same object for the same origin", () => {
    const cors = createCors(LISTED);
    assert.equal(
      cors("GET", "https://app.example", null, null),
      cors("GET", "https://app.example", null, null),
    );
    const anyCors = createCors(ANY);
    assert.equal(
      anyCors("GET", "https://x.example", null, null),
      anyCors("HEAD", null, null, null),
    );
  });

  test("evaluateCorsFor reads the three fields from a field list", () => {
    const cors = createCors(LISTED);
    const fields = [
      "origin",
      "https://app.example",
      "access-control-request-method",
      "GET",
      "access-control-request-headers",
      "Range",
    ];
    const answer = evaluateCorsFor(cors, "OPTIONS", fields);
    assert.equal(answer.kind, "preflight");
    assert.match(answer.headerLines, /Access-Control-Allow-Headers: range\r\n/);
  });
});

test(`normalizeHeaderNames refuses more than ${MAX_ECHOED_REQUEST_HEADERS} names`, () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `x-${i}`).join(",");
  assert.equal(
    normalizeHeaderNames(names(MAX_ECHOED_REQUEST_HEADERS))?.split(", ").length,
    MAX_ECHOED_REQUEST_HEADERS,
  );
  assert.equal(normalizeHeaderNames(names(MAX_ECHOED_REQUEST_HEADERS + 1)), null);
});

// [--cors-origin text, the origin it gives, or a pattern its refusal matches]
// biome-ignore format: one row per line
const originRows: ReadonlyArray<readonly [string, string | RegExp]> = [
  ["https://example.com",            "https://example.com"],
  ["http://localhost:5173",          "http://localhost:5173"],
  ["https://example.com:8443",       "https://example.com:8443"],
  ["http://127.0.0.1:8080",          "http://127.0.0.1:8080"],
  ["http://[::1]:3000",              "http://[::1]:3000"],
  ["https://xn--bcher-kva.example",  "https://xn--bcher-kva.example"],
  ["tauri://localhost",              "tauri://localhost"],
  ["https://Example.com",            /not a serialized origin \(write https:\/\/example\.com\)/],
  ["HTTPS://example.com",            /write https:\/\/example\.com\)/],
  ["https://example.com/",           /write https:\/\/example\.com\)/],
  ["https://example.com/app",        /write https:\/\/example\.com\)/],
  ["https://example.com:443",        /write https:\/\/example\.com\)/],
  ["http://example.com:80",          /write http:\/\/example\.com\)/],
  ["https://bücher.example",         /write https:\/\/xn--bcher-kva\.example\)/],
  ["https://user@example.com",       /write https:\/\/example\.com\)/],
  ["example.com",                    /not an origin/],
  ["",                               /not an origin/],
  ["*",                              /use --cors/],
  ["null",                           /"null" stands for every opaque origin/],
  ["file:///tmp/x",                  /not an origin/],
  ["data:text/plain,x",              /not an origin/],
];

describe("parseCorsOrigin", () => {
  for (const [text, want] of originRows) {
    test(JSON.stringify(text), () => {
      const result = parseCorsOrigin(text);
      const got = result.kind === "origin" ? result.origin : `error: ${result.reason}`;
      if (typeof want === "string") {
        assert.equal(got, want, `parseCorsOrigin(${JSON.stringify(text)}) = ${got}`);
      } else {
        assert.equal(
          result.kind,
          "error",
          `parseCorsOrigin(${JSON.stringify(text)}) = ${got}, want an error`,
        );
        assert.match(got, want, `parseCorsOrigin(${JSON.stringify(text)}) = ${got}`);
      }
    });
  }
});
