import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { RequestHead } from "../../src/http/request-types.js";
import {
  type AccessRecord,
  createAccessFormatter,
  escapeClfField,
  formatCombinedLine,
  formatCommonLine,
  formatJsonLine,
  jsonString,
} from "../../src/server/access-log.js";

/** 2026-11-21T07:26:10.042Z */
const START_MS = Date.UTC(2026, 10, 21, 7, 26, 10, 42);

function requestOf(
  target: string,
  fields: readonly string[] = [],
  extra: Partial<RequestHead> = {},
): RequestHead {
  return {
    method: "GET",
    target,
    form: "origin",
    path: target,
    query: "",
    httpMinor: 1,
    versionText: "HTTP/1.1",
    host: "example.com",
    fields,
    keepAlive: true,
    expectContinue: false,
    body: { kind: "none" },
    headBytes: 0,
    ...extra,
  };
}

function recordOf(request: RequestHead | null, extra: Partial<AccessRecord> = {}): AccessRecord {
  return {
    remote: "127.0.0.1",
    request,
    status: 200,
    bodyBytes: 10,
    startMs: START_MS,
    durationMs: 3,
    ...extra,
  };
}

describe("the three formats, plain requests", () => {
  const request = requestOf("/digits.txt", [
    "host",
    "example.com",
    "referer",
    "https://example.com/",
    "user-agent",
    "curl/8.5.0",
  ]);

  test("common is Common Log Format, as berth always logged", () => {
    assert.equal(
      formatCommonLine(recordOf(request)),
      '127.0.0.1 - - [21/Nov/2026:07:26:10 +0000] "GET /digits.txt HTTP/1.1" 200 10',
    );
  });

  test("common: no content is -, an unparsed request is -", () => {
    assert.equal(
      formatCommonLine(recordOf(null, { status: 400, bodyBytes: 0 })),
      '127.0.0.1 - - [21/Nov/2026:07:26:10 +0000] "-" 400 -',
    );
  });

  test("combined adds the quoted Referer and User-Agent", () => {
    assert.equal(
      formatCombinedLine(recordOf(request)),
      '127.0.0.1 - - [21/Nov/2026:07:26:10 +0000] "GET /digits.txt HTTP/1.1" 200 10 "https://example.com/" "curl/8.5.0"',
    );
  });

  test("combined: absent fields are -", () => {
    assert.equal(
      formatCombinedLine(recordOf(requestOf("/", []), { remote: "::1" })),
      '::1 - - [21/Nov/2026:07:26:10 +0000] "GET / HTTP/1.1" 200 10 "-" "-"',
    );
    assert.equal(
      formatCombinedLine(recordOf(null, { status: 408, bodyBytes: 0 })),
      '127.0.0.1 - - [21/Nov/2026:07:26:10 +0000] "-" 408 - "-" "-"',
    );
  });

  test("json: one object with every documented field, in order", () => {
    const line = formatJsonLine(recordOf(request), "abc-1");
    assert.equal(
      line,
      '{"time":"2026-11-21T07:26:10.042Z","remote":"127.0.0.1","method":"GET","target":"/digits.txt","version":"HTTP/1.1","status":200,"bytes":10,"durationMs":3,"requestId":"abc-1","referer":"https://example.com/","userAgent":"curl/8.5.0","host":"example.com"}',
    );
  });

  test("json: an unparsed request has null request fields; an empty Host is null", () => {
    assert.deepEqual(JSON.parse(formatJsonLine(recordOf(null, { bodyBytes: 0 }), "x-1")), {
      time: "2026-11-21T07:26:10.042Z",
      remote: "127.0.0.1",
      method: null,
      target: null,
      version: null,
      status: 200,
      bytes: 0,
      durationMs: 3,
      requestId: "x-1",
      referer: null,
      userAgent: null,
      host: null,
    });
    const http10 = requestOf("/", [], { host: "", httpMinor: 0, versionText: "HTTP/1.0" });
    assert.equal(JSON.parse(formatJsonLine(recordOf(http10), "x-2")).host, null);
  });

  test("json: milliseconds are padded (…:10.000Z, …:10.007Z)", () => {
    for (const [ms, want] of [
      [0, "10.000Z"],
      [7, "10.007Z"],
      [70, "10.070Z"],
      [999, "10.999Z"],
    ] as const) {
      const startMs = Date.UTC(2026, 10, 21, 7, 26, 10, ms);
      const { time } = JSON.parse(formatJsonLine(recordOf(null, { startMs }), "x")) as {
        time: string;
      };
      assert.ok(time.endsWith(want), `ms ${ms}: time ${time}, want …${want}`);
      assert.equal(Date.parse(time), startMs);
    }
  });

  test("json request ids: the prefix, then a base-36 counter per formatter", () => {
    const format = createAccessFormatter("json", { requestIdPrefix: "k3f9a2zz" });
    const ids = Array.from({ length: 37 }, () => JSON.parse(format(recordOf(request))).requestId);
    assert.equal(ids[0], "k3f9a2zz-1");
    assert.equal(ids[9], "k3f9a2zz-a");
    assert.equal(ids[35], "k3f9a2zz-10");
    assert.equal(new Set(ids).size, ids.length, "ids repeat");
  });
});

