/**
 * Table tests for parseHttpDate (RFC 9110 §5.6.7): the three formats a recipient must accept,
 * the strictness inside them, the 50-year rule for two-digit years, and round trips with
 * formatHttpDate. Results are compared as ISO strings so a failure names the instant.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatHttpDate, parseHttpDate } from "../../src/http/http-date.js";

const NOW = "2024-06-01T12:00:00Z";

function show(ms: number | null): string {
  return ms === null ? "null" : new Date(ms).toISOString();
}

function expectParse(text: string, nowIso: string, want: string | null): void {
  const call = `parseHttpDate(${JSON.stringify(text)}, Date.parse("${nowIso}"))`;
  test(call, () => {
    const got = show(parseHttpDate(text, Date.parse(nowIso)));
    const wanted = want === null ? "null" : new Date(want).toISOString();
    assert.equal(got, wanted, `${call} = ${got}, want ${wanted}`);
  });
}

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string, string | null]> = [
  // IMF-fixdate, the preferred format
  ["Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"],
  ["Thu, 01 Jan 1970 00:00:00 GMT", "1970-01-01T00:00:00Z"],
  ["Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z"],
  ["Sat, 01 Jun 2024 12:00:00 GMT", "2024-06-01T12:00:00Z"],
  ["Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"],
  ["Tue, 29 Feb 2000 00:00:00 GMT", "2000-02-29T00:00:00Z"],
  ["Mon, 01 Jan 0001 00:00:00 GMT", "0001-01-01T00:00:00Z"],
  ["Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z"],
  // a leap second is the last representable second of its day; only 23:59 has one
  ["Sat, 31 Dec 2016 23:59:60 GMT", "2016-12-31T23:59:59Z"],
  ["Sat, 31 Dec 2016 23:58:60 GMT", null],
  ["Sat, 31 Dec 2016 12:59:60 GMT", null],
  // out-of-range fields are refused, never rolled over
  ["Sat, 01 Jun 2024 24:00:00 GMT", null],
  ["Sat, 01 Jun 2024 12:60:00 GMT", null],
  ["Sat, 01 Jun 2024 12:00:61 GMT", null],
  ["Fri, 30 Feb 2024 00:00:00 GMT", null],
  ["Thu, 29 Feb 1900 00:00:00 GMT", null],
  ["Wed, 31 Apr 2024 00:00:00 GMT", null],
  ["Fri, 00 Jun 2024 00:00:00 GMT", null],
  ["Sat, 32 Jan 2000 00:00:00 GMT", null],
  // the day name must be the date's weekday, and the short one (RFC 5322 §3.3)
  ["Mon, 06 Nov 1994 08:49:37 GMT", null],
  ["Sunday, 06 Nov 1994 08:49:37 GMT", null],
  ["Abc, 06 Nov 1994 08:49:37 GMT", null],
  // case-sensitive (RFC 9110 §5.6.7)
  ["sun, 06 Nov 1994 08:49:37 GMT", null],
  ["SUN, 06 Nov 1994 08:49:37 GMT", null],
  ["Sun, 06 nov 1994 08:49:37 GMT", null],
  ["Sun, 06 NOV 1994 08:49:37 GMT", null],
  ["Sun, 06 Nov 1994 08:49:37 gmt", null],
  // only the literal GMT zone
  ["Sun, 06 Nov 1994 08:49:37", null],
  ["Sun, 06 Nov 1994 08:49:37 UTC", null],
  ["Sun, 06 Nov 1994 08:49:37 UT", null],
  ["Sun, 06 Nov 1994 08:49:37 +0000", null],
  ["Sun, 06 Nov 1994 08:49:37 GMT+0000", null],
  ["Sun, 06 Nov 1994 08:49:37 EST", null],
  // fixed length: no missing zero, no extra or other whitespace
  ["Sun, 6 Nov 1994 08:49:37 GMT", null],
  ["Sun, 06 Nov 94 08:49:37 GMT", null],
  ["Sun, 06 Nov 1994 8:49:37 GMT", null],
  ["Sun, 06 Nov 1994 08:49:37.5 GMT", null],
  ["Sun,  06 Nov 1994 08:49:37 GMT", null],
  ["Sun,06 Nov 1994 08:49:37 GMT", null],
  ["Sun, 06\tNov 1994 08:49:37 GMT", null],
  [" Sun, 06 Nov 1994 08:49:37 GMT", null],
  ["Sun, 06 Nov 1994 08:49:37 GMT ", null],
  ["Sun, 06 Nov 1994 08:49:37 GMT\u0000", null],
  ["Sun, \uff10\uff16 Nov 1994 08:49:37 GMT", null],
  ["Sun, 06 Nov 1994 08-49-37 GMT", null],
  // a list of dates is not a date (RFC 9110 §13.1.3, §13.1.4)
  ["Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT", null],
  // not HTTP-dates at all
  ["", null],
  ["0", null],
  ["784111777", null],
  ["1994-11-06T08:49:37Z", null],
  ["Sun, 06 Nov 1994", null],
  // rfc850-date (obsolete), two-digit year read against NOW = 2024-06-01T12:00:00Z
  ["Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z"],
  ["Friday, 31-Dec-99 23:59:59 GMT", "1999-12-31T23:59:59Z"],
  ["Saturday, 01-Jan-00 00:00:00 GMT", "2000-01-01T00:00:00Z"],
  ["Tuesday, 29-Feb-00 00:00:00 GMT", "2000-02-29T00:00:00Z"],
  ["Saturday, 31-Dec-16 23:59:60 GMT", "2016-12-31T23:59:59Z"],
  ["Sun, 06-Nov-94 08:49:37 GMT", null],
  ["sunday, 06-Nov-94 08:49:37 GMT", null],
  ["Funday, 06-Nov-94 08:49:37 GMT", null],
  ["Monday, 06-Nov-94 08:49:37 GMT", null],
  ["Sunday, 06-Nov-1994 08:49:37 GMT", null],
  ["Sunday, 06 Nov 94 08:49:37 GMT", null],
  ["Sunday,06-Nov-94 08:49:37 GMT", null],
  ["Sunday, 06-Nov-94 08:49:37", null],
  ["Sunday, 06-Nov-94 08:49:37 UTC", null],
  ["Sunday, 06-nov-94 08:49:37 GMT", null],
  ["Sunday, 6-Nov-94 08:49:37 GMT", null],
  ["Sunday, 31-Nov-94 08:49:37 GMT", null],
  ["Sunday, 06-Nov-94 24:00:00 GMT", null],
  // asctime-date (obsolete), always UTC; the day is space- or zero-padded
  ["Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z"],
  ["Sun Nov 06 08:49:37 1994", "1994-11-06T08:49:37Z"],
  ["Wed Nov 16 08:49:37 1994", "1994-11-16T08:49:37Z"],
  ["Thu Feb 29 00:00:00 2024", "2024-02-29T00:00:00Z"],
  ["Sun Nov 6 08:49:37 1994", null],
  ["Sun Nov  6  08:49:37 1994", null],
  ["Sun Nov  0 08:49:37 1994", null],
  ["Sun Nov  6 08:49:37 94", null],
  ["Sun Nov  6 08:49:37 1994 GMT", null],
  ["Mon Nov  6 08:49:37 1994", null],
  ["Sunday Nov  6 08:49:37 1994", null],
  ["sun nov  6 08:49:37 1994", null],
  ["Fri Feb 30 00:00:00 2024", null],
];

for (const [text, want] of rows) expectParse(text, NOW, want);

// RFC 9110 §5.6.7: a two-digit year that "appears to be more than 50 years in the future" is the
// most recent past year with those digits; compared to the second, and the weekday must then fit.
// biome-ignore format: one row per line
const twoDigitYears: ReadonlyArray<readonly [string, string, string | null]> = [
  ["Friday, 01-Jun-74 12:00:00 GMT", "2024-06-01T12:00:00Z", "2074-06-01T12:00:00Z"],
  ["Saturday, 01-Jun-74 12:00:00 GMT", "2024-06-01T12:00:00Z", null],
  ["Saturday, 01-Jun-74 12:00:01 GMT", "2024-06-01T12:00:00Z", "1974-06-01T12:00:01Z"],
  ["Friday, 01-Jun-74 12:00:01 GMT", "2024-06-01T12:00:00Z", null],
  ["Sunday, 02-Jun-74 00:00:00 GMT", "2024-06-01T12:00:00Z", "1974-06-02T00:00:00Z"],
  ["Wednesday, 01-Jan-70 00:00:00 GMT", "2024-06-01T12:00:00Z", "2070-01-01T00:00:00Z"],
  ["Thursday, 01-Jan-70 00:00:00 GMT", "2024-06-01T12:00:00Z", null],
  ["Thursday, 01-Jan-70 00:00:00 GMT", "1990-01-01T00:00:00Z", "1970-01-01T00:00:00Z"],
  ["Sunday, 06-Nov-94 08:49:37 GMT", "1990-01-01T00:00:00Z", "1994-11-06T08:49:37Z"],
  ["Saturday, 06-Nov-94 08:49:37 GMT", "2050-01-01T00:00:00Z", "2094-11-06T08:49:37Z"],
  ["Sunday, 06-Nov-94 08:49:37 GMT", "2050-01-01T00:00:00Z", null],
  ["Wednesday, 01-Jan-10 00:00:00 GMT", "2099-06-01T00:00:00Z", "2110-01-01T00:00:00Z"],
];

for (const [text, nowIso, want] of twoDigitYears) expectParse(text, nowIso, want);

// biome-ignore format: one row per line
const roundTrips: readonly string[] = [
  "1970-01-01T00:00:00Z",
  "1994-11-06T08:49:37Z",
  "1969-12-31T23:59:59Z",
  "1900-02-28T23:59:59Z",
  "2000-02-29T00:00:00Z",
  "2024-02-29T23:59:59Z",
  "2038-01-19T03:14:08Z",
  "2100-03-01T00:00:00Z",
  "1000-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
];

for (const iso of roundTrips) {
  const ms = Date.parse(iso);
  const call = `parseHttpDate(formatHttpDate(Date.parse("${iso}")), Date.parse("${NOW}"))`;
  test(call, () => {
    const text = formatHttpDate(ms);
    const got = show(parseHttpDate(text, Date.parse(NOW)));
    assert.equal(got, show(ms), `${call} = ${got}, want ${show(ms)} (text ${text})`);
  });
}

test("parseHttpDate(formatHttpDate(t)) = t at 12:34:56 on every day from 1600 to 2400", () => {
  const first = Date.parse("1600-01-01T12:34:56Z");
  const last = Date.parse("2400-12-31T12:34:56Z");
  for (let ms = first; ms <= last; ms += 86_400_000) {
    const text = formatHttpDate(ms);
    const got = parseHttpDate(text, Date.parse(NOW));
    if (got !== ms) {
      assert.fail(`parseHttpDate(${JSON.stringify(text)}) = ${show(got)}, want ${show(ms)}`);
    }
  }
});
