import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createBoundary,
  layoutMultipart,
  type MultipartLayout,
} from "../../src/conditional/multipart.js";
import type { ByteRange } from "../../src/conditional/range.js";

// The fixture digits.txt: byte n is the digit n.
const digits = Buffer.from("0123456789", "latin1");

/** The body a writer would send: buffers as they are, ranges read from the file. */
function assembleBody(layout: MultipartLayout, file: Buffer): string {
  const parts = layout.segments.map((segment) =>
    Buffer.isBuffer(segment)
      ? segment
      : file.subarray(segment.start, segment.start + segment.length),
  );
  return Buffer.concat(parts).toString("latin1");
}

const span = (start: number, length: number): ByteRange => ({ start, length });

// biome-ignore format: one row per line
const layoutRows: ReadonlyArray<readonly [readonly ByteRange[], string, string, string, string]> = [
  [[span(0, 3), span(5, 2)], "text/plain", "B0und", "multipart/byteranges; boundary=B0und",
    "--B0und\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-2/10\r\n\r\n012" +
    "\r\n--B0und\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\n56" +
    "\r\n--B0und--\r\n"],
  [[span(8, 2), span(2, 3), span(0, 1)], "text/plain; charset=utf-8", "xyz", "multipart/byteranges; boundary=xyz",
    "--xyz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 8-9/10\r\n\r\n89" +
    "\r\n--xyz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 2-4/10\r\n\r\n234" +
    "\r\n--xyz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-0/10\r\n\r\n0" +
    "\r\n--xyz--\r\n"],
  // a single part is still a well-formed multipart body
  [[span(0, 10)], "application/octet-stream", "b", "multipart/byteranges; boundary=b",
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-9/10\r\n\r\n0123456789" +
    "\r\n--b--\r\n"],
  // no Content-Type for the parts when the representation has none (RFC 9110 §14.6)
  [[span(1, 1), span(3, 1)], "", "b", "multipart/byteranges; boundary=b",
    "--b\r\nContent-Range: bytes 1-1/10\r\n\r\n1\r\n--b\r\nContent-Range: bytes 3-3/10\r\n\r\n3\r\n--b--\r\n"],
  // a boundary with bchars that are not tchars is quoted in Content-Type, never in the body
  [[span(1, 1), span(3, 1)], "text/plain", "a:b c?", 'multipart/byteranges; boundary="a:b c?"',
    "--a:b c?\r\nContent-Type: text/plain\r\nContent-Range: bytes 1-1/10\r\n\r\n1" +
    "\r\n--a:b c?\r\nContent-Type: text/plain\r\nContent-Range: bytes 3-3/10\r\n\r\n3\r\n--a:b c?--\r\n"],
];

for (const [ranges, partType, boundary, wantType, wantBody] of layoutRows) {
  const call = `layoutMultipart(${JSON.stringify(ranges)}, 10, ${JSON.stringify(partType)}, ${JSON.stringify(boundary)})`;
  test(call, () => {
    const layout = layoutMultipart(ranges, 10, partType, boundary);
    const body = assembleBody(layout, digits);
    assert.equal(
      body,
      wantBody,
      `${call} body = ${JSON.stringify(body)}, want ${JSON.stringify(wantBody)}`,
    );
    assert.equal(
      layout.contentType,
      wantType,
      `${call}.contentType = ${layout.contentType}, want ${wantType}`,
    );
    const bodyLength = Buffer.byteLength(body, "latin1");
    assert.equal(
      layout.contentLength,
      bodyLength,
      `${call}.contentLength = ${layout.contentLength}, want ${bodyLength}`,
    );
    // One Buffer per part head (delimiter and headers together), one per range, one closing.
    const kinds = layout.segments.map((s) => (Buffer.isBuffer(s) ? "buffer" : "range")).join(",");
    const wantKinds = [...ranges.map(() => "buffer,range"), "buffer"].join(",");
    assert.equal(kinds, wantKinds, `${call} segments = ${kinds}, want ${wantKinds}`);
  });
}

test("layoutMultipart contentLength matches the assembled body for a large file", () => {
  const sizeBytes = 2 ** 40;
  const ranges = [span(0, 100), span(sizeBytes - 100, 100)];
  const layout = layoutMultipart(ranges, sizeBytes, "video/mp4", "b");
  const headBytes = layout.segments.reduce(
    (sum, s) => sum + (Buffer.isBuffer(s) ? s.length : 0),
    0,
  );
  const head = Buffer.concat(layout.segments.filter((s) => Buffer.isBuffer(s))).toString("latin1");
  assert.match(head, /Content-Range: bytes 1099511627676-1099511627775\/1099511627776\r\n/);
  assert.equal(layout.contentLength, headBytes + 200);
});

// Contract violations are our own bugs and must not pass silently.
// biome-ignore format: one row per line
const badArguments: ReadonlyArray<readonly [readonly ByteRange[], number, string, string]> = [
  [[], 10, "text/plain", "b"],
  [[span(0, 0)], 10, "text/plain", "b"],
  [[span(-1, 2)], 10, "text/plain", "b"],
  [[span(9, 2)], 10, "text/plain", "b"],
  [[span(0.5, 2)], 10, "text/plain", "b"],
  [[span(0, 1)], 0, "text/plain", "b"],
  [[span(0, 1)], 10, "text/plain\r\nX-Injected: 1", "b"],
  [[span(0, 1)], 10, "text/plain", ""],
  [[span(0, 1)], 10, "text/plain", "b "],
  [[span(0, 1)], 10, "text/plain", "a\"b"],
  [[span(0, 1)], 10, "text/plain", "x".repeat(71)],
];

for (const [ranges, sizeBytes, partType, boundary] of badArguments) {
  const call = `layoutMultipart(${JSON.stringify(ranges)}, ${sizeBytes}, ${JSON.stringify(partType)}, ${JSON.stringify(boundary)})`;
  test(`${call} throws`, () => {
    assert.throws(() => layoutMultipart(ranges, sizeBytes, partType, boundary), RangeError, call);
  });
}

// RFC 2046 §5.1.1 bcharsnospace; createBoundary promises no spaces at all.
const BCHARS_NO_SPACE = /^[0-9A-Za-z'()+_,\-./:=?]+$/;

test("createBoundary() is 1..70 bchars without spaces, and differs across 1000 calls", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const boundary = createBoundary();
    assert.ok(
      boundary.length >= 1 && boundary.length <= 70,
      `createBoundary() = ${boundary}, want 1..70 chars`,
    );
    assert.match(boundary, BCHARS_NO_SPACE, `createBoundary() = ${boundary}, want only bchars`);
    seen.add(boundary);
  }
  assert.equal(seen.size, 1000, `createBoundary() gave ${seen.size} distinct values in 1000 calls`);
});

test("createBoundary() is accepted by layoutMultipart unquoted", () => {
  const boundary = createBoundary();
  const layout = layoutMultipart([span(2, 3)], 10, "text/plain", boundary);
  assert.equal(layout.contentType, `multipart/byteranges; boundary=${boundary}`);
  assert.ok(assembleBody(layout, digits).startsWith(`--${boundary}\r\n`));
});
