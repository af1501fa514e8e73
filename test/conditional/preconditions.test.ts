/**
 * Table tests for evaluatePreconditions (RFC 9110 §13.1, §13.2.2). Every row runs for GET and
 * for HEAD with the same expectation: HEAD is GET without content (RFC 9110 §9.3.2), so its 304s
 * and 412s must be the same (Deno's file server once skipped the 304 check on its HEAD path).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ConditionalFields,
  evaluatePreconditions,
  type PreconditionOutcome,
  type Validators,
} from "../../src/conditional/preconditions.js";

type Kind = PreconditionOutcome["kind"];

const NOW = Date.parse("2024-06-01T12:00:00Z");
/** Mid-second on purpose: it is sent as 12:00:00, and a client echoing that must get a 304. */
const LM = Date.parse("2024-05-01T12:00:00.900Z");
const TAG = '"1a-2b"';

const all: Validators = { etag: TAG, lastModifiedMs: LM };
const tagOnly: Validators = { etag: TAG, lastModifiedMs: null };
const dateOnly: Validators = { etag: null, lastModifiedMs: LM };
const none: Validators = { etag: null, lastModifiedMs: null };
const weak: Validators = { etag: 'W/"w"', lastModifiedMs: LM };

// Last-Modified as sent, one second either side, in each HTTP-date format.
const AT = "Wed, 01 May 2024 12:00:00 GMT";
const BEFORE = "Wed, 01 May 2024 11:59:59 GMT";
const AFTER = "Wed, 01 May 2024 12:00:01 GMT";
const AT_850 = "Wednesday, 01-May-24 12:00:00 GMT";
const BEFORE_850 = "Wednesday, 01-May-24 11:59:59 GMT";
const AT_ASCTIME = "Wed May  1 12:00:00 2024";
const BEFORE_ASCTIME = "Wed May  1 11:59:59 2024";
const NOW_DATE = "Sat, 01 Jun 2024 12:00:00 GMT";
const FUTURE = "Sat, 01 Jun 2024 12:00:01 GMT";
const NEXT_YEAR = "Sun, 01 Jun 2025 12:00:00 GMT";

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [Partial<ConditionalFields>, Validators, Kind]> = [
  // no preconditions
  [{}, all, "proceed"],
  [{}, none, "proceed"],
  // If-Match alone (§13.1.1): strong comparison, "*" means "exists", anything else fails
  [{ ifMatch: TAG }, all, "proceed"],
  [{ ifMatch: '"other"' }, all, "precondition-failed"],
  [{ ifMatch: "*" }, all, "proceed"],
  [{ ifMatch: "*" }, none, "proceed"],
  [{ ifMatch: `"x", ${TAG}` }, all, "proceed"],
  [{ ifMatch: `"x" ,\t${TAG}` }, all, "proceed"],
  [{ ifMatch: `"x",,${TAG},` }, all, "proceed"],
  [{ ifMatch: `W/${TAG}` }, all, "precondition-failed"],
  [{ ifMatch: `W/"x", ${TAG}` }, all, "proceed"],
  [{ ifMatch: '"1A-2B"' }, all, "precondition-failed"],
  [{ ifMatch: TAG }, none, "precondition-failed"],
  [{ ifMatch: TAG }, dateOnly, "precondition-failed"],
  [{ ifMatch: TAG }, tagOnly, "proceed"],
  [{ ifMatch: 'W/"w"' }, weak, "precondition-failed"],
  [{ ifMatch: "1a-2b" }, all, "precondition-failed"],
  [{ ifMatch: `${TAG}, *` }, all, "precondition-failed"],
  [{ ifMatch: `${TAG} "x"` }, all, "precondition-failed"],
  [{ ifMatch: '"1a-2b' }, all, "precondition-failed"],
  [{ ifMatch: "" }, all, "precondition-failed"],
  // If-None-Match alone (§13.1.2): weak comparison, "*" means "exists", malformed means no match
  [{ ifNoneMatch: TAG }, all, "not-modified"],
  [{ ifNoneMatch: TAG }, tagOnly, "not-modified"],
  [{ ifNoneMatch: `W/${TAG}` }, all, "not-modified"],
  [{ ifNoneMatch: '"w"' }, weak, "not-modified"],
  [{ ifNoneMatch: '"x"' }, all, "proceed"],
  [{ ifNoneMatch: "*" }, all, "not-modified"],
  [{ ifNoneMatch: "*" }, none, "not-modified"],
  [{ ifNoneMatch: `"x", W/"y", ${TAG}` }, all, "not-modified"],
  [{ ifNoneMatch: `"x",,${TAG}` }, all, "not-modified"],
  [{ ifNoneMatch: '"x", W/"y"' }, all, "proceed"],
  [{ ifNoneMatch: TAG }, none, "proceed"],
  [{ ifNoneMatch: TAG }, dateOnly, "proceed"],
  [{ ifNoneMatch: "1a-2b" }, all, "proceed"],
  [{ ifNoneMatch: `${TAG}, *` }, all, "proceed"],
  [{ ifNoneMatch: `W/ ${TAG}` }, all, "proceed"],
  [{ ifNoneMatch: `${TAG}\u0000` }, all, "proceed"],
  [{ ifNoneMatch: "" }, all, "proceed"],
  // If-Modified-Since alone (§13.1.3): whole seconds, all three formats, bad or future dates ignored
  [{ ifModifiedSince: AT }, all, "not-modified"],
  [{ ifModifiedSince: AFTER }, all, "not-modified"],
  [{ ifModifiedSince: BEFORE }, all, "proceed"],
  [{ ifModifiedSince: AT_850 }, all, "not-modified"],
  [{ ifModifiedSince: BEFORE_850 }, all, "proceed"],
  [{ ifModifiedSince: AT_ASCTIME }, all, "not-modified"],
  [{ ifModifiedSince: BEFORE_ASCTIME }, all, "proceed"],
  [{ ifModifiedSince: NOW_DATE }, all, "not-modified"],
  [{ ifModifiedSince: FUTURE }, all, "proceed"],
  [{ ifModifiedSince: NEXT_YEAR }, all, "proceed"],
  [{ ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT" }, all, "proceed"],
  [{ ifModifiedSince: "yesterday" }, all, "proceed"],
  [{ ifModifiedSince: "wed, 01 May 2024 12:00:00 GMT" }, all, "proceed"],
  [{ ifModifiedSince: "Wed, 01 May 2024 12:00:00 +0000" }, all, "proceed"],
  [{ ifModifiedSince: "Thu, 01 May 2024 12:00:00 GMT" }, all, "proceed"],
  [{ ifModifiedSince: `${AT}, ${AT}` }, all, "proceed"],
  [{ ifModifiedSince: "" }, all, "proceed"],
  [{ ifModifiedSince: AT }, dateOnly, "not-modified"],
  [{ ifModifiedSince: AT }, tagOnly, "proceed"],
  [{ ifModifiedSince: AT }, none, "proceed"],
  // If-Unmodified-Since alone (§13.1.4): whole seconds, bad dates and missing dates ignored
  [{ ifUnmodifiedSince: AT }, all, "proceed"],
  [{ ifUnmodifiedSince: AFTER }, all, "proceed"],
  [{ ifUnmodifiedSince: BEFORE }, all, "precondition-failed"],
  [{ ifUnmodifiedSince: AT_850 }, all, "proceed"],
  [{ ifUnmodifiedSince: BEFORE_850 }, all, "precondition-failed"],
  [{ ifUnmodifiedSince: AT_ASCTIME }, all, "proceed"],
  [{ ifUnmodifiedSince: BEFORE_ASCTIME }, all, "precondition-failed"],
  [{ ifUnmodifiedSince: FUTURE }, all, "proceed"],
  [{ ifUnmodifiedSince: "yesterday" }, all, "proceed"],
  [{ ifUnmodifiedSince: `${BEFORE}, ${BEFORE}` }, all, "proceed"],
  [{ ifUnmodifiedSince: BEFORE }, dateOnly, "precondition-failed"],
  [{ ifUnmodifiedSince: BEFORE }, tagOnly, "proceed"],
  [{ ifUnmodifiedSince: BEFORE }, none, "proceed"],
  // If-Match makes If-Unmodified-Since ignored (§13.1.4), even when malformed
  [{ ifMatch: TAG, ifUnmodifiedSince: BEFORE }, all, "proceed"],
  [{ ifMatch: "*", ifUnmodifiedSince: BEFORE }, all, "proceed"],
  [{ ifMatch: '"x"', ifUnmodifiedSince: AFTER }, all, "precondition-failed"],
  [{ ifMatch: "garbage", ifUnmodifiedSince: AFTER }, all, "precondition-failed"],
  // If-None-Match makes If-Modified-Since ignored (§13.1.3), even when malformed
  [{ ifNoneMatch: '"x"', ifModifiedSince: AT }, all, "proceed"],
  [{ ifNoneMatch: '"x"', ifModifiedSince: AT }, dateOnly, "proceed"],
  [{ ifNoneMatch: TAG, ifModifiedSince: BEFORE }, all, "not-modified"],
  [{ ifNoneMatch: "garbage", ifModifiedSince: AT }, all, "proceed"],
  [{ ifNoneMatch: "", ifModifiedSince: AT }, all, "proceed"],
  // steps 1-2 before step 3: a 412 beats a 304 (§13.2.2)
  [{ ifMatch: '"x"', ifNoneMatch: TAG }, all, "precondition-failed"],
  [{ ifMatch: TAG, ifNoneMatch: TAG }, all, "not-modified"],
  [{ ifMatch: TAG, ifNoneMatch: '"x"' }, all, "proceed"],
  [{ ifMatch: "*", ifNoneMatch: "*" }, all, "not-modified"],
  [{ ifMatch: TAG, ifNoneMatch: TAG }, none, "precondition-failed"],
  [{ ifUnmodifiedSince: BEFORE, ifNoneMatch: TAG }, all, "precondition-failed"],
  [{ ifUnmodifiedSince: AT, ifNoneMatch: TAG }, all, "not-modified"],
  [{ ifUnmodifiedSince: BEFORE, ifModifiedSince: AT }, all, "precondition-failed"],
  [{ ifUnmodifiedSince: AT, ifModifiedSince: AT }, all, "not-modified"],
  [{ ifUnmodifiedSince: AT, ifModifiedSince: BEFORE }, all, "proceed"],
  // all four: steps 1 and 3 decide, steps 2 and 4 are never reached
  [{ ifMatch: "*", ifUnmodifiedSince: BEFORE, ifNoneMatch: "*", ifModifiedSince: BEFORE }, all, "not-modified"],
  [{ ifMatch: TAG, ifUnmodifiedSince: AT, ifNoneMatch: '"x"', ifModifiedSince: AT }, all, "proceed"],
  [{ ifMatch: '"x"', ifUnmodifiedSince: AFTER, ifNoneMatch: '"x"', ifModifiedSince: BEFORE }, all, "precondition-failed"],
];

const NO_FIELDS: ConditionalFields = {
  ifMatch: null,
  ifNoneMatch: null,
  ifModifiedSince: null,
  ifUnmodifiedSince: null,
};

function showValidators(v: Validators): string {
  const lastModified = v.lastModifiedMs === null ? "null" : "LM";
  return `{etag: ${JSON.stringify(v.etag)}, lastModifiedMs: ${lastModified}}`;
}

for (const [partial, validators, want] of rows) {
  for (const method of ["GET", "HEAD"] as const) {
    const call = `evaluatePreconditions("${method}", ${JSON.stringify(partial)}, ${showValidators(validators)}, NOW)`;
    test(call, () => {
      const got = evaluatePreconditions(method, { ...NO_FIELDS, ...partial }, validators, NOW);
      assert.equal(got.kind, want, `${call} = ${got.kind}, want ${want}`);
    });
  }
}

// An ETag we send comes from formatStrongEtag; an unparseable one is our bug and must not pass.
test('evaluatePreconditions("GET", {ifNoneMatch: "*"}, {etag: "1a-2b", ...}, NOW) throws', () => {
  const fields = { ...NO_FIELDS, ifNoneMatch: "*" };
  const validators = { etag: "1a-2b", lastModifiedMs: LM };
  assert.throws(() => evaluatePreconditions("GET", fields, validators, NOW), TypeError);
});
