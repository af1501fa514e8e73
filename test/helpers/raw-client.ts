/**
 * A deliberately dumb HTTP/1.1 client for integration tests: it writes exactly the bytes a test
 * gives it and parses exactly the bytes the server sends back. It is strict where the server must
 * be (CRLF line ends, one Content-Length, no Content-Length beside Transfer-Encoding) so a framing
 * bug in berth fails a test instead of being papered over. Test-only: never used by src/.
 */
import { connect, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

export interface ParsedResponse {
  status: number;
  reason: string;
  /** "1.1" for "HTTP/1.1". */
  version: string;
  /** Field lines in order, names lowercased, values with surrounding whitespace removed. */
  headers: [string, string][];
  /** The first value of the named field (case-insensitive), or undefined. */
  header(name: string): string | undefined;
  /** The payload: chunked coding removed. */
  body: Buffer;
  /** Trailer fields of a chunked body, names lowercased; empty otherwise. */
  trailers: [string, string][];
  /** The exact bytes of this response, status line to last byte of framing. */
  raw: Buffer;
}

export interface ParseResponsesResult {
  responses: ParsedResponse[];
  /** Trailing bytes that did not form a complete response. */
  rest: Buffer;
}

/**
 * Parses a byte stream of HTTP/1.1 responses. `methods[i]` is the method of the i-th request: a
 * response to HEAD, and any 1xx/204/304 response, has no body. Bodies are delimited by
 * Content-Length, by chunked coding (decoded), or, when neither is present, by the end of `raw`
 * (only valid for the last response). 1xx interim responses (except 101) are returned too but do
 * not use up a method; after a 101 the stream is no longer HTTP and is returned as `rest`.
 * Throws on malformed responses with a message showing the offending bytes.
 */
export function parseResponses(raw: Buffer, methods: readonly string[]): ParseResponsesResult {
  return parseResponseStream(raw, methods, true);
}

const CRLF = Buffer.from("\r\n", "latin1");
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");
const VERSION_PREFIX = Buffer.from("HTTP/", "latin1");
// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
const STATUS_LINE = /^HTTP\/(\d\.\d) (\d{3}) ([\t\x20-\x7e\x80-\xff]*)$/;
// RFC 9110 §5.1: field-name = token; §5.5: field-value excludes CTLs other than HTAB.
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([\t\x20-\x7e\x80-\xff]*)$/;
const CHUNK_LINE = /^([0-9A-Fa-f]+)(;[\t\x20-\x7e\x80-\xff]*)?$/;
/** How many bytes around a problem an error message shows. */
const SHOWN_BYTES = 80;

type ResponseParse =
  | { kind: "response"; response: ParsedResponse; end: number }
  | { kind: "need-more" }
  | { kind: "upgrade"; response: ParsedResponse; end: number };

/** `atEnd` says no more bytes will follow `raw`; without it a close-delimited body never ends. */
function parseResponseStream(
  raw: Buffer,
  methods: readonly string[],
  atEnd: boolean,
): ParseResponsesResult {
  const responses: ParsedResponse[] = [];
  let offset = 0;
  let requestIndex = 0;
  while (offset < raw.length) {
    const method = methods[requestIndex];
    if (method === undefined) {
      throw new Error(
        `response #${responses.length + 1} at byte ${offset} has no request: only ` +
          `${methods.length} method(s) given; bytes: ${showBytes(raw, offset, offset + SHOWN_BYTES)}`,
      );
    }
    const parsed = parseOneResponse(raw, offset, method, atEnd);
    if (parsed.kind === "need-more") break;
    responses.push(parsed.response);
    offset = parsed.end;
    if (parsed.kind === "upgrade") break;
    if (!isInterim(parsed.response.status)) requestIndex++;
  }
  return { responses, rest: raw.subarray(offset) };
}

function isInterim(status: number): boolean {
  return status >= 100 && status < 200 && status !== 101;
}

function parseOneResponse(
  raw: Buffer,
  start: number,
  method: string,
  atEnd: boolean,
): ResponseParse {
  assertPossibleStart(raw, start);
  const headEnd = raw.indexOf(HEAD_END, start);
  if (headEnd === -1) return { kind: "need-more" };
  const head = parseHead(raw, start, headEnd);
  const bodyStart = headEnd + HEAD_END.length;
  const build = (body: Buffer, end: number, trailers: [string, string][] = []) =>
    createResponse(head, body, trailers, raw.subarray(start, end));

  if (head.status === 101) {
    return { kind: "upgrade", response: build(Buffer.alloc(0), bodyStart), end: bodyStart };
  }
  // RFC 9112 §6.3 rules 1 and 2: these responses end at the empty line whatever their fields say.
  if (method === "HEAD" || head.status < 200 || head.status === 204 || head.status === 304) {
    return { kind: "response", response: build(Buffer.alloc(0), bodyStart), end: bodyStart };
  }
  const framing = resolveFraming(head, raw, start);
  switch (framing.kind) {
    case "chunked": {
      const decoded = decodeChunked(raw, bodyStart);
      if (decoded === undefined) return { kind: "need-more" };
      return {
        kind: "response",
        response: build(decoded.body, decoded.end, decoded.trailers),
        end: decoded.end,
      };
    }
    case "length": {
      const end = bodyStart + framing.bytes;
      if (end > raw.length) return { kind: "need-more" };
      return { kind: "response", response: build(raw.subarray(bodyStart, end), end), end };
    }
    case "close": {
      if (!atEnd) return { kind: "need-more" };
      const end = raw.length;
      return { kind: "response", response: build(raw.subarray(bodyStart, end), end), end };
    }
  }
}

interface ResponseHead {
  version: string;
  status: number;
  reason: string;
  headers: [string, string][];
}

/** Fails fast on garbage instead of waiting for a CRLFCRLF that will never make sense. */
function assertPossibleStart(raw: Buffer, start: number): void {
  const available = Math.min(VERSION_PREFIX.length, raw.length - start);
  if (raw.compare(VERSION_PREFIX, 0, available, start, start + available) !== 0) {
    throw new Error(
      `malformed response at byte ${start}: expected "HTTP/", got ` +
        showBytes(raw, start, start + SHOWN_BYTES),
    );
  }
}

function parseHead(raw: Buffer, start: number, headEnd: number): ResponseHead {
  const lines = splitLines(raw, start, headEnd);
  const [statusLine, ...fieldLines] = lines;
  const match = STATUS_LINE.exec(statusLine?.text ?? "");
  if (statusLine === undefined || match === null) {
    throw new Error(
      `malformed status line at byte ${start}: ${showBytes(raw, start, lineEnd(raw, start))}`,
    );
  }
  const headers = fieldLines.map((line) => parseFieldLine(raw, line));
  return {
    version: match[1] ?? "",
    status: Number(match[2]),
    reason: match[3] ?? "",
    headers,
  };
}

interface Line {
  text: string;
  start: number;
  end: number;
}

/** Splits [start, end) at CRLF; a bare CR or LF inside a line is malformed (RFC 9112 §2.2). */
function splitLines(raw: Buffer, start: number, end: number): Line[] {
  const lines: Line[] = [];
  let lineStart = start;
  while (lineStart <= end) {
    const found = raw.indexOf(CRLF, lineStart);
    const lineStop = found === -1 || found > end ? end : found;
    const text = raw.toString("latin1", lineStart, lineStop);
    if (/[\r\n]/.test(text)) {
      throw new Error(
        `bare CR or LF in response head at byte ${lineStart}: ` +
          showBytes(raw, lineStart, lineStop + CRLF.length),
      );
    }
    lines.push({ text, start: lineStart, end: lineStop });
    lineStart = lineStop + CRLF.length;
  }
  return lines;
}

function parseFieldLine(raw: Buffer, line: Line): [string, string] {
  const match = FIELD_LINE.exec(line.text);
  if (match === null) {
    throw new Error(
      `malformed field line at byte ${line.start}: ${showBytes(raw, line.start, line.end)}`,
    );
  }
  const name = (match[1] ?? "").toLowerCase();
  const value = (match[2] ?? "").replace(/^[\t ]+|[\t ]+$/g, "");
  return [name, value];
}

type Framing = { kind: "chunked" } | { kind: "length"; bytes: number } | { kind: "close" };

function resolveFraming(head: ResponseHead, raw: Buffer, start: number): Framing {
  const where = `in response at byte ${start}`;
  const lengths = valuesOf(head.headers, "content-length");
  const codings = valuesOf(head.headers, "transfer-encoding");
  if (codings.length > 0) {
    // RFC 9112 §6.2: a sender MUST NOT send Content-Length with Transfer-Encoding.
    if (lengths.length > 0) {
      throw new Error(`Content-Length with Transfer-Encoding ${where}: ${showHead(raw, start)}`);
    }
    const last = codings.join(",").split(",").at(-1)?.trim().toLowerCase();
    // RFC 9112 §6.3 rule 4: a response whose final coding is not chunked runs until close.
    return last === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  if (lengths.length > 1) {
    throw new Error(`more than one Content-Length ${where}: ${showHead(raw, start)}`);
  }
  const [length] = lengths;
  if (length === undefined) return { kind: "close" };
  if (!/^\d+$/.test(length)) {
    throw new Error(`malformed Content-Length ${JSON.stringify(length)} ${where}`);
  }
  return { kind: "length", bytes: Number(length) };
}

function valuesOf(headers: readonly [string, string][], name: string): string[] {
  return headers.filter(([n]) => n === name).map(([, value]) => value);
}

interface DecodedChunked {
  body: Buffer;
  trailers: [string, string][];
  end: number;
}

/** RFC 9112 §7.1. Returns undefined while the chunked body is still incomplete. */
function decodeChunked(raw: Buffer, start: number): DecodedChunked | undefined {
  const chunks: Buffer[] = [];
  let offset = start;
  for (;;) {
    const sizeEnd = raw.indexOf(CRLF, offset);
    if (sizeEnd === -1) {
      assertPossibleChunkLine(raw, offset);
      return undefined;
    }
    const match = CHUNK_LINE.exec(raw.toString("latin1", offset, sizeEnd));
    if (match === null) {
      throw new Error(`malformed chunk-size line at byte ${offset}: ${showBytes(raw, offset)}`);
    }
    const size = Number.parseInt(match[1] ?? "", 16);
    const dataStart = sizeEnd + CRLF.length;
    if (size === 0) return decodeTrailers(raw, dataStart, chunks);
    const dataEnd = dataStart + size;
    if (dataEnd + CRLF.length > raw.length) return undefined;
    if (raw.compare(CRLF, 0, CRLF.length, dataEnd, dataEnd + CRLF.length) !== 0) {
      throw new Error(
        `chunk data at byte ${dataStart} not followed by CRLF after ${size} bytes: ` +
          showBytes(raw, dataEnd),
      );
    }
    chunks.push(raw.subarray(dataStart, dataEnd));
    offset = dataEnd + CRLF.length;
  }
}

function assertPossibleChunkLine(raw: Buffer, offset: number): void {
  const partial = raw.toString("latin1", offset, offset + SHOWN_BYTES);
  if (!/^(?:[0-9A-Fa-f]+(?:;[\t\x20-\x7e\x80-\xff]*)?\r?)?$/.test(partial)) {
    throw new Error(`malformed chunk-size line at byte ${offset}: ${showBytes(raw, offset)}`);
  }
}

function decodeTrailers(
  raw: Buffer,
  start: number,
  chunks: readonly Buffer[],
): DecodedChunked | undefined {
  const trailers: [string, string][] = [];
  let offset = start;
  for (;;) {
    const lineStop = raw.indexOf(CRLF, offset);
    if (lineStop === -1) return undefined;
    if (lineStop === offset) {
      return { body: Buffer.concat(chunks), trailers, end: lineStop + CRLF.length };
    }
    const [line] = splitLines(raw, offset, lineStop);
    if (line !== undefined) trailers.push(parseFieldLine(raw, line));
    offset = lineStop + CRLF.length;
  }
}

function createResponse(
  head: ResponseHead,
  body: Buffer,
  trailers: [string, string][],
  raw: Buffer,
): ParsedResponse {
  return {
    ...head,
    body,
    trailers,
    raw,
    header(name: string): string | undefined {
      const wanted = name.toLowerCase();
      return head.headers.find(([n]) => n === wanted)?.[1];
    },
  };
}

function lineEnd(raw: Buffer, start: number): number {
  const found = raw.indexOf(CRLF, start);
  return found === -1 ? raw.length : found + CRLF.length;
}

function showHead(raw: Buffer, start: number): string {
  const found = raw.indexOf(HEAD_END, start);
  return showBytes(raw, start, found === -1 ? raw.length : found + HEAD_END.length);
}

/** The bytes as a quoted string with CR, LF and other non-printables escaped; long runs cut. */
export function showBytes(raw: Buffer, start = 0, end = start + SHOWN_BYTES): string {
  const stop = Math.min(end, raw.length, start + 4 * SHOWN_BYTES);
  let text = "";
  for (const byte of raw.subarray(start, stop)) {
    if (byte === 0x0d) text += "\\r";
    else if (byte === 0x0a) text += "\\n";
    else if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  const more = raw.length > stop ? `… (${raw.length - stop} more bytes)` : "";
  return `"${text}"${more}`;
}

export interface ExchangeOptions {
  /** Default 127.0.0.1; ignored for a unix socket path. */
  host?: string;
  /** Default 3000: then reject with an error naming what was received so far. */
  timeoutMs?: number;
  /** Pause between chunks; default 0 (chunks still go out as separate writes). */
  writeDelayMs?: number;
  /** end() our side after writing the last chunk; default false. */
  halfClose?: boolean;
  /** Default "close": read until the server closes. */
  until?: "close" | { responses: number; methods: readonly string[] };
}

export interface ExchangeResult {
  /** Every byte the server sent. */
  raw: Buffer;
  /** The server ended or reset the connection (false when we stopped after enough responses). */
  closedByServer: boolean;
  /** The server reset the connection (ECONNRESET/EPIPE) rather than closing it cleanly. */
  reset: boolean;
}

/** How long exchange() waits by default for the server to finish. */
const DEFAULT_EXCHANGE_TIMEOUT_MS = 3000;

/**
 * Connects to `port` (or to a unix socket path when `port` is a string), writes each chunk in
 * order (a single Buffer or string is one chunk; strings are written as latin1 so tests control
 * every byte), then reads until the server closes or until the wanted number of complete
 * responses has arrived. Rejects on connect failure, timeout or malformed responses (in
 * `until: {responses}` mode).
 */
export function exchange(
  port: number | string,
  chunks: string | Buffer | readonly (string | Buffer)[],
  options: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const host = options.host ?? "127.0.0.1";
  const timeoutMs = options.timeoutMs ?? DEFAULT_EXCHANGE_TIMEOUT_MS;
  const until = options.until ?? "close";
  const target = typeof port === "string" ? port : `${host}:${port}`;
  const list = typeof chunks === "string" || Buffer.isBuffer(chunks) ? [chunks] : chunks;
  const buffers = list.map((chunk) =>
    typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk,
  );

  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const stopWriting = new AbortController();
    let connected = false;
    let settled = false;
    const socket: Socket =
      typeof port === "string"
        ? connect({ path: port, allowHalfOpen: true })
        : connect({ port, host, allowHalfOpen: true });
    const receivedBytes = () => Buffer.concat(received);

    const finish = (outcome: { closedByServer: boolean; reset: boolean } | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopWriting.abort();
      socket.destroy();
      if (outcome instanceof Error) reject(outcome);
      else resolve({ raw: receivedBytes(), ...outcome });
    };

    const timer = setTimeout(() => {
      const waitingFor =
        until === "close" ? "the server to close" : `${until.responses} complete response(s)`;
      const raw = receivedBytes();
      finish(
        new Error(
          `exchange with ${target} timed out after ${timeoutMs} ms waiting for ${waitingFor}; ` +
            `received ${raw.length} bytes: ${showBytes(raw, 0, raw.length)}`,
        ),
      );
    }, timeoutMs);

    socket.setNoDelay(true);
    socket.on("connect", () => {
      connected = true;
      writeChunks(socket, buffers, options, stopWriting.signal).catch((error: unknown) => {
        // A server that closes mid-request makes our later writes fail; that is its answer.
        if (!isPeerGone(error)) finish(asError(error));
      });
    });
    socket.on("data", (data: Buffer) => {
      received.push(data);
      if (until === "close") return;
      try {
        const parsed = parseResponseStream(receivedBytes(), until.methods, false);
        if (parsed.responses.length >= until.responses) {
          finish({ closedByServer: false, reset: false });
        }
      } catch (error) {
        finish(asError(error));
      }
    });
    socket.on("end", () => finish({ closedByServer: true, reset: false }));
    socket.on("close", () => finish({ closedByServer: true, reset: false }));
    socket.on("error", (error) => {
      if (connected && isPeerGone(error)) finish({ closedByServer: true, reset: true });
      else finish(new Error(`Cannot exchange with ${target}: ${asError(error).message}`));
    });
  });
}

async function writeChunks(
  socket: Socket,
  buffers: readonly Buffer[],
  options: ExchangeOptions,
  signal: AbortSignal,
): Promise<void> {
  for (const [index, buffer] of buffers.entries()) {
    if (index > 0 && options.writeDelayMs !== undefined && options.writeDelayMs > 0) {
      try {
        await delay(options.writeDelayMs, undefined, { signal });
      } catch {
        return;
      }
    }
    if (signal.aborted || socket.destroyed) return;
    await new Promise<void>((resolve, reject) => {
      socket.write(buffer, (error) => (error ? reject(error) : resolve()));
    });
  }
  if (options.halfClose === true && !signal.aborted && !socket.destroyed) socket.end();
}

function isPeerGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
