/**
 * What `berth bench http` sends, and where: URLs and `-H` fields checked, and the request bytes
 * built once, before the run (STYLE.md rule 11: precompute what never changes). Pure.
 */
import { isIP } from "node:net";
import { trimOws } from "../http/headers.js";
import { FIELD_VALUE_CHAR, isTokenString } from "../http/tokens.js";

export type BenchMethod = "GET" | "HEAD";
export const BENCH_METHODS: readonly BenchMethod[] = ["GET", "HEAD"];

/** Where every connection goes: the URLs' host and port, or a Unix socket. */
export type BenchConnectTarget =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export interface BenchUrl {
  /** As typed, for the summary. */
  readonly text: string;
  /** Host field value: host, with the port unless it is 80; IPv6 in brackets. */
  readonly host: string;
  /** origin-form request-target (RFC 9112 §3.2.1): path and query. */
  readonly requestTarget: string;
}

export type ParsedBenchUrls =
  | {
      readonly kind: "urls";
      readonly urls: readonly BenchUrl[];
      readonly connectTarget: BenchConnectTarget;
    }
  | { readonly kind: "error"; readonly message: string };

/**
 * The URL arguments. Every URL must share one host and port: all connections go to one server,
 * and the URLs are requested in rotation over them. With `unixSocket`, connections go to that
 * socket instead and the URLs give the Host field and the paths.
 */
export function parseBenchUrls(
  texts: readonly string[],
  unixSocket: string | undefined,
): ParsedBenchUrls {
  if (texts.length === 0) return { kind: "error", message: "expected at least one URL" };
  const urls: BenchUrl[] = [];
  let origin: { readonly host: string; readonly hostname: string; readonly port: number } | null =
    null;
  for (const text of texts) {
    const parsed = parseOneUrl(text);
    if (parsed.kind === "error") return parsed;
    const { url } = parsed;
    if (origin === null) {
      origin = { host: url.host, hostname: url.hostname, port: Number(url.port || "80") };
    } else if (origin.host !== url.host) {
      return {
        kind: "error",
        message: `every URL must have the same host and port (got ${origin.host} and ${url.host})`,
      };
    }
    urls.push({ text, host: url.host, requestTarget: `${url.pathname}${url.search}` });
  }
  if (origin === null) return { kind: "error", message: "expected at least one URL" };
  if (unixSocket !== undefined) {
    if (unixSocket.length === 0) return { kind: "error", message: "--unix-socket needs a path" };
    return { kind: "urls", urls, connectTarget: { kind: "unix", path: unixSocket } };
  }
  const hostname = origin.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    kind: "urls",
    urls,
    connectTarget: { kind: "tcp", host: hostname, port: origin.port },
  };
}

function parseOneUrl(
  text: string,
):
  | { readonly kind: "url"; readonly url: URL }
  | { readonly kind: "error"; readonly message: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { kind: "error", message: `not a URL: "${text}" (expected http://HOST[:PORT]/PATH)` };
  }
  if (url.protocol === "https:") {
    return { kind: "error", message: `${text}: https is not supported (plain HTTP/1.1 only)` };
  }
  if (url.protocol !== "http:") {
    return { kind: "error", message: `${text}: expected an http:// URL` };
  }
  if (url.username !== "" || url.password !== "") {
    return {
      kind: "error",
      message: `${text}: credentials in URLs are not sent (use -H "Authorization: ...")`,
    };
  }
  if (url.hostname === "") return { kind: "error", message: `${text}: the host is empty` };
  return { kind: "url", url };
}

export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

export type ParsedHeaderFlag =
  | { readonly kind: "header"; readonly field: HeaderField }
  | { readonly kind: "error"; readonly message: string };

/** Fields that would change the framing of a request that has no body. */
const BODY_FIELDS = new Set(["content-length", "transfer-encoding"]);

/** One `-H "Name: value"`: a token name (RFC 9110 §5.1), a value without control bytes (§5.5),
 * OWS around the value removed. */
