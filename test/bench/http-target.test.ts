/**
 * What `berth bench http` sends: URL checks, -H checks, the exact request bytes, the rotation of
 * several URLs laid out as contiguous batches, and --duration parsing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDuration, parseDuration } from "../../src/bench/duration.js";
import {
  buildRequest,
  formatConnectTarget,
  parseBenchUrls,
  parseHeaderFlag,
  RequestRotation,
} from "../../src/bench/http-target.js";

describe("parseBenchUrls", () => {
  // biome-ignore format: one row per line
  const rows: readonly { readonly urls: readonly string[]; readonly unix?: string; readonly want: string }[] = [
    { urls: ["http://127.0.0.1:8080/"], want: "127.0.0.1:8080 | 127.0.0.1:8080 /" },
    { urls: ["http://localhost/a b?q=1#frag"], want: "localhost:80 | localhost /a%20b?q=1" },
    { urls: ["http://[::1]:9000/x"], want: "[::1]:9000 | [::1]:9000 /x" },
    { urls: ["http://example.com"], want: "example.com:80 | example.com /" },
    { urls: ["http://h:1/a", "http://h:1/b"], want: "h:1 | h:1 /a | h:1 /b" },
    { urls: ["http://h/a"], unix: "/run/app.sock", want: "unix:/run/app.sock | h /a" },
    { urls: [], want: "error: expected at least one URL" },
    { urls: ["http://h:1/", "http://h:2/"], want: "error: every URL must have the same host and port (got h:1 and h:2)" },
    { urls: ["https://h/"], want: "error: https://h/: https is not supported (plain HTTP/1.1 only)" },
    { urls: ["ftp://h/"], want: "error: ftp://h/: expected an http:// URL" },
    { urls: ["http://u:p@h/"], want: 'error: http://u:p@h/: credentials in URLs are not sent (use -H "Authorization: ...")' },
    { urls: ["h:80"], want: "error: h:80: expected an http:// URL" },
    { urls: ["/path"], want: 'error: not a URL: "/path" (expected http://HOST[:PORT]/PATH)' },
    { urls: ["http://h/"], unix: "", want: "error: --unix-socket needs a path" },
  ];
  for (const row of rows) {
    const call = `parseBenchUrls(${JSON.stringify(row.urls)}${row.unix === undefined ? "" : `, ${JSON.stringify(row.unix)}`})`;
    test(call, () => {
      const parsed = parseBenchUrls(row.urls, row.unix);
      const got =
        parsed.kind === "error"
          ? `error: ${parsed.message}`
          : [
              formatConnectTarget(parsed.connectTarget),
              ...parsed.urls.map((url) => `${url.host} ${url.requestTarget}`),
            ].join(" | ");
      assert.equal(got, row.want, call);
    });
  }
});

describe("parseHeaderFlag", () => {
  // biome-ignore format: one row per line
  const rows: readonly (readonly [string, string])[] = [
    ["Accept: text/html", "Accept=text/html"],
    ["X-Empty:", "X-Empty="],
    ["X-Spaces: \t a b \t", "X-Spaces=a b"],
    ["Host: other.example", "Host=other.example"],
    ["X-Latin1: caf\u00e9", "X-Latin1=caf\u00e9"],
    ["NoColon", 'error: -H expects "Name: value" with a field name of letters, digits and !#$%&\'*+-.^_`|~, got "NoColon"'],
    [": value", 'error: -H expects "Name: value" with a field name of letters, digits and !#$%&\'*+-.^_`|~, got ": value"'],
    ["Bad Name: v", 'error: -H expects "Name: value" with a field name of letters, digits and !#$%&\'*+-.^_`|~, got "Bad Name: v"'],
    ["X-A: a\r\nInjected: 1", 'error: -H X-A: the value holds a control or non-Latin-1 character ("a\\r\\nInjected: 1")'],
    ["X-A: \u20ac", 'error: -H X-A: the value holds a control or non-Latin-1 character ("\u20ac")'],
    ["content-length: 4", "error: -H content-length: berth bench sends requests without a body"],
    ["Transfer-Encoding: chunked", "error: -H Transfer-Encoding: berth bench sends requests without a body"],
  ];
  for (const [text, want] of rows) {
    test(`parseHeaderFlag(${JSON.stringify(text)})`, () => {
      const parsed = parseHeaderFlag(text);
      const got =
        parsed.kind === "error"
          ? `error: ${parsed.message}`
          : `${parsed.field.name}=${parsed.field.value}`;
      assert.equal(got, want);
    });
  }
});

describe("buildRequest", () => {
  const [url] = (() => {
    const parsed = parseBenchUrls(["http://127.0.0.1:8080/a?b=1"], undefined);
    assert.equal(parsed.kind, "urls");
    return parsed.kind === "urls" ? parsed.urls : [];
  })();
  if (url === undefined) throw new Error("no URL");
  // biome-ignore format: one row per line
  const rows: readonly { readonly name: string; readonly options: Parameters<typeof buildRequest>[1]; readonly want: string }[] = [
    { name: "GET", options: { method: "GET", headers: [], close: false }, want: "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n" },
    { name: "HEAD with --close", options: { method: "HEAD", headers: [], close: true }, want: "HEAD /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n" },
    { name: "-H fields in order", options: { method: "GET", headers: [{ name: "A", value: "1" }, { name: "B", value: "" }], close: false }, want: "GET /a?b=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nA: 1\r\nB: \r\n\r\n" },
    { name: "-H Host replaces the URL's", options: { method: "GET", headers: [{ name: "host", value: "x" }], close: false }, want: "GET /a?b=1 HTTP/1.1\r\nhost: x\r\n\r\n" },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.equal(buildRequest(url, row.options).toString("latin1"), row.want);
    });
  }
});

describe("RequestRotation", () => {
  const requests = ["A", "BB", "CCC"].map((text) => Buffer.from(text, "latin1"));

  test("every batch from every starting point is the rotation's next requests, one view", () => {
    const rotation = new RequestRotation(requests, 4);
    for (let start = 0; start < 7; start++) {
      for (let count = 1; count <= 4; count++) {
        const want = Array.from(
          { length: count },
          (_, i) => ["A", "BB", "CCC"][(start + i) % 3],
        ).join("");
        assert.equal(
          rotation.batch(start, count).toString("latin1"),
          want,
          `batch(${start}, ${count})`,
        );
      }
    }
  });

  test("a full batch is the same view each time (no allocation)", () => {
    const rotation = new RequestRotation(requests, 2);
    assert.equal(rotation.batch(1, 2), rotation.batch(4, 2));
  });

  test("a batch larger than maxBatch is our bug", () => {
    assert.throws(() => new RequestRotation(requests, 2).batch(0, 3), RangeError);
  });
});

describe("parseDuration", () => {
  // biome-ignore format: one row per line
  const rows: readonly (readonly [string, string])[] = [
    ["10s", "10000 ms"], ["500ms", "500 ms"], ["2m", "120000 ms"], ["1h", "3600000 ms"],
    ["1.5s", "1500 ms"], ["3", "3000 ms"], ["24h", "86400000 ms"],
    ["0s", 'error: must be between 1ms and 24h, got "0s"'],
    ["25h", 'error: must be between 1ms and 24h, got "25h"'],
    ["10 s", 'error: expects a duration like 10s, 500ms or 2m, got "10 s"'],
    ["-1s", 'error: expects a duration like 10s, 500ms or 2m, got "-1s"'],
    ["1d", 'error: expects a duration like 10s, 500ms or 2m, got "1d"'],
    ["", 'error: expects a duration like 10s, 500ms or 2m, got ""'],
  ];
  for (const [text, want] of rows) {
    test(`parseDuration(${JSON.stringify(text)}) = ${want}`, () => {
      const parsed = parseDuration(text);
      assert.equal(
        parsed.kind === "error" ? `error: ${parsed.message}` : `${parsed.durationMs} ms`,
        want,
      );
    });
  }

  test("formatDuration", () => {
    assert.deepEqual([300, 1000, 1500, 10_000].map(formatDuration), [
      "300 ms",
      "1 s",
      "1.50 s",
      "10 s",
    ]);
  });
});
