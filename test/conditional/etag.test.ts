/**
 * Table tests for entity-tag parsing and comparison (RFC 9110 §8.8.3, §13.1.1, §13.1.2). Values
 * are latin1 strings, one char per byte, as the request parser hands them over.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  type EntityTag,
  formatStrongEtag,
  parseEntityTag,
  parseEntityTagList,
  strongMatch,
  weakMatch,
} from "../../src/conditional/etag.js";

const s = (opaque: string): EntityTag => ({ weak: false, opaque });
const w = (opaque: string): EntityTag => ({ weak: true, opaque });

// biome-ignore format: one row per line
const listRows: ReadonlyArray<readonly [string, "any" | readonly EntityTag[] | null]> = [
  // "*" stands alone
  ["*", "any"],
  [" *\t", "any"],
  ["*, \"a\"", null],
  ["\"a\", *", null],
  ["*,", null],
  ["**", null],
  // one tag, strong or weak
  ["\"a\"", [s("\"a\"")]],
  ["W/\"a\"", [w("\"a\"")]],
  ["\"\"", [s("\"\"")]],
  ["W/\"\"", [w("\"\"")]],
  ["\"1a-2b-3c\"", [s("\"1a-2b-3c\"")]],
  // lists: OWS around elements, empty elements skipped (RFC 9110 §5.6.1)
  ["\"a\", W/\"b\"", [s("\"a\""), w("\"b\"")]],
  ["\"a\",W/\"b\"", [s("\"a\""), w("\"b\"")]],
  ["\"a\" ,\tW/\"b\" ", [s("\"a\""), w("\"b\"")]],
  ["\"a\",,\"b\"", [s("\"a\""), s("\"b\"")]],
  [", \"a\" ,, ,\"b\",", [s("\"a\""), s("\"b\"")]],
  ["\"a\", \"a\"", [s("\"a\""), s("\"a\"")]],
  ["", []],
  [" , ,\t", []],
  // a comma inside the quotes is part of the tag (%x2C is etagc)
  ["\"a,b\"", [s("\"a,b\"")]],
  ["\"#!~/W\"", [s("\"#!~/W\"")]],
  // obs-text is etagc; a char above U+00FF is no byte at all
  ["\"\u00e9t\u00e9\"", [s("\"\u00e9t\u00e9\"")]],
  ["W/\"\u0080\u00ff\"", [w("\"\u0080\u00ff\"")]],
  ["\"\u0100\"", null],
  ["\"\u65e5\"", null],
  // missing or broken quotes
  ["a", null],
  ["1a-2b", null],
  ["\"a\", b", null],
  ["'a'", null],
  ["\"a", null],
  ["\"a\", \"b", null],
  ["a\"", null],
  ["\"a\"b", null],
  // the weak prefix is exactly "W/", case-sensitive, touching the quote
  ["W/ \"a\"", null],
  ["w/\"a\"", null],
  ["W\"a\"", null],
  ["W/a", null],
  ["/\"a\"", null],
  ["W/W/\"a\"", null],
  // elements must be comma-separated
  ["\"a\"\"b\"", null],
  ["\"a\" \"b\"", null],
  ["\"a\"; \"b\"", null],
  // SP, HTAB, controls and DEL are not etagc
  ["\"a b\"", null],
  ["\"a\tb\"", null],
  ["\"a\u0000b\"", null],
  ["\"a\u0001\"", null],
  ["\"a\rb\"", null],
  ["\"a\u007fb\"", null],
  ["\"a\"\u0000", null],
];

for (const [value, want] of listRows) {
  const call = `parseEntityTagList(${JSON.stringify(value)})`;
  test(call, () => {
    const got = parseEntityTagList(value);
    assert.deepEqual(got, want, `${call} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  });
}

// biome-ignore format: one row per line
const tagRows: ReadonlyArray<readonly [string, EntityTag | null]> = [
  ["\"a\"", s("\"a\"")],
  ["W/\"a\"", w("\"a\"")],
  ["\"\"", s("\"\"")],
  [" \"a\"", null],
  ["\"a\" ", null],
  ["\"a\",\"b\"", null],
  ["\"a\",", null],
  ["*", null],
  ["", null],
];

for (const [text, want] of tagRows) {
  const call = `parseEntityTag(${JSON.stringify(text)})`;
  test(call, () => {
    const got = parseEntityTag(text);
    assert.deepEqual(got, want, `${call} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  });
}

// RFC 9110 §8.8.3.2's own table, plus case and differing tags.
// biome-ignore format: one row per line
const comparisonRows: ReadonlyArray<readonly [string, string, boolean, boolean]> = [
  ["W/\"1\"", "W/\"1\"", false, true],
  ["W/\"1\"", "W/\"2\"", false, false],
  ["W/\"1\"", "\"1\"", false, true],
  ["\"1\"", "W/\"1\"", false, true],
  ["\"1\"", "\"1\"", true, true],
  ["\"1\"", "\"2\"", false, false],
  ["\"a\"", "\"A\"", false, false],
  ["\"\"", "\"\"", true, true],
];

function parsed(text: string): EntityTag {
  const tag = parseEntityTag(text);
  if (tag === null) throw new Error(`test row has an invalid tag: ${text}`);
  return tag;
}

for (const [a, b, strong, weak] of comparisonRows) {
  const args = `parseEntityTag(${JSON.stringify(a)}), parseEntityTag(${JSON.stringify(b)})`;
  test(`strongMatch(${args}) = ${strong}`, () => {
    const got = strongMatch(parsed(a), parsed(b));
    assert.equal(got, strong, `strongMatch(${args}) = ${got}, want ${strong}`);
  });
  test(`weakMatch(${args}) = ${weak}`, () => {
    const got = weakMatch(parsed(a), parsed(b));
    assert.equal(got, weak, `weakMatch(${args}) = ${got}, want ${weak}`);
  });
}

test("parseEntityTag(formatStrongEtag(stats)) is a strong tag", () => {
  const text = formatStrongEtag(statSync(fileURLToPath(import.meta.url)));
  const got = parseEntityTag(text);
  assert.deepEqual(
    got,
    s(text),
    `parseEntityTag(${JSON.stringify(text)}) = ${JSON.stringify(got)}`,
  );
});
