/**
 * Property-based fuzzing through a real in-process server, with fast-check. Each run opens a
 * fresh connection, writes a random or mutated request sequence in random write chunks, half-
 * closes, and reads until the server closes. The oracle is berth's own pure parser fed the same
 * bytes: it says which requests the stream holds and how it ends, so the run must show
 *
 * - well-formed HTTP/1.1 responses only (parsed strictly, HEAD answers without bodies), no stray
 *   bytes, and the connection closed by the server;
 * - exactly one response per request up to the first that closes the connection (Connection:
 *   close, HTTP/1.0, a 100-continue body), then one error response if the stream ends in a
 *   malformed head, with that error's status and Connection: close; never more;
 * - no 500, nothing in the error log but the known lines (never a socket or internal error), and
 *   the process alive: a fresh connection is answered afterwards and no descriptor leaks.
 *
 * Runs scale with BERTH_FUZZ_RUNS (scripts/fuzz.mjs); BERTH_FUZZ_SEED replays a failure.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as fc from "fast-check";
import { type ParseErrorCode, STATUS_FOR_PARSE_ERROR } from "../../src/http/parse-error.js";
import { RequestParser } from "../../src/http/request-parser.js";
import type { RequestHead, RequestParserLimits } from "../../src/http/request-types.js";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  type RunningServer,
  settledFdCount,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

// ---------------------------------------------------------------------------------------------
// Configuration

/** Runs: BERTH_FUZZ_RUNS when set, else a count that keeps this file well under 15 s. */
const RUNS = (() => {
  const fromEnv = Number(process.env.BERTH_FUZZ_RUNS ?? "");
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 150;
})();
const SEED = (() => {
  const seed = Number(process.env.BERTH_FUZZ_SEED ?? "");
  return process.env.BERTH_FUZZ_SEED !== undefined && Number.isInteger(seed) ? { seed } : {};
})();

/** Small limits, so short inputs cross them; the oracle parser uses the same. */
const LIMITS: RequestParserLimits = {
  maxRequestLineBytes: 128,
  maxHeadBytes: 512,
  maxHeaderFields: 8,
  maxEmptyLinesBeforeRequest: 4,
  maxBodyBytes: 64,
};
/** Each run half-closes after its last write, so a run whose bytes stop inside a head ends at
 * once; the timeouts are a safety net, short enough that a lost FIN cannot stall the file, and
 * long enough that a busy machine's pause between two writes does not turn into a 408. */
const HEADER_TIMEOUT_MS = 1000;
/** A run that takes longer than this has hung: the server never closed. */
const RUN_TIMEOUT_MS = 3000;

let root = "";
let running: RunningServer;
let baselineFds = 0;

before(async () => {
  root = await makeTempDir("berth-fuzz-");
  await writeStampedTree(root, {
    "digits.txt": "0123456789",
    "index.html": "<p>index</p>\n",
    "sub/index.html": "<p>sub</p>\n",
    ".secret": "dotfile\n",
  });
  running = await startServer({
    root,
    limits: LIMITS,
    headerTimeoutMs: HEADER_TIMEOUT_MS,
    keepAliveTimeoutMs: HEADER_TIMEOUT_MS,
  });
  baselineFds = await settledFdCount(running.server);
});

after(async () => {
  await running?.server.close();
  await removeTempDir(root);
});

// ---------------------------------------------------------------------------------------------
// Inputs

/** Requests berth answers in every way it can: files, ranges, conditionals, errors, bodies. */
const TEMPLATES = [
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n",
  "HEAD /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET /missing HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET /sub HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET /.secret HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: t\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=2-4\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-1,5-\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-None-Match: *\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: Tue, 02 Jan 2024 03:04:05 GMT\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip, br\r\n\r\n",
  "GET http://t/digits.txt HTTP/1.1\r\nHost: t\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n",
  "BREW /digits.txt HTTP/1.1\r\nHost: t\r\n\r\n",
  "POST /digits.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
  "PUT /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
  "GET /digits.txt HTTP/1.0\r\n\r\n",
  "GET /digits.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
] as const;

