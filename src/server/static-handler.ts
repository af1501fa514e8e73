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

/** How long past --cache-validity-ms an entry may still answer while its refresh runs: a disk
 * that stalls the refresh cannot stretch the window further than this. */
export const REFRESH_GRACE_MS = 1000;

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
    // The hot path: a file in memory. The key is the path as sent; each spelling of a path is
    // resolved and checked on its own.
    if (cache !== null) {
      const key = request.path;
      const nowMs = context.nowMs;
      const cached = cache.peek(key, nowMs);
      if (cached !== undefined) {
        const ageMs = nowMs - cached.checkedAtMs;
        // Due for a check against the disk: one refresh runs in the background while requests
        // keep getting the entry, for at most the grace beyond the validity window.
        if (ageMs >= cache.limits.validityMs && cache.beginRefresh(key)) {
          refreshCached(options, key, nowMs);
        }
        if (ageMs < cache.limits.validityMs + REFRESH_GRACE_MS) {
          done(planCachedResponse(options, cached, request, method, context));
          return;
        }
      }
      const joined = cache.joinLoad(key, (loaded) => {
        if (loaded !== null) done(planCachedResponse(options, loaded, request, method, context));
        else serveFromDisk(options, request, method, context, done, false);
      });
      if (joined) return;
    }
    serveFromDisk(options, request, method, context, done, cache !== null);
  };
}

/** What a request path leads to on disk, every policy checked on the opened file. */
type Located =
  /** The caller owns `opened.fd`. */
  | { readonly kind: "file"; readonly segments: readonly string[]; readonly opened: OpenedFile }
  /** A directory named without its trailing slash (RFC 9110 §15.4.2: redirect to it). */
  | { readonly kind: "directory-redirect"; readonly segments: readonly string[] }
  /** Nothing to serve: the status (400, 404, 500, 503) and why, for the log. */
  | { readonly kind: "not-served"; readonly status: number; readonly reason: string };

type OpenedFile = Extract<OpenServableResult, { kind: "file" }>;

/** Resolves a request path and opens what it names: the file, or a directory's index.html. */
function locate(root: ServableRoot, path: string, done: (located: Located) => void): void {
  const resolved = resolveRequestPath(path, root.dotfiles);
  if (resolved.kind === "bad-request") {
    done({ kind: "not-served", status: 400, reason: resolved.reason });
    return;
  }
  if (resolved.kind === "not-found") {
    done({ kind: "not-served", status: 404, reason: resolved.reason });
    return;
  }
  const { segments, directoryForm } = resolved;
  const found = (fileSegments: readonly string[], opened: OpenServableResult): void => {
    if (opened.kind === "file") done({ kind: "file", segments: fileSegments, opened });
    else if (opened.kind === "directory") {
      done({ kind: "not-served", status: 404, reason: "index.html is a directory" });
    } else done(notServed(opened));
  };
  openServable(root, segments, (opened) => {
    if (opened.kind !== "directory") {
      // A file asked for as a directory ("/a.txt/") does not exist (ENOTDIR).
      if (opened.kind === "file" && directoryForm) {
        closeQuietly(opened.fd);
        done({ kind: "not-served", status: 404, reason: "file requested as a directory" });
        return;
      }
      found(segments, opened);
      return;
    }
    if (!directoryForm) {
      done({ kind: "directory-redirect", segments });
      return;
    }
    const indexSegments = [...segments, INDEX_FILE];
    openServable(root, indexSegments, (index) => found(indexSegments, index));
  });
}

/** The full path of a request: locate → choose a representation → plan. With `mayCache`, a
 * small file is read into the cache on the way and answered from there. */
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
  locate(root, request.path, (located) => {
    switch (located.kind) {
      case "not-served":
        done(planError(located.status, isHead, context), located.reason);
        return;
      case "directory-redirect":
        done(planRedirectToDirectory(located.segments, request.query, isHead, context));
        return;
      case "file": {
        const { segments, opened } = located;
        const key = request.path;
        if (mayCache && cache?.wants(key, opened.stats.size)) {
          const { precompressed } = options;
          cache.load(key, root, segments, opened, precompressed, options, context.nowMs, (file) => {
            if (file !== null) done(planCachedResponse(options, file, request, method, context));
            else serveFromDisk(options, request, method, context, done, false);
          });
          return;
        }
        serveFile(options, request, method, context, segments, opened, done);
      }
    }
  });
}

/** Checks a cached path against the disk again, through the same policies as a request, and
 * reloads what changed; anything but a cacheable file drops the entry. */
function refreshCached(options: StaticHandlerOptions, key: string, nowMs: number): void {
  const { root, cache } = options;
  if (cache === null) return;
  locate(root, key, (located) => {
    if (located.kind !== "file") {
      cache.abandon(key);
      return;
    }
    const { segments, opened } = located;
    if (opened.stats.size > cache.limits.maxFileBytes) {
      closeQuietly(opened.fd);
      cache.abandon(key);
      return;
    }
    cache.load(key, root, segments, opened, options.precompressed, options, nowMs, ignoreLoaded);
  });
}

function ignoreLoaded(): void {}

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

function notServed(opened: Extract<OpenServableResult, { kind: "not-found" | "error" }>): Located {
  if (opened.kind === "not-found")
    return { kind: "not-served", status: 404, reason: opened.reason };
  // EMFILE/ENFILE: out of descriptors, a temporary condition → 503; anything else is a
  // server fault → 500. The errno goes to the log only.
  const code = opened.error.code ?? "";
  const status = code === "EMFILE" || code === "ENFILE" ? 503 : 500;
  return { kind: "not-served", status, reason: `open failed: ${code || opened.error.message}` };
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
