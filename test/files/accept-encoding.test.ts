import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type Coding,
  DEFAULT_PRECOMPRESSED_CODINGS,
  negotiateCoding,
  parseCodingList,
  SIDECAR_EXTENSION,
} from "../../src/files/accept-encoding.js";

const ALL: readonly Coding[] = ["br", "zstd", "gzip"];

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string | null, readonly Coding[], Coding | null]> = [
  // no field, empty field (RFC 9110 §12.5.3)
  [null, ALL, null],
  ["", ALL, null],
  [" ", ALL, null],
  [", ,", ALL, null],
  // one coding
  ["gzip", ALL, "gzip"],
  ["br", ALL, "br"],
  ["zstd", ALL, "zstd"],
  ["deflate", ALL, null],
  ["compress", ALL, null],
  ["identity", ALL, null],
  // case-insensitive names (§8.4.1), x-gzip is gzip (§8.4.1.3)
  ["GZIP", ALL, "gzip"],
  ["Br", ALL, "br"],
  ["ZSTD", ALL, "zstd"],
  ["x-gzip", ALL, "gzip"],
  ["X-GZIP", ALL, "gzip"],
  ["x-gzip;q=0, *", ["gzip"], null],
  // what browsers send
  ["gzip, deflate", ALL, "gzip"],
  ["gzip, deflate, br", ALL, "br"],
  ["gzip, deflate, br, zstd", ALL, "br"],
  ["compress, gzip", ALL, "gzip"],
  // highest q wins; equal q goes to the server's order, not the client's
  ["br;q=0.5, gzip", ALL, "gzip"],
  ["gzip;q=1.0, br;q=0.999", ALL, "gzip"],
  ["gzip;q=0.5, br;q=0.5, identity;q=0", ALL, "br"],
  ["gzip, zstd", ALL, "zstd"],
  ["gzip;q=0.8, zstd;q=0.9, br;q=0.7, identity;q=0", ALL, "zstd"],
  ["br;q=0.001, identity;q=0", ALL, "br"],
  ["br;q=0.001, gzip;q=0.002, identity;q=0", ALL, "gzip"],
  ["br;q=0", ALL, null],
  ["br;q=0.000", ALL, null],
  ["gzip;q=0, br;q=0, zstd;q=0", ALL, null],
  // wildcard (§12.5.3: "*" matches codings not listed)
  ["*", ALL, "br"],
  ["*;q=0", ALL, null],
  ["*;q=0.5", ALL, "br"],
  ["gzip;q=0, *", ALL, "br"],
  ["br;q=0, *;q=0.5", ALL, "zstd"],
  ["br;q=0, zstd;q=0, *", ALL, "gzip"],
  ["gzip, *;q=0", ALL, "gzip"],
  ["gzip;q=0.5, *", ALL, "br"],
  ["*, br;q=0.5", ALL, "zstd"],
  // identity: its own weight, else "*"'s weight (§12.5.3 rule 2), else least preferred (a listed
  // coding is asked for); it wins only when strictly heavier than the best coding
  ["br;q=0.001", ALL, "br"],
  ["gzip;q=0.5", ALL, "gzip"],
  ["gzip;q=0.8, zstd;q=0.9, br;q=0.7", ALL, "zstd"],
  ["identity;q=0", ALL, null],
  ["identity;q=1, gzip;q=0.5", ALL, null],
  ["gzip;q=0.5, identity;q=0.6", ALL, null],
  ["gzip;q=0.5, identity;q=0.5", ALL, "gzip"],
  ["gzip, identity;q=1", ALL, "gzip"],
  ["gzip;q=0.5, identity;q=0", ALL, "gzip"],
  ["gzip;q=1.0, identity; q=0.5, *;q=0", ALL, "gzip"],
  ["identity;q=0.5, *;q=0.4", ALL, null],
  ["identity;q=0.3, *;q=0.4", ALL, "br"],
  ["gzip;q=0.5, *;q=0.6", ALL, "br"],
  ["gzip;q=0.5, *;q=0", ALL, "gzip"],
  ["IDENTITY;q=0, gzip", ALL, "gzip"],
  // identity excluded and no coding acceptable: identity anyway, never 406
  ["identity;q=0, *;q=0", ALL, null],
  ["identity;q=0, deflate", ALL, null],
  // weights (§12.4.2): OWS around ";", "q" in any case, "=" bare, at most 3 decimals
  ["gzip; q=0.5, identity;q=0", ALL, "gzip"],
  ["gzip ;q=0.5, identity;q=0", ALL, "gzip"],
  ["gzip \t; \tq=0.5 \t, identity;q=0", ALL, "gzip"],
  ["gzip;Q=0.5, identity;q=0", ALL, "gzip"],
  ["gzip;q=1", ALL, "gzip"],
  ["gzip;q=1.", ALL, "gzip"],
  ["gzip;q=1.000", ALL, "gzip"],
  ["gzip;q=0., *", ["gzip"], null],
  ["gzip;q=0.999, br;q=0.998, identity;q=0", ALL, "gzip"],
  // an invalid weight drops the whole element (identity;q=0 makes a misparsed
  // weight show as "gzip")
  ["gzip;q=2, identity;q=0", ALL, null],
  ["gzip;q=1.001, identity;q=0", ALL, null],
  ["gzip;q=1.0000, identity;q=0", ALL, null],
  ["gzip;q=0.1234, identity;q=0", ALL, null],
  ["gzip;q=0.5555, identity;q=0", ALL, null],
  ["gzip;q=.5, identity;q=0", ALL, null],
  ["gzip;q=-0, identity;q=0", ALL, null],
  ["gzip;q=abc, identity;q=0", ALL, null],
  ["gzip;q=, identity;q=0", ALL, null],
  ["gzip;q, identity;q=0", ALL, null],
  ["gzip;, identity;q=0", ALL, null],
  ["gzip;q = 0.5, identity;q=0", ALL, null],
  ["gzip;q= 0.5, identity;q=0", ALL, null],
  ["gzip q=0.5, identity;q=0", ALL, null],
  ["gzip;level=1, identity;q=0", ALL, null],
  ["gzip;q=0.5;level=1, identity;q=0", ALL, null],
  ["gzip;level=1;q=0.5, identity;q=0", ALL, null],
  ["gzip;q=0.5;q=0.6, identity;q=0", ALL, null],
  ["gzip;q=2", ALL, null],
  ["gzip;level=1", ALL, null],
  ["gzip; q=0.5", ALL, "gzip"],
  ["gzip;q=2, br", ["gzip", "br"], "br"],
  ["*;q=2", ALL, null],
  ["identity;q=2, *;q=0.5", ALL, "br"],
  ["gzip;q=0, gzip;q=abc", ALL, null],
  // empty list elements are skipped (§5.6.1)
  [", ,gzip,", ALL, "gzip"],
  [",,br,,", ALL, "br"],
  ["\tgzip\t", ALL, "gzip"],
  // a name listed twice takes its lowest weight
  ["gzip;q=0, gzip", ALL, null],
  ["gzip, gzip;q=0", ALL, null],
  ["x-gzip;q=0, gzip", ALL, null],
  ["gzip;q=0.2, gzip;q=0.9, br;q=0.5, identity;q=0", ALL, "br"],
  ["*;q=0, *", ALL, null],
  // a comma inside a quoted string does not start an element
  ['br;x="a,gzip,b"', ALL, null],
  ['br;x="a\\",gzip"', ALL, null],
  ['br;x="a,gzip', ALL, null],
  // codings glued to others are not those codings
  ["gzip2", ALL, null],
  ["brotli", ALL, null],
  ["zst", ALL, null],
  ["gzip,br", ALL, "br"],
  // other availability and orders: only what is on disk counts, in the server's order
  ["gzip, br", [], null],
  ["*", [], null],
  ["gzip, deflate, br", ["gzip"], "gzip"],
  ["br", ["gzip"], null],
  ["br", ["zstd", "gzip"], null],
  ["gzip, br", ["gzip", "br"], "gzip"],
  ["gzip, br, zstd", ["zstd", "br", "gzip"], "zstd"],
  ["*", ["gzip", "br"], "gzip"],
  ["gzip;q=0.5, br", ["gzip", "br"], "br"],
  ["br;q=0, *", ["br"], null],
  ["br, gzip;q=0.9, identity;q=0.8", ["gzip", "zstd"], "gzip"],
  ["identity;q=0.5, zstd;q=0.5", ["zstd"], "zstd"],
];