/** The bytes framing turns on, and a few that must be refused. */
const INTERESTING_BYTES = [
  0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x30, 0x35, 0x66, 0x2f, 0x3f, 0x23, 0x25, 0x00, 0x7f,
  0x80, 0xff,
];

type Mutation = readonly [kind: "insert" | "delete" | "replace", at: number, byte: number];

const mutationArb: fc.Arbitrary<Mutation> = fc.tuple(
  fc.constantFrom("insert" as const, "delete" as const, "replace" as const),
  fc.nat(),
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INTERESTING_BYTES) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
);

function mutate(bytes: number[], [kind, rawAt, byte]: Mutation): void {
  const at = rawAt % (bytes.length + 1);
  if (kind === "insert") bytes.splice(at, 0, byte);
  else if (kind === "delete") bytes.splice(at, 1);
  else if (at < bytes.length) bytes[at] = byte;
}

const sequenceArb = fc
  .tuple(
    fc.array(fc.constantFrom(...TEMPLATES), { minLength: 1, maxLength: 4 }),
    fc.array(mutationArb, { maxLength: 4 }),
  )
  .map(([requests, mutations]) => {
    const bytes = [...Buffer.from(requests.join(""), "latin1")];
    for (const mutation of mutations) mutate(bytes, mutation);
    return Buffer.from(bytes);
  });

const inputArb = fc.oneof(
  { weight: 8, arbitrary: sequenceArb },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
);

/** Cut points of the writes. */
const cutsArb = fc.array(fc.nat({ max: 2048 }), { maxLength: 6 });

