import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CORS_FIELD_PREFIX,
  checkHeader,
  type ExtraHeader,
  formatExtraHeaderLines,
  overrideHeaders,
  parseHeaderLine,
  REFUSED_HEADER_NAMES,
} from "../../src/http/extra-headers.js";

/** "Name: value" for a header, "error: <what the reason must mention>" for a refusal. */
function show(result: ReturnType<typeof parseHeaderLine>): string {
  return result.kind === "header"
    ? `${result.header.name}: ${result.header.value}`
    : `error: ${result.reason}`;
}

// A row: the --header text, and either the header it gives or a pattern its refusal matches.
// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string, string | RegExp]> = [
  ["X-Frame-Options: DENY",                          "X-Frame-Options: DENY"],
  ["x-frame-options:DENY",                           "x-frame-options: DENY"],
  ["X-A:   spaced out   ",                           "X-A: spaced out"],
  ["X-A:\tTAB\t",                                    "X-A: TAB"],
  ["X-Empty:",                                       "X-Empty: "],
  ["Link: </a.css>; rel=preload; as=style",          "Link: </a.css>; rel=preload; as=style"],
  ["X-Colons: a:b:c",                                "X-Colons: a:b:c"],
  ["Strict-Transport-Security: max-age=63072000",    "Strict-Transport-Security: max-age=63072000"],
  ["X-Tokens!#$%&'*+-.^_`|~: ok",                    "X-Tokens!#$%&'*+-.^_`|~: ok"],
  // names: RFC 9110 §5.1 token, no whitespace before the colon (RFC 9112 §5.1)
  ["no colon here",                                  /expected "Name: value"/],
  [": value",                                        /field name is empty/],
  ["X A: b",                                         /"X A" is not a valid field name/],
  ["X-A : b",                                        /"X-A " is not a valid field name/],
  ["X(A): b",                                        /is not a valid field name/],
  ["X\u00e9: b",                                     /is not a valid field name/],
  ["X\r\nInjected: b",                               /"X\\r\\nInjected" is not a valid field name/],
  // values: field-vchar, SP, HTAB only (RFC 9110 §5.5)
  ["X-A: a\r\nSet-Cookie: evil=1",                   /value of X-A holds a CR/],
  ["X-A: a\nb",                                      /value of X-A holds an LF/],
  ["X-A: a\u0000b",                                  /value of X-A holds a NUL/],
  ["X-A: a\u0007b",                                  /value of X-A holds a control character \(0x07\)/],
  ["X-A: a\u007fb",                                  /value of X-A holds a control character \(0x7f\)/],
  ["X-A: caf\u00e9",                                 /value of X-A holds a non-ASCII character \(U\+00E9\)/],
  ["X-A: \u2028",                                    /non-ASCII character \(U\+2028\)/],
  // fields berth writes itself
  ["Content-Length: 5",                              /Content-Length cannot be set: berth frames/],
  ["transfer-encoding: chunked",                     /transfer-encoding cannot be set: berth frames/],
  ["Connection: keep-alive",                         /Connection cannot be set: berth frames/],
  ["Content-Range: bytes 0-1/2",                     /cannot be set: berth frames/],
  ["Keep-Alive: timeout=5",                          /cannot be set: berth frames/],
  ["Upgrade: h2c",                                   /cannot be set: berth frames/],
  ["TE: trailers",                                   /cannot be set: berth frames/],
  ["Trailer: X",                                     /cannot be set: berth frames/],
  ["Date: Thu, 01 Jan 1970 00:00:00 GMT",            /Date cannot be set: berth sends Date/],
  ["Content-Type: text/plain",                       /cannot be set: berth sets it from the file/],
  ["ETag: \"x\"",                                    /cannot be set: berth sets it from the file/],
  ["Vary: Cookie",                                   /cannot be set: berth sets it from the file/],
  ["Cache-Control: no-store",                        /cannot be set: use --max-age, --immutable or a rule's cacheControl/],
  ["Access-Control-Allow-Origin: *",                 /cannot be set: use --cors or --cors-origin/],
  ["access-control-expose-headers: X",               /cannot be set: use --cors or --cors-origin/],
  ["Host: example.com",                              /cannot be set: it is a request field/],
];

describe("parseHeaderLine", () => {
  for (const [text, want] of rows) {
    test(JSON.stringify(text), () => {
      const got = show(parseHeaderLine(text));
      if (typeof want === "string") {
        assert.equal(got, want, `parseHeaderLine(${JSON.stringify(text)}) = ${got}, want ${want}`);
      } else {
        assert.match(
          got,
          /^error: /,
          `parseHeaderLine(${JSON.stringify(text)}) = ${got}, want an error`,
        );
        assert.match(got, want, `parseHeaderLine(${JSON.stringify(text)}) = ${got}`);
      }
    });
  }

  test("every refused name is refused in any letter case", () => {
    for (const name of [...REFUSED_HEADER_NAMES, `${CORS_FIELD_PREFIX}max-age`]) {
      for (const spelling of [name, name.toUpperCase(), capitalize(name)]) {
        const result = checkHeader(spelling, "x");
        assert.equal(
          result.kind,
          "error",
          `checkHeader(${spelling}) = ${show(result)}, want an error`,
        );
      }
    }
  });
});

test("formatExtraHeaderLines: one CRLF-terminated line each, in order, as spelled", () => {
  const headers: ExtraHeader[] = [
    { name: "X-Frame-Options", value: "DENY" },
    { name: "link", value: "</a.css>; rel=preload" },
    { name: "Link", value: "</b.js>; rel=preload" },
  ];
  assert.equal(
    formatExtraHeaderLines(headers),
    "X-Frame-Options: DENY\r\nlink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n",
  );
  assert.equal(formatExtraHeaderLines([]), "");
});

// biome-ignore format: one row per line
const overrideRows: ReadonlyArray<readonly [string, string, string, string]> = [
  ["nothing over nothing",            "",                  "",                 ""],
  ["later adds",                      "A: 1",              "B: 2",             "A: 1|B: 2"],
  ["later replaces by name",          "A: 1|B: 2",         "a: 3",             "B: 2|a: 3"],
  ["every earlier line of the name",  "Link: 1|Link: 2|C: 3", "LINK: 9",       "C: 3|LINK: 9"],
  ["later keeps its own repeats",     "A: 1",              "B: 1|B: 2",        "A: 1|B: 1|B: 2"],
];

describe("overrideHeaders", () => {
  const list = (text: string): ExtraHeader[] =>
    text === ""
      ? []
      : text.split("|").map((line) => {
          const [name = "", value = ""] = line.split(": ");
          return { name, value };
        });
  for (const [name, earlier, later, want] of overrideRows) {
    test(name, () => {
      const got = overrideHeaders(list(earlier), list(later))
        .map((h) => `${h.name}: ${h.value}`)
        .join("|");
      assert.equal(got, want, `overrideHeaders(${earlier}, ${later}) = ${got}, want ${want}`);
    });
  }
});

function capitalize(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
}