const show = (value: unknown): string => JSON.stringify(value);

for (const [header, available, want] of rows) {
  const call = `negotiateCoding(${show(header)}, ${show(available)})`;
  test(call, () => {
    const got = negotiateCoding(header, available);
    assert.equal(got, want, `${call} = ${show(got)}, want ${show(want)}`);
  });
}

// biome-ignore format: one row per line
const listRows: ReadonlyArray<readonly [string, Coding[]]> = [
  ["br,zstd,gzip", ["br", "zstd", "gzip"]],
  ["gzip", ["gzip"]],
  ["gzip,br", ["gzip", "br"]],
  ["zstd,gzip,br", ["zstd", "gzip", "br"]],
  [" br , gzip ", ["br", "gzip"]],
  ["br, zstd, gzip", ["br", "zstd", "gzip"]],
  ["BR,Gzip", ["br", "gzip"]],
];

for (const [text, want] of listRows) {
  const call = `parseCodingList(${show(text)})`;
  test(call, () => {
    const got = parseCodingList(text);
    assert.deepEqual(got, want, `${call} = ${show(got)}, want ${show(want)}`);
  });
}

// biome-ignore format: one row per line
const badListRows: ReadonlyArray<readonly [string, string]> = [
  ["", "--precompressed: no codings given (choose from br, zstd, gzip)"],
  ["  ", "--precompressed: no codings given (choose from br, zstd, gzip)"],
  ["deflate", '--precompressed: unknown coding "deflate" (choose from br, zstd, gzip)'],
  ["br,deflate", '--precompressed: unknown coding "deflate" (choose from br, zstd, gzip)'],
  ["br, Deflate ", '--precompressed: unknown coding "Deflate" (choose from br, zstd, gzip)'],
  ["x-gzip", '--precompressed: unknown coding "x-gzip" (choose from br, zstd, gzip)'],
  ["identity", '--precompressed: unknown coding "identity" (choose from br, zstd, gzip)'],
  ["br;q=1", '--precompressed: unknown coding "br;q=1" (choose from br, zstd, gzip)'],
  ["br zstd", '--precompressed: unknown coding "br zstd" (choose from br, zstd, gzip)'],
  ["br,,gzip", '--precompressed: empty entry in "br,,gzip" (choose from br, zstd, gzip)'],
  ["br,", '--precompressed: empty entry in "br," (choose from br, zstd, gzip)'],
  ["br,gzip,br", '--precompressed: coding "br" is listed twice'],
  ["gzip,GZIP", '--precompressed: coding "gzip" is listed twice'],
];

for (const [text, message] of badListRows) {
  const call = `parseCodingList(${show(text)})`;
  test(`${call} throws`, () => {
    assert.throws(
      () => parseCodingList(text),
      { message },
      `${call} did not throw ${show(message)}`,
    );
  });
}

test("SIDECAR_EXTENSION names the files the compressors write", () => {
  assert.deepEqual(SIDECAR_EXTENSION, { br: ".br", zstd: ".zst", gzip: ".gz" });
});

test("DEFAULT_PRECOMPRESSED_CODINGS round-trips through parseCodingList", () => {
  const text = DEFAULT_PRECOMPRESSED_CODINGS.join(",");
  assert.deepEqual(parseCodingList(text), DEFAULT_PRECOMPRESSED_CODINGS);
});
