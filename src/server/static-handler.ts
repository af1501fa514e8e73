import type { Coding } from "../files/accept-encoding.js";
import {
  type OpenServableResult,
  openServable,
  type ServableRoot,
} from "../files/open-servable.js";
import { resolveRequestPath } from "../files/resolve-path.js";
import { selectVariant } from "../files/select-variant.js";
import { fieldValue } from "../http/headers.js";
import type { RequestHead } from "../http/request-types.js";
import type { CachedFile, FileCache } from "./file-cache.js";
import {
  closeQuietly,
  type FileResponseOptions,
  NOSNIFF_HEADER,
  planErrorWithHeaders,
  planFileResponse,
} from "./plan-file-response.js";
import { errorBody, type ResponsePlan, statusLine } from "./response-plan.js";

/**
 * Turns a request into a response plan, in the phases of a static request:
 * check method → resolve target → open servable file → plan response.
 * The plan is handed to `done`, synchronously or later (file opening is asynchronous).
 */
export type RequestHandler = (
  request: RequestHead,
  context: HandlerContext,
  done: PlanCallback,
) => void;

export interface HandlerContext {
  /** The clock, read once by the connection for this request. */
  readonly nowMs: number;
  /** "Date: <IMF-fixdate>\r\n", cached per second by the server. */
  readonly dateLine: string;
}

/** `note` is a detail for the error log (never sent to the peer). */
export type PlanCallback = (plan: ResponsePlan, note?: string) => void;

/** RFC 9110 §10.2.1: what a 405 must list, and what OPTIONS answers. */
export const ALLOWED_METHODS = "GET, HEAD, OPTIONS";

/** Methods registered with IANA (RFC 9110 §16.1 registry) that berth recognises but does not
 * support on files → 405. Any other method is unrecognised → 501 (RFC 9110 §9.1). */
const KNOWN_UNSUPPORTED_METHODS = new Set([
  "POST",
  "PUT",
  "DELETE",
  "CONNECT",
  "TRACE",
  "PATCH",
  "QUERY",
  "ACL",
  "BASELINE-CONTROL",
  "BIND",
  "CHECKIN",
  "CHECKOUT",
  "COPY",
  "LABEL",
  "LINK",
  "LOCK",
  "MERGE",
  "MKACTIVITY",
  "MKCALENDAR",
  "MKCOL",
  "MKREDIRECTREF",
  "MKWORKSPACE",
  "MOVE",
  "ORDERPATCH",
  "PRI",
  "PROPFIND",
  "PROPPATCH",
  "REBIND",
  "REPORT",
  "SEARCH",
  "UNBIND",
  "UNCHECKOUT",
  "UNLINK",
  "UNLOCK",
  "UPDATE",
  "UPDATEREDIRECTREF",
  "VERSION-CONTROL",
]);

const INDEX_FILE = "index.html";

export interface StaticHandlerOptions extends FileResponseOptions {
  readonly root: ServableRoot;
  /** Codings served from precompressed sidecars, in server preference order; [] = off. */
  readonly precompressed: readonly Coding[];
  /** Small files held in memory (file-cache.ts), or null for none. */
  readonly cache: FileCache | null;
}

export function createStaticHandler(options: StaticHandlerOptions): RequestHandler {
  const { cache } = options;
  return (request, context, done) => {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD") {
      done(planOtherMethod(method, context));
      return;
    }
    if (request.form !== "origin" && request.form !== "absolute") {
      done(
        planError(400, method === "HEAD", context),
        `target form ${request.form} with ${method}`,
      );
      return;
    }
    // The hot path: a file in memory, checked against the disk recently enough. The key is the
    // path as sent; each spelling of a path is resolved and checked on its own.
    if (cache !== null) {
      const cached = cache.fresh(request.path, context.nowMs);
      if (cached !== undefined) {
        done(planCachedResponse(options, cached, request, method, context));
        return;
      }
      const joined = cache.joinLoad(request.path, (loaded) => {
        if (loaded !== null) done(planCachedResponse(options, loaded, request, method, context));
        else serveFromDisk(options, request, method, context, done, false);
      });
      if (joined) return;
    }
    serveFromDisk(options, request, method, context, done, cache !== null);
  };
}

/** The full path of a request: resolve → open (checking every policy on the opened file) →
 * choose a representation → plan. With `mayCache`, a small file is read into the cache on the
 * way and answered from there. */
function serveFromDisk(
  options: StaticHandlerOptions,
  request: RequestHead,
  method: "GET" | "HEAD",
  context: HandlerContext,
  done: PlanCallback,
  mayCache: boolean,
): void {
  const { root, cache } = options;
  const isHead = method === "HEAD";
  const resolved = resolveRequestPath(request.path, root.dotfiles);
  if (resolved.kind === "bad-request") {
    done(planError(400, isHead, context), resolved.reason);
    return;
  }
  if (resolved.kind === "not-found") {
    done(planError(404, isHead, context), resolved.reason);
    return;
  }
  const { segments, directoryForm } = resolved;
  const serve = (
    fileSegments: readonly string[],
    opened: Exclude<OpenServableResult, { kind: "directory" }>,
  ): void => {
    if (opened.kind !== "file") {
      done(...planNotServed(opened, isHead, context));
      return;
    }
    const key = request.path;
    if (mayCache && cache?.wants(key, opened.stats.size)) {
      const { precompressed } = options;
      cache.load(key, root, fileSegments, opened, precompressed, options, context.nowMs, (file) => {
        if (file !== null) done(planCachedResponse(options, file, request, method, context));
        else serveFromDisk(options, request, method, context, done, false);
      });
      return;
    }
    serveFile(options, request, method, context, fileSegments, opened, done);
  };
  openServable(root, segments, (opened) => {
    if (opened.kind !== "directory") {
      // A file asked for as a directory ("/a.txt/") does not exist (ENOTDIR).
      if (opened.kind === "file" && directoryForm) {
        closeQuietly(opened.fd);
        done(planError(404, isHead, context), "file requested as a directory");
        return;
      }
      serve(segments, opened);
      return;
    }
    if (!directoryForm) {
      done(planRedirectToDirectory(segments, request.query, isHead, context));
      return;
    }
    const indexSegments = [...segments, INDEX_FILE];
    openServable(root, indexSegments, (index) => {
      if (index.kind === "directory") {
        done(planError(404, isHead, context), "index.html is a directory");
        return;
      }
      serve(indexSegments, index);
    });
  });
}