export function parseHeaderFlag(text: string): ParsedHeaderFlag {
  const colon = text.indexOf(":");
  const name = colon === -1 ? "" : text.slice(0, colon);
  if (!isTokenString(name)) {
    return {
      kind: "error",
      message: `-H expects "Name: value" with a field name of letters, digits and !#$%&'*+-.^_\`|~, got ${JSON.stringify(text)}`,
    };
  }
  const value = trimOws(text.slice(colon + 1));
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff || FIELD_VALUE_CHAR[code] !== 1) {
      return {
        kind: "error",
        message: `-H ${name}: the value holds a control or non-Latin-1 character (${JSON.stringify(value)})`,
      };
    }
  }
  if (BODY_FIELDS.has(name.toLowerCase())) {
    return { kind: "error", message: `-H ${name}: berth bench sends requests without a body` };
  }
  return { kind: "header", field: { name, value } };
}

export interface RequestOptions {
  readonly method: BenchMethod;
  readonly headers: readonly HeaderField[];
  /** Ask the server to close after answering (--close: a new connection per request). */
  readonly close: boolean;
}

/** The request bytes for one URL: request-line, Host (unless -H gives one), the -H fields in
 * order, Connection: close with --close. */
export function buildRequest(url: BenchUrl, options: RequestOptions): Buffer {
  const lines = [`${options.method} ${url.requestTarget} HTTP/1.1`];
  if (!options.headers.some((field) => field.name.toLowerCase() === "host")) {
    lines.push(`Host: ${url.host}`);
  }
  for (const { name, value } of options.headers) lines.push(`${name}: ${value}`);
  if (options.close) lines.push("Connection: close");
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

/**
 * Requests in rotation, laid out once so that any run of `maxBatch` consecutive requests, from
 * any point of the rotation, is one contiguous view: a batch of pipelined requests is one write
 * and costs no copy.
 */
export class RequestRotation {
  /** Number of distinct requests (URLs). */
  readonly size: number;
  private readonly bytes: Buffer;
  /** offsets[i]: where the i-th request of the unrolled rotation starts in `bytes`. */
  private readonly offsets: number[];
  /** Full batches, one per starting point: the common case takes no allocation. */
  private readonly fullBatches: Buffer[];

  constructor(
    requests: readonly Buffer[],
    readonly maxBatch: number,
  ) {
    if (requests.length === 0) throw new RangeError("RequestRotation needs at least one request");
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.size = requests.length;
    const unrolled: Buffer[] = [];
    for (let i = 0; i < this.size + maxBatch - 1; i++) {
      unrolled.push(requests[i % this.size] as Buffer);
    }
    this.bytes = Buffer.concat(unrolled);
    this.offsets = [0];
    for (const request of unrolled) {
      this.offsets.push((this.offsets.at(-1) ?? 0) + request.length);
    }
    this.fullBatches = [];
    for (let start = 0; start < this.size; start++)
      this.fullBatches.push(this.view(start, maxBatch));
  }

  /** `count` (1..maxBatch) consecutive requests starting at rotation index `start`. */
  batch(start: number, count: number): Buffer {
    const at = start % this.size;
    if (count === this.maxBatch) return this.fullBatches[at] as Buffer;
    return this.view(at, count);
  }

  private view(at: number, count: number): Buffer {
    if (count < 1 || count > this.maxBatch) {
      throw new RangeError(`batch of ${count} requests, want 1..${this.maxBatch}`);
    }
    return this.bytes.subarray(this.offsets[at], this.offsets[at + count]);
  }
}

/** `127.0.0.1:8080`, `[::1]:8080` or `unix:/run/app.sock`: how messages name the target. */
export function formatConnectTarget(target: BenchConnectTarget): string {
  if (target.kind === "unix") return `unix:${target.path}`;
  return isIP(target.host) === 6
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
}
