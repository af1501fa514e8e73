/**
 * Request smuggling (RFC 9112 §6.1, §6.3, §7.1, §11.2): one row per framing vector, each written
 * to a fresh connection of a real server, followed by a request that a desynchronised parser would
 * read as a new one (GET /secret-if-smuggled, placed where such a parser would find it) and by a
 * normal GET /digits.txt that closes. Each row states exactly which requests berth answers, in
 * order, and how the connection ends:
 *
 * - rejected at the head: exactly one response, the precise status with Connection: close, then
 *   the server closes; nothing after it is answered (400, 501 for a coding berth does not know,
 *   413 for a body over the limit);
 * - broken framing found inside the body (the request was already answered when its head
 *   arrived): exactly that one 200, then a close without a second response;
 * - acceptable framing: every request the framing really delimits is answered in order, and
 *   bytes that were body are never answered as a request.
 *
 * The access log must hold exactly the answered request lines (so a smuggled GET never shows up
 * there), and the error log the row's stable code. Every row runs whole and again byte by byte.
 * README "Request parsing" has the table these rows pin; parse-errors.test.ts covers the
 * non-framing rejections.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ParseErrorCode } from "../../src/http/parse-error.js";
import { exchange, parseResponses, showBytes } from "../helpers/raw-client.js";
import { makeTempDir, removeTempDir } from "../helpers/temp-dir.js";
import {
  type RunningServer,
  settledFdCount,
  startServer,
  writeStampedTree,
} from "../helpers/test-server.js";

/** The small server's body limit: rows cross it with a few chunks. */
const SMALL_MAX_BODY_BYTES = 16;

let root = "";
let servers: Record<ServerName, RunningServer>;
let baselineFds = 0;

type ServerName = "default" | "small";

before(async () => {
  root = await makeTempDir("berth-smuggling-");
  await writeStampedTree(root, { "digits.txt": "0123456789" });
  servers = {
    default: await startServer({ root }),
    small: await startServer({ root, limits: { maxBodyBytes: SMALL_MAX_BODY_BYTES } }),
  };
  baselineFds = await settledFds();
});

after(async () => {
  await servers?.default.server.close();
  await servers?.small.server.close();
  await removeTempDir(root);
});

async function settledFds(): Promise<number> {
  await settledFdCount(servers.small.server);
  return settledFdCount(servers.default.server);
}

// ---------------------------------------------------------------------------------------------
// Request pieces

/** What a desynchronised parser would answer; no such file exists, so berth never should. */
const SMUGGLED = "GET /secret-if-smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
/** Appended to every row: answered only when the row's framing is acceptable. */
const FOLLOW = "GET /digits.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

/** A GET /digits.txt head with the given field lines (each ending CRLF) and the final CRLF. */
const get = (fields: string): string => `GET /digits.txt HTTP/1.1\r\nHost: t\r\n${fields}\r\n`;
const TE = "Transfer-Encoding: chunked\r\n";
/** A GET with a chunked body: its head is answered (200) before the body is read. */
const HEAD_TE = get(TE);
/** One chunk carrying `data`. */
const chunk = (data: string): string => `${data.length.toString(16)}\r\n${data}\r\n`;
const LAST_CHUNK = "0\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// Expected outcomes

/** How the connection ends after the answers. */
type Ending =
  /** The last answer said Connection: close. */
  | { readonly kind: "announced" }
  /** A head was refused: one more response, with this status and Connection: close. */
  | { readonly kind: "rejected"; readonly status: number; readonly code: ParseErrorCode }
  /** The body of the last answered request broke: a close without a response of its own. */
  | { readonly kind: "closed-in-body"; readonly code: ParseErrorCode };

interface Want {
  /** Requests answered, in order, as "METHOD target status" (an access-log request line). */
  readonly answers: readonly string[];
  readonly ending: Ending;
}