/** A cached file's answer. A request with no precondition or Range field (most of them) gets
 * the prebuilt 200 at once: RFC 9110 §13.2.2 and §14.2 then have nothing to evaluate. */
function planCachedResponse(
  options: StaticHandlerOptions,
  file: CachedFile,
  request: RequestHead,
  method: "GET" | "HEAD",
  context: HandlerContext,
): ResponsePlan {
  const fields = request.fields;
  const chosen = file.hasVariants
    ? file.representationFor(fieldValue(fields, "accept-encoding"))
    : file.identity;
  if (!hasConditionalOrRange(fields)) return method === "GET" ? chosen.ok : chosen.okHead;
  const input = {
    request,
    method,
    nowMs: context.nowMs,
    dateLine: context.dateLine,
    ...file.file,
  };
  const choice = { representation: chosen.representation, hasVariants: file.hasVariants };
  return planFileResponse(input, choice, options, chosen);
}

/** Whether any field could change a 200 into a 304, 412, 206 or 416: If-Match, If-None-Match,
 * If-Modified-Since, If-Unmodified-Since, If-Range, Range (names are lowercased by the parser). */
function hasConditionalOrRange(fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (name === "range" || name.startsWith("if-")) return true;
  }
  return false;
}

/** Chooses the representation (a precompressed sidecar or the file), then plans the answer. */
function serveFile(
  options: StaticHandlerOptions,
  request: RequestHead,
  method: "GET" | "HEAD",
  context: HandlerContext,
  segments: readonly string[],
  opened: Extract<OpenServableResult, { kind: "file" }>,
  done: PlanCallback,
): void {
  const acceptEncoding = fieldValue(request.fields, "accept-encoding");
  selectVariant(options.root, segments, opened, options.precompressed, acceptEncoding, (choice) => {
    const input = {
      request,
      method,
      nowMs: context.nowMs,
      dateLine: context.dateLine,
      relativePath: segments.join("/"),
      fileName: segments[segments.length - 1] ?? "",
    };
    done(planFileResponse(input, choice, options));
  });
}

function planNotServed(
  opened: Exclude<OpenServableResult, { kind: "directory" | "file" }>,
  isHead: boolean,
  context: HandlerContext,
): [ResponsePlan, string] {
  if (opened.kind === "not-found") return [planError(404, isHead, context), opened.reason];
  // EMFILE/ENFILE: out of descriptors, a temporary condition → 503; anything else is a
  // server fault → 500. The errno goes to the log only.
  const code = opened.error.code ?? "";
  const status = code === "EMFILE" || code === "ENFILE" ? 503 : 500;
  return [planError(status, isHead, context), `open failed: ${code || opened.error.message}`];
}

function planOtherMethod(method: string, context: HandlerContext): ResponsePlan {
  if (method === "OPTIONS") {
    // RFC 9110 §9.3.7: 204 with the methods the target supports (also for "OPTIONS *").
    const head = `${statusLine(204)}${context.dateLine}Allow: ${ALLOWED_METHODS}\r\n`;
    return { kind: "bytes", status: 204, head, body: null };
  }
  const status = KNOWN_UNSUPPORTED_METHODS.has(method) ? 405 : 501;
  return planError(status, false, context, `Allow: ${ALLOWED_METHODS}\r\n`);
}

/** RFC 9110 §15.4.2: a directory is served at its slash form; the query is kept. The Location is
 * rebuilt from the decoded segments, re-encoded, so nothing the peer sent is reflected raw. */
function planRedirectToDirectory(
  segments: readonly string[],
  query: string,
  isHead: boolean,
  context: HandlerContext,
): ResponsePlan {
  // The query holds only visible ASCII (the parser rejects anything else), so no CR/LF.
  const location = `/${segments.map(encodePathSegment).join("/")}/${query}`;
  const body = errorBody(301);
  const head =
    statusLine(301) +
    context.dateLine +
    NOSNIFF_HEADER +
    `Location: ${location}\r\n` +
    "Content-Type: text/html; charset=utf-8\r\n" +
    `Content-Length: ${body.length}\r\n`;
  return { kind: "bytes", status: 301, head, body: isHead ? null : body };
}

export function planError(
  status: number,
  isHead: boolean,
  context: Pick<HandlerContext, "dateLine">,
  extraHeaders = "",
): ResponsePlan {
  return planErrorWithHeaders(status, isHead, context.dateLine, extraHeaders);
}

/** RFC 3986 §3.3: percent-encode everything but pchar's unreserved, sub-delims, ":" and "@". */
export function encodePathSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%(24|26|2B|2C|3A|3B|3D|40)/gi, (match) =>
    decodeURIComponent(match),
  );
}