function split(input: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((cut) => cut % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const cut of [...at, input.length]) {
    if (cut > from) chunks.push(input.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------
// Oracle

interface Expectation {
  /** Methods of the requests answered, in order (a HEAD answer has no body). */
  readonly answered: readonly string[];
  /** The head error that ends the stream, when it is reached; null otherwise. */
  readonly headError: ParseErrorCode | null;
  /** The status the head error must be answered with (one: errors never depend on chunking). */
  readonly errorStatuses: readonly number[];
  /** The bytes stop inside a head: a 408 may come first if the FIN is slow. */
  readonly stopsInHead: boolean;
}

/** What berth must do with `input`, from its own parser fed the same bytes. */
function expect(input: Buffer): Expectation {
  const whole = parseAll(input, [input]);
  const bytewise = parseAll(
    input,
    [...input].map((_, at) => input.subarray(at, at + 1)),
  );
  const answered: string[] = [];
  let headError = whole.error !== null && !whole.error.inBody ? whole.error.code : null;
  for (const request of whole.requests) {
    answered.push(request.method);
    // The connection closes after this answer: nothing later is answered.
    if (!request.keepAlive || (request.expectContinue && request.body.kind !== "none")) {
      headError = null;
      break;
    }
  }
  const errorStatuses: number[] = [];
  if (headError !== null) {
    errorStatuses.push(STATUS_FOR_PARSE_ERROR[headError]);
    // The parser's answer must not depend on how TCP splits the bytes: check it here too.
    const other = bytewise.error?.code;
    assert.ok(
      other === undefined || other === headError,
      `parse(${JSON.stringify(input.toString("latin1"))}) whole = ${headError}, bytewise = ${other}`,
    );
  }
  return { answered, headError, errorStatuses, stopsInHead: whole.stopsInHead };
}

interface ParsedStream {
  readonly requests: readonly RequestHead[];
  readonly error: { readonly code: ParseErrorCode; readonly inBody: boolean } | null;
  readonly stopsInHead: boolean;
}

function parseAll(input: Buffer, chunks: readonly Buffer[]): ParsedStream {
  const parser = new RequestParser(LIMITS);
  const requests: RequestHead[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let calls = 0; calls <= input.length; calls++) {
      const result = parser.next();
      if (result.kind === "need-more") break;
      if (result.kind === "error") {
        return {
          requests,
          error: { code: result.code, inBody: result.inBody },
          stopsInHead: false,
        };
      }
      requests.push(result.request);
    }
  }
  return {
    requests,
    error: null,
    stopsInHead: !parser.isIdle && !parser.isReadingBody,
  };
}

/** Error-log lines berth may write for a peer's mistakes; anything else is a bug. */
const KNOWN_ERROR_LINES = [
  /^\S+ bad request \([A-Z_]+\): \d{3}$/,
  /^\S+ bad request body framing \([A-Z_]+\): closing$/,
  /^\S+ closed the connection inside a request$/,
  /^\S+ request head not received in time: 408$/,
  /^\S+ request body not received in time: closing$/,
  /^\S+ 400: .+$/,
];

// ---------------------------------------------------------------------------------------------
// The property

async function checkRun(input: Buffer, cuts: readonly number[]): Promise<void> {
  const call = `exchange(${showBytes(input, 0, input.length)}, cuts ${JSON.stringify(cuts)})`;
  const errorsBefore = running.log.errorLines.length;
  const want = expect(input);
  const result = await exchange(running.port, split(input, cuts), {
    halfClose: true,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  assert.ok(result.closedByServer, `${call}: the server did not close the connection`);
  assert.ok(!result.reset, `${call}: the server reset the connection`);

  const methods = [...want.answered, "GET"];
  const { responses, rest } = parseResponses(result.raw, methods);
  const statuses = responses.map((r) => r.status);
  const got = `${statuses.join(" ")} + ${rest.length} stray bytes`;
  assert.equal(rest.length, 0, `${call} = ${got}: a partial response`);
  assert.ok(!statuses.some((s) => s >= 500 && s !== 501 && s !== 505), `${call} = ${got}`);

  const answered = want.answered.length;
  const extra = responses.length - answered;
  if (want.headError !== null) {
    const last = responses.at(-1);
    const wantText = `${answered} answer(s), then ${want.errorStatuses.join(" or ")} for ${want.headError}`;
    assert.equal(extra, 1, `${call} = ${got}, want ${wantText}`);
    assert.ok(
      last !== undefined && want.errorStatuses.includes(last.status),
      `${call} = ${got}, want ${wantText}`,
    );
    assert.equal(last?.header("connection"), "close", `${call}: the error response keeps alive`);
  } else if (extra === 1 && want.stopsInHead) {
    // Only if the header timeout beat our FIN: 408 and close.
    assert.equal(responses.at(-1)?.status, 408, `${call} = ${got}, want ${answered} answer(s)`);
  } else {
    assert.equal(extra, 0, `${call} = ${got}, want exactly ${answered} answer(s)`);
  }

  const logged = running.log.errorLines.slice(errorsBefore);
  const unknown = logged.filter((line) => !KNOWN_ERROR_LINES.some((pattern) => pattern.test(line)));
  assert.deepEqual(unknown, [], `${call} logged unexpected errors`);
}

describe("server fuzzing", () => {
  test("random and mutated request streams: well-formed answers, never more than asked", async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, cutsArb, (input, cuts) => checkRun(input, cuts)),
      { numRuns: RUNS, includeErrorInReport: true, ...SEED },
    );
  });

  test("after the runs: a fresh connection is answered and no descriptor leaked", async () => {
    const result = await exchange(
      running.port,
      "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    const [response] = parseResponses(result.raw, ["GET"]).responses;
    assert.equal(`${response?.status} ${response?.body.toString("latin1")}`, "200 0123456789");
    const fds = await settledFdCount(running.server);
    assert.equal(fds, baselineFds, `open fds after fuzzing = ${fds}, want ${baselineFds}`);
    assert.ok(
      !running.log.errorLines.some((line) => line.includes("internal error")),
      "an internal error was logged",
    );
  });
});