/** Refused at the head: one error response with Connection: close. */
const rejected = (status: number, code: ParseErrorCode): Want => ({
  answers: [],
  ending: { kind: "rejected", status, code },
});
/** The body's framing breaks after its GET /digits.txt was answered: that 200, then a close. */
const answeredThenClosed = (code: ParseErrorCode): Want => ({
  answers: ["GET /digits.txt 200"],
  ending: { kind: "closed-in-body", code },
});
/** Acceptable framing: exactly these requests answered, the last one closing. */
const answered = (...answers: string[]): Want => ({ answers, ending: { kind: "announced" } });
/** These requests answered, then the bytes after them refused at the head. */
const answeredThenRejected = (
  answers: readonly string[],
  status: number,
  code: ParseErrorCode,
): Want => ({ answers, ending: { kind: "rejected", status, code } });

const BOTH_DIGITS = answered("GET /digits.txt 200", "GET /digits.txt 200");

type Row = readonly [name: string, server: ServerName, head: string, body: string, want: Want];

/** A Content-Length that makes SMUGGLED the body. */
const SMUGGLED_LENGTH = SMUGGLED.length;
/** A chunked body whose one chunk is SMUGGLED. */
const SMUGGLED_CHUNKED = chunk(SMUGGLED) + LAST_CHUNK;