// Peer-controlled text (as latin1: one character per byte, which is how the parser hands it over)
// and how a CLF field must show it.
// biome-ignore format: one row per line
const hostileRows: ReadonlyArray<readonly [string, string, string]> = [
  ["quote ends the field",           'a"b',                          "a\\x22b"],
  ["backslash",                      "a\\b",                         "a\\x5Cb"],
  ["fake escape",                    "\\x22",                        "\\x5Cx22"],
  ["CRLF forges a line",             'x\r\n1.2.3.4 - - [x] "GET /',  'x\\x0D\\x0A1.2.3.4 - - [x] \\x22GET /'],
  ["bare LF",                        "a\nb",                         "a\\x0Ab"],
  ["NUL",                            "a\u0000b",                     "a\\x00b"],
  ["ESC sequence (terminal)",        "\u001b[31mred\u001b[0m",       "\\x1B[31mred\\x1B[0m"],
  ["TAB",                            "a\tb",                         "a\\x09b"],
  ["DEL",                            "a\u007fb",                     "a\\x7Fb"],
  ["UTF-8 bytes as latin1",          "caf\u00c3\u00a9",              "caf\\xC3\\xA9"],
  ["NEL (U+0085 as a byte)",         "a\u0085b",                     "a\\x85b"],
  ["U+2028 (never from the wire)",   "a\u2028b",                     "a\\xE2\\x80\\xA8b"],
  ["astral (never from the wire)",   "a\u{1F600}b",                  "a\\xF0\\x9F\\x98\\x80b"],
  ["plain text untouched",           "Mozilla/5.0 (X11; Linux) [x] {y} 'z'", "Mozilla/5.0 (X11; Linux) [x] {y} 'z'"],
];

describe("escaping: peer text never breaks a line or a field", () => {
  for (const [name, text, want] of hostileRows) {
    test(`${name}: escapeClfField(${JSON.stringify(text)})`, () => {
      assert.equal(escapeClfField(text), want);
    });
  }

  for (const [name, text] of hostileRows) {
    test(`${name}: as target, Referer, User-Agent and Host, in every format`, () => {
      const request = requestOf(`/${text}`, ["referer", text, "user-agent", text], { host: text });
      const record = recordOf(request);
      assertCommonShape(formatCommonLine(record), 2);
      assertCommonShape(formatCombinedLine(record), 6);
      const json = formatJsonLine(record, "id-1");
      assertAsciiLine(json);
      const parsed = JSON.parse(json) as Record<string, unknown>;
      assert.deepEqual(
        [parsed.target, parsed.referer, parsed.userAgent, parsed.host],
        [`/${text}`, text, text, text],
        `json round trip of ${JSON.stringify(text)}: ${json}`,
      );
    });
  }

  test("any latin1 text, in any field: one line, the right number of quotes, JSON round trip", () => {
    const latin1 = fc.string({
      unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)),
    });
    fc.assert(
      fc.property(latin1, latin1, latin1, (target, referer, userAgent) => {
        const request = requestOf(target, ["referer", referer, "user-agent", userAgent], {
          host: referer,
        });
        const record = recordOf(request);
        assertCommonShape(formatCommonLine(record), 2);
        assertCommonShape(formatCombinedLine(record), 6);
        const json = formatJsonLine(record, "id");
        assertAsciiLine(json);
        const parsed = JSON.parse(json) as Record<string, unknown>;
        assert.deepEqual(
          [parsed.target, parsed.referer, parsed.userAgent],
          [target, referer, userAgent],
        );
      }),
      { numRuns: 500 },
    );
  });

  test("jsonString is JSON.stringify made pure ASCII", () => {
    for (const text of [
      "",
      "plain",
      '"\\',
      "\u0000\u001f",
      "\u007f\u0080\u00ff",
      "\u2028\u2029",
      "\ud800",
    ]) {
      const literal = jsonString(text);
      assertAsciiLine(literal);
      assert.equal(JSON.parse(literal), text, `jsonString(${JSON.stringify(text)}) = ${literal}`);
    }
  });
});

/** One line of printable ASCII with exactly `quotes` double quotes (the field delimiters). */
function assertCommonShape(line: string, quotes: number): void {
  assertAsciiLine(line);
  assert.equal(line.split('"').length - 1, quotes, `quotes in ${line}`);
}

function assertAsciiLine(line: string): void {
  assert.match(line, /^[\x20-\x7e]*$/, `not one line of printable ASCII: ${JSON.stringify(line)}`);
}