// biome-ignore format: one row per line
const rows: readonly Row[] = [
  // Content-Length with Transfer-Encoding (RFC 9112 §6.1: 400 and close), both orders, any case.
  ["CL then TE (CL.TE)",                            "default", get(`Content-Length: ${LAST_CHUNK.length + SMUGGLED_LENGTH}\r\n${TE}`), `${LAST_CHUNK}${SMUGGLED}`,                                   rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["TE then CL (TE.CL)",                            "default", get(`${TE}Content-Length: 4\r\n`),                            SMUGGLED_CHUNKED,                                             rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["CL then TE: Chunked",                           "default", get(`Content-Length: ${SMUGGLED_LENGTH}\r\nTransfer-Encoding: Chunked\r\n`), SMUGGLED,                                                     rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["TE: Chunked then CL",                           "default", get(`Transfer-Encoding: Chunked\r\nContent-Length: 4\r\n`),   SMUGGLED_CHUNKED,                                             rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["TE with CL 0",                                  "default", get(`${TE}Content-Length: 0\r\n`),                            SMUGGLED_CHUNKED,                                             rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["CL 0 with TE",                                  "default", get(`Content-Length: 0\r\n${TE}`),                            SMUGGLED_CHUNKED,                                             rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  ["TE with a malformed CL",                        "default", get(`${TE}Content-Length: x\r\n`),                            SMUGGLED_CHUNKED,                                             rejected(400, "CONTENT_LENGTH_WITH_TRANSFER_ENCODING")],
  // Content-Length (RFC 9110 §8.6, RFC 9112 §6.3: invalid → 400 and close).
  ["CL 5 and CL 6",                                 "default", get("Content-Length: 5\r\nContent-Length: 6\r\n"),            `hello${SMUGGLED}`,                                           rejected(400, "DUPLICATE_CONTENT_LENGTH")],
  ["CL 6 and CL 5",                                 "default", get("Content-Length: 6\r\nContent-Length: 5\r\n"),            `hello${SMUGGLED}`,                                           rejected(400, "DUPLICATE_CONTENT_LENGTH")],
  ["CL: 5, 6",                                      "default", get("Content-Length: 5, 6\r\n"),                              `hello${SMUGGLED}`,                                           rejected(400, "DUPLICATE_CONTENT_LENGTH")],
  ["CL 5 and content-length 6",                     "default", get("Content-Length: 5\r\ncontent-length: 6\r\n"),            `hello${SMUGGLED}`,                                           rejected(400, "DUPLICATE_CONTENT_LENGTH")],
  ["CL obs-fold",                                   "default", get("Content-Length: 5\r\n 6\r\n"),                           `hello${SMUGGLED}`,                                           rejected(400, "OBS_FOLD")],
  ["CL:  +5",                                       "default", get("Content-Length:  +5\r\n"),                               `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: -1",                                        "default", get("Content-Length: -1\r\n"),                                SMUGGLED,                                                     rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: 0x5",                                       "default", get("Content-Length: 0x5\r\n"),                               `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: 5 5",                                       "default", get("Content-Length: 5 5\r\n"),                               `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: 5,",                                        "default", get("Content-Length: 5,\r\n"),                                `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: ,5",                                        "default", get("Content-Length: ,5\r\n"),                                `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: 1e3",                                       "default", get("Content-Length: 1e3\r\n"),                               SMUGGLED,                                                     rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL: 5.0",                                       "default", get("Content-Length: 5.0\r\n"),                               `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL empty",                                      "default", get("Content-Length:\r\n"),                                   SMUGGLED,                                                     rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL empty beside CL 5",                          "default", get("Content-Length: 5\r\nContent-Length:\r\n"),              `hello${SMUGGLED}`,                                           rejected(400, "BAD_CONTENT_LENGTH")],
  ["CL with a NUL",                                 "default", get("Content-Length: 5\x00\r\n"),                             `hello${SMUGGLED}`,                                           rejected(400, "BAD_FIELD_VALUE")],
  ["CL of 20 digits",                               "default", get("Content-Length: 18446744073709551621\r\n"),              SMUGGLED,                                                     rejected(413, "BODY_TOO_LARGE")],
  ["CL over the body limit",                        "small",   get(`Content-Length: ${SMUGGLED_LENGTH}\r\n`),                SMUGGLED,                                                     rejected(413, "BODY_TOO_LARGE")],
  ["CL of 20 digits with leading zeros is 1*DIGIT", "default", get(`Content-Length: 000000000000000000${SMUGGLED_LENGTH}\r\n`), SMUGGLED,                                                     BOTH_DIGITS],
  ["CL twice, the same value",                      "default", get(`Content-Length: ${SMUGGLED_LENGTH}\r\nContent-Length: ${SMUGGLED_LENGTH}\r\n`), SMUGGLED,                                                     BOTH_DIGITS],
  ["CL: n, n",                                      "default", get(`Content-Length: ${SMUGGLED_LENGTH}, ${SMUGGLED_LENGTH}\r\n`), SMUGGLED,                                                     BOTH_DIGITS],
  ["CL body consumed exactly",                      "default", get(`Content-Length: ${SMUGGLED_LENGTH}\r\n`),                SMUGGLED,                                                     BOTH_DIGITS],
  // RFC 9112 §6.3: the bytes after a short body are the next request. "GET" loses its G to the
  // body and "ET /secret-if-smuggled" is a well-formed request with an unknown method: 501.
  ["CL 3, 2 bytes sent, then a request",            "default", get("Content-Length: 3\r\n"),                                 `ab${SMUGGLED}`,                                              answered("GET /digits.txt 200", "ET /secret-if-smuggled 501", "GET /digits.txt 200")],
  ["CL 5, 2 bytes sent, then a request",            "default", get("Content-Length: 5\r\n"),                                 `ab${SMUGGLED}`,                                              answeredThenRejected(["GET /digits.txt 200"], 400, "BAD_REQUEST_LINE")],
  // Transfer-Encoding (RFC 9112 §6.1, §6.3: chunked must be final and once; others → 501).
  ["TE: chunked, identity",                         "default", get("Transfer-Encoding: chunked, identity\r\n"),              SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: identity, chunked",                         "default", get("Transfer-Encoding: identity, chunked\r\n"),              SMUGGLED_CHUNKED,                                             rejected(501, "UNSUPPORTED_TRANSFER_ENCODING")],
  ["TE: gzip, chunked",                             "default", get("Transfer-Encoding: gzip, chunked\r\n"),                  SMUGGLED_CHUNKED,                                             rejected(501, "UNSUPPORTED_TRANSFER_ENCODING")],
  ["TE: gzip, then TE: chunked",                    "default", get("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), SMUGGLED_CHUNKED,                                             rejected(501, "UNSUPPORTED_TRANSFER_ENCODING")],
  ["TE: chunked, then TE: gzip",                    "default", get("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: xchunked",                                  "default", get("Transfer-Encoding: xchunked\r\n"),                       SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: chunked, chunked",                          "default", get("Transfer-Encoding: chunked, chunked\r\n"),               SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: chunked twice",                             "default", get(`${TE}${TE}`),                                            SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: chunked;foo=bar",                           "default", get("Transfer-Encoding: chunked;foo=bar\r\n"),                SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ['TE: "chunked"',                                "default", get('Transfer-Encoding: "chunked"\r\n'), SMUGGLED_CHUNKED,                    rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: whitespace only",                           "default", get("Transfer-Encoding:  \t \r\n"),                           SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE: empty",                                     "default", get("Transfer-Encoding:\r\n"),                                SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE in HTTP/1.0",                                "default", `GET /digits.txt HTTP/1.0\r\n${TE}\r\n`,                      SMUGGLED_CHUNKED,                                             rejected(400, "BAD_TRANSFER_ENCODING")],
  ["TE obs-fold",                                   "default", get("Transfer-Encoding:\r\n chunked\r\n"),                    SMUGGLED_CHUNKED,                                             rejected(400, "OBS_FOLD")],
  ["TE obs-fold after a value",                     "default", get("Transfer-Encoding: identity\r\n\tchunked\r\n"),          SMUGGLED_CHUNKED,                                             rejected(400, "OBS_FOLD")],
  ["TE : chunked (space before colon)",             "default", get("Transfer-Encoding : chunked\r\n"),                       SMUGGLED_CHUNKED,                                             rejected(400, "WHITESPACE_BEFORE_COLON")],
  ["TE\\t: chunked (tab before colon)",             "default", get("Transfer-Encoding\t: chunked\r\n"),                      SMUGGLED_CHUNKED,                                             rejected(400, "WHITESPACE_BEFORE_COLON")],
  ["TE with a NUL in the value",                    "default", get("Transfer-Encoding: chunked\x00\r\n"),                    SMUGGLED_CHUNKED,                                             rejected(400, "BAD_FIELD_VALUE")],
  ["TE with a NUL in the name",                     "default", get("Transfer-Encoding\x00: chunked\r\n"),                    SMUGGLED_CHUNKED,                                             rejected(400, "BAD_FIELD_NAME")],
  ["TE with a vertical tab before the value",       "default", get("Transfer-Encoding:\x0bchunked\r\n"),                     SMUGGLED_CHUNKED,                                             rejected(400, "BAD_FIELD_VALUE")],
  ["TE with a bare CR in the value",                "default", get("Transfer-Encoding: chunked\r, x\r\n"),                   SMUGGLED_CHUNKED,                                             rejected(400, "BARE_CR")],
  ["TE ended by a bare LF",                         "default", get("Transfer-Encoding: chunked\n"),                          SMUGGLED_CHUNKED,                                             rejected(400, "BARE_LF")],
  ["TE: Chunked is case-insensitive",               "default", get("Transfer-Encoding: Chunked\r\n"),                        SMUGGLED_CHUNKED,                                             BOTH_DIGITS],
  ["TE: \\t chunked \\t (OWS trimmed)",             "default", get("Transfer-Encoding: \t chunked \t\r\n"),                  SMUGGLED_CHUNKED,                                             BOTH_DIGITS],
  ["TE: , chunked (empty list element ignored)",    "default", get("Transfer-Encoding: , chunked\r\n"),                      SMUGGLED_CHUNKED,                                             BOTH_DIGITS],
  // A field that only resembles Transfer-Encoding frames nothing: the body is the next request.
  ["Transfer_Encoding: chunked is another field",   "default", get("Transfer_Encoding: chunked\r\n"),                        SMUGGLED_CHUNKED,                                             answeredThenRejected(["GET /digits.txt 200"], 400, "BAD_REQUEST_LINE")],
  // Chunked framing (RFC 9112 §7.1), broken after the head was answered.
  ["chunk-size of 17 hex digits",                   "default", HEAD_TE,                                                      `FFFFFFFFFFFFFFFFF\r\n${SMUGGLED}\r\n${LAST_CHUNK}`,          answeredThenClosed("CHUNK_SIZE_TOO_LONG")],
  ["chunk-size of 16 hex digits",                   "default", HEAD_TE,                                                      `ffffffffffffffff\r\n${SMUGGLED}\r\n${LAST_CHUNK}`,           answeredThenClosed("BODY_TOO_LARGE")],
  ["chunk-size -5",                                 "default", HEAD_TE,                                                      `-5\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                    answeredThenClosed("BAD_CHUNK_SIZE")],
  ["chunk-size +5",                                 "default", HEAD_TE,                                                      `+5\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                    answeredThenClosed("BAD_CHUNK_SIZE")],
  ["chunk-size 0x5",                                "default", HEAD_TE,                                                      `0x5\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                   answeredThenClosed("BAD_CHUNK_SIZE")],
  ["chunk-size with leading whitespace",            "default", HEAD_TE,                                                      ` 5\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                    answeredThenClosed("BAD_CHUNK_SIZE")],
  ["chunk-size missing",                            "default", HEAD_TE,                                                      `\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                      answeredThenClosed("BAD_CHUNK_SIZE")],
  ["bare LF after the chunk-size",                  "default", HEAD_TE,                                                      `5\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                       answeredThenClosed("BAD_CHUNK_SIZE")],
  ["bare CR after the chunk-size",                  "default", HEAD_TE,                                                      `5\rhello\r\n${LAST_CHUNK}${SMUGGLED}`,                       answeredThenClosed("BAD_CHUNK_SIZE")],
  ["bare LF after the chunk data",                  "default", HEAD_TE,                                                      `5\r\nhello\n${LAST_CHUNK}${SMUGGLED}`,                       answeredThenClosed("BAD_CHUNK_DATA_END")],
  ["bare CR after the chunk data",                  "default", HEAD_TE,                                                      `5\r\nhello\r${LAST_CHUNK}${SMUGGLED}`,                       answeredThenClosed("BAD_CHUNK_DATA_END")],
  ["chunk data longer than its size",               "default", HEAD_TE,                                                      `5\r\nhelloX\r\n${LAST_CHUNK}${SMUGGLED}`,                    answeredThenClosed("BAD_CHUNK_DATA_END")],
  ["chunk data shorter than its size",              "default", HEAD_TE,                                                      `5\r\nhell\r\n${LAST_CHUNK}${SMUGGLED}`,                      answeredThenClosed("BAD_CHUNK_DATA_END")],
  ["chunk extension of 1025 bytes",                 "default", HEAD_TE,                                                      `5;${"e".repeat(1024)}\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`, answeredThenClosed("CHUNK_EXTENSION_TOO_LONG")],
  ["chunk extension with a bare CR",                "default", HEAD_TE,                                                      `5;a\rb\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                answeredThenClosed("BAD_CHUNK_SIZE")],
  ["chunk extension with a bare CR in quotes",      "default", HEAD_TE,                                                      `5;a="x\ry"\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,            answeredThenClosed("BAD_CHUNK_EXTENSION")],
  ["chunk extension with a bare LF",                "default", HEAD_TE,                                                      `5;a\nb\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                answeredThenClosed("BAD_CHUNK_EXTENSION")],
  ["chunk extension without a name",                "default", HEAD_TE,                                                      `5;\r\nhello\r\n${LAST_CHUNK}${SMUGGLED}`,                    answeredThenClosed("BAD_CHUNK_EXTENSION")],
  ["trailer with obs-fold",                         "default", HEAD_TE,                                                      `0\r\nX-T: a\r\n b\r\n\r\n${SMUGGLED}`,                       answeredThenClosed("BAD_TRAILER")],
  ["trailer with a bare LF",                        "default", HEAD_TE,                                                      `0\r\nX-T: a\n\r\n${SMUGGLED}`,                               answeredThenClosed("BAD_TRAILER")],
  ["trailer with space before the colon",           "default", HEAD_TE,                                                      `0\r\nX-T : a\r\n\r\n${SMUGGLED}`,                            answeredThenClosed("BAD_TRAILER")],
  ["trailer section over 8 KiB",                    "default", HEAD_TE,                                                      `0\r\nX-T: ${"t".repeat(8192)}\r\n\r\n${SMUGGLED}`,           answeredThenClosed("TRAILERS_TOO_LARGE")],
  ["chunks over the body limit",                    "small",   HEAD_TE,                                                      `${chunk("0123456789")}${chunk("0123456789")}${LAST_CHUNK}${SMUGGLED}`, answeredThenClosed("BODY_TOO_LARGE")],
  // Acceptable chunked framing: exactly the bytes of the body are consumed.
  ["chunks exactly at the body limit",              "small",   HEAD_TE,                                                      `${chunk("01234567")}${chunk("89abcdef")}${LAST_CHUNK}`,      BOTH_DIGITS],
  ["last-chunk, then the next request",             "default", HEAD_TE,                                                      `${LAST_CHUNK}${SMUGGLED}`,                                   answered("GET /digits.txt 200", "GET /secret-if-smuggled 404", "GET /digits.txt 200")],
  ["a request inside chunk data",                   "default", HEAD_TE,                                                      SMUGGLED_CHUNKED,                                             BOTH_DIGITS],
  ["chunk extensions and trailers",                 "default", HEAD_TE,                                                      `${SMUGGLED_LENGTH.toString(16)} ; a = "b;\\"c" ; d\r\n${SMUGGLED}\r\n0;e=f\r\nX-T: 1\r\nContent-Length: 5\r\n\r\n`, BOTH_DIGITS],
  // RFC 9110 §10.1.1: berth answers at once instead of waiting for a 100-continue body, so the
  // body's position in the stream is unknown: the answer closes.
  ["Expect: 100-continue with a CL body",           "default", get(`Expect: 100-continue\r\nContent-Length: ${SMUGGLED_LENGTH}\r\n`), SMUGGLED,                                                     answered("GET /digits.txt 200")],
];

// ---------------------------------------------------------------------------------------------
// Runner

/** "status" per response, "+close" when it says Connection: close; then how the stream ended. */
function describeExchange(
  raw: Buffer,
  ending: string,
  accessLines: readonly string[],
): { text: string; bodies: string[] } {
  const { responses, rest } = parseResponses(raw, ["GET", "GET", "GET", "GET"]);
  const statuses = responses.map(
    (r) => `${r.status}${r.header("connection") === "close" ? "+close" : ""}`,
  );
  const bodies = responses.filter((r) => r.status === 200).map((r) => r.body.toString("latin1"));
  const text =
    `responses [${statuses.join(", ")}], ${rest.length} stray bytes, ${ending}, ` +
    `access [${accessLines.map(requestOfAccessLine).join(", ")}]`;
  return { text, bodies };
}

/** `127.0.0.1 - - [date] "GET /x HTTP/1.1" 200 10` → "GET /x 200"; an unparsed request → "- 400". */
function requestOfAccessLine(line: string): string {
  const match = /"(.*)" (\d{3}) /.exec(line);
  if (match === null) return `unparsable access line ${JSON.stringify(line)}`;
  const requestLine = (match[1] ?? "").replace(/ HTTP\/1\.[01]$/, "");
  return `${requestLine} ${match[2]}`;
}

function describeWant({ answers, ending }: Want): string {
  const statuses = answers.map((answer) => answer.slice(answer.lastIndexOf(" ") + 1));
  const access = [...answers];
  if (ending.kind === "rejected") {
    statuses.push(String(ending.status));
    access.push(`- ${ending.status}`);
  }
  // Every row ends with a close, announced by the last response unless a body broke after it.
  if (ending.kind !== "closed-in-body") {
    const last = statuses.length - 1;
    statuses[last] = `${statuses[last]}+close`;
  }
  return `responses [${statuses.join(", ")}], 0 stray bytes, closed, access [${access.join(", ")}]`;
}

/** The row's expectation in a few words, for the test name. */
function summarizeWant({ answers, ending }: Want): string {
  const answered = answers.map((answer) => answer.slice(answer.lastIndexOf(" ") + 1)).join(", ");
  switch (ending.kind) {
    case "announced":
      return answered;
    case "rejected":
      return `${answered === "" ? "" : `${answered}, `}${ending.status} ${ending.code}`;
    case "closed-in-body":
      return `${answered}, then close (${ending.code})`;
  }
}

function wantedErrorLine({ ending }: Want): string | null {
  switch (ending.kind) {
    case "announced":
      return null;
    case "rejected":
      return `bad request (${ending.code}): ${ending.status}`;
    case "closed-in-body":
      return `bad request body framing (${ending.code}): closing`;
  }
}

const CHUNKINGS = ["whole", "bytewise"] as const;

describe("request smuggling vectors", () => {
  for (const [name, serverName, head, body, want] of rows) {
    for (const chunking of CHUNKINGS) {
      const sent = Buffer.from(`${head}${body}${FOLLOW}`, "latin1");
      const call = `exchange(${showBytes(sent, 0, 160)}, ${chunking})`;
      test(`${name}: ${summarizeWant(want)} (${chunking})`, async () => {
        const running = servers[serverName];
        const accessBefore = running.log.accessLines.length;
        const errorsBefore = running.log.errorLines.length;
        const chunks =
          chunking === "whole" ? [sent] : [...sent].map((_, at) => sent.subarray(at, at + 1));
        const result = await exchange(running.port, chunks);
        const ending = result.reset ? "reset" : result.closedByServer ? "closed" : "open";
        const got = describeExchange(
          result.raw,
          ending,
          running.log.accessLines.slice(accessBefore),
        );
        const wantText = describeWant(want);
        assert.equal(got.text, wantText, `${call} = ${got.text}, want ${wantText}`);
        for (const body of got.bodies) assert.equal(body, "0123456789", `${call}: a 200's body`);

        const logged = running.log.errorLines.slice(errorsBefore);
        const wantLine = wantedErrorLine(want);
        if (wantLine === null) {
          assert.deepEqual(logged, [], `${call} logged errors`);
        } else {
          assert.ok(
            logged.some((line) => line.endsWith(wantLine)),
            `${call} logged ${JSON.stringify(logged)}, want a line ending ${JSON.stringify(wantLine)}`,
          );
        }
      });
    }
  }

  test("after the table: a fresh connection is answered and no descriptor leaked", async () => {
    for (const running of Object.values(servers)) {
      const result = await exchange(running.port, FOLLOW);
      const [response] = parseResponses(result.raw, ["GET"]).responses;
      assert.equal(
        `${response?.status} ${response?.body.toString("latin1")}`,
        "200 0123456789",
        "GET /digits.txt on a fresh connection",
      );
    }
    const fds = await settledFds();
    assert.equal(fds, baselineFds, `open fds after the table = ${fds}, want ${baselineFds}`);
  });
});
