import type { Coding } from "../files/accept-encoding.js";
import {
  type OpenServableResult,
  openServable,
  type ServableRoot,
} from "../files/open-servable.js";
import { resolveRequestPath } from "../files/resolve-path.js";
import { selectVariant } from "../files/select-variant.js";
import { type EvaluateCors, evaluateCorsFor } from "../http/cors.js";
import { fieldValue } from "../http/headers.js";
import type { RequestHead } from "../http/request-types.js";
import { type CachedFile, type FileCache, fileIdentityOf, readWholeFile } from "./file-cache.js";
import {
  closeQuietly,
  type FileResponseOptions,
  NOSNIFF_HEADER,
  planErrorWithHeaders,
  planFileResponse,
} from "./plan-file-response.js";
import { planDirectoryListing } from "./plan-listing.js";
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
  /** --listing: a directory without index.html is listed (plan-listing.ts). */
  readonly listing: boolean;
  /** --spa: the file (below the root) answering extensionless paths that match nothing. */
  readonly spaFile: string | null;
  /** --clean-urls: /about serves about.html, /about.html redirects to /about. */
  readonly cleanUrls: boolean;
  /** --cors / --cors-origin (http/cors.ts), or null. */
  readonly cors: EvaluateCors | null;
}

export function createStaticHandler(options: StaticHandlerOptions): RequestHandler {
  const { cache, cors } = options;
  return (request, context, done) => {
    const method = request.method;
    // CORS lines go on every answer, errors included: a script must be able to read them.
    const corsAnswer = cors === null ? null : evaluateCorsFor(cors, method, request.fields);
    const extra = corsAnswer === null ? "" : corsAnswer.headerLines;
    if (method !== "GET" && method !== "HEAD") {
      if (corsAnswer?.kind === "preflight") done(planPreflight(context, extra));
      else done(withHeaders(planOtherMethod(method, context), extra));
      return;
    }
    if (request.form !== "origin" && request.form !== "absolute") {
      done(
        withHeaders(planError(400, method === "HEAD", context), extra),
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
        // Due for a check against the disk: one refresh runs in the background while requests
        // keep getting the entry, for at most the grace beyond the validity window.
        if (!cache.isFresh(cached, nowMs) && cache.beginRefresh(key)) {
          refreshCached(options, key, nowMs);
        }
        // Fresh as of REFRESH_GRACE_MS ago: age < validity + grace.
        if (cache.isFresh(cached, nowMs - REFRESH_GRACE_MS)) {
          done(planCachedResponse(options, cached, request, method, context, extra));
          return;
        }
      }
      const joined = cache.joinLoad(key, (loaded) => {
        if (loaded !== null)
          done(planCachedResponse(options, loaded, request, method, context, extra));
        else serveFromDisk(options, request, method, context, extra, done, false);
      });
      if (joined) return;
    }
    serveFromDisk(options, request, method, context, extra, done, cache !== null);
  };
}

/** What a request path leads to on disk, every policy checked on the opened file. */
type Located =
  /** The caller owns `opened.fd`. */
  | { readonly kind: "file"; readonly segments: readonly string[]; readonly opened: OpenedFile }
  /** A directory named without its trailing slash (RFC 9110 §15.4.2: redirect to it). */
  | { readonly kind: "directory-redirect"; readonly segments: readonly string[] }
  /** A directory asked for in its slash form that has no index.html. */
  | {
      readonly kind: "directory-without-index";
      readonly segments: readonly string[];
      readonly realPath: string;
    }
  /** --clean-urls: a path spelled with ".html" moves to its clean form (a path with "/"s). */
  | { readonly kind: "clean-url-redirect"; readonly location: string }
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
    openServable(root, indexSegments, (index) => {
      if (index.kind === "not-found" && index.reason === "ENOENT") {
        done({ kind: "directory-without-index", segments, realPath: opened.realPath });
      } else found(indexSegments, index);
    });
  });
}

/**
 * locate() plus the site conveniences, in the order a request meets them: a file (or, with
 * --clean-urls, the redirect away from its ".html" spelling); for a path that matches nothing,
 * NAME.html with --clean-urls, then the --spa file. Both fallbacks apply only to paths without
 * an extension (an asset that is missing stays 404) and never below /.well-known/ (RFC 8615).
 */
function route(options: StaticHandlerOptions, path: string, done: (located: Located) => void) {
  const { root, cleanUrls, spaFile } = options;
  locate(root, path, (located) => {
    if (located.kind === "file" && cleanUrls) {
      const location = cleanLocation(located.segments, path);
      if (location !== null) {
        closeQuietly(located.opened.fd);
        done({ kind: "clean-url-redirect", location });
        return;
      }
    }
    const missing =
      (located.kind === "not-served" && located.status === 404) ||
      (located.kind === "directory-without-index" && !options.listing);
    if (!missing || hasExtension(path) || path.startsWith(WELL_KNOWN_PREFIX)) {
      done(located);
      return;
    }
    const trySpa = (): void => {
      if (spaFile === null) {
        done(located);
        return;
      }
      locate(root, `/${spaFile.split("/").map(encodePathSegment).join("/")}`, (spa) => {
        done(spa.kind === "file" ? spa : located);
      });
    };
    if (!cleanUrls || path.endsWith("/")) {
      trySpa();
      return;
    }
    locate(root, `${path}.html`, (html) => {
      if (html.kind === "file") done(html);
      else trySpa();
    });
  });
}

const WELL_KNOWN_PREFIX = "/.well-known/";

/** Whether the last segment of a raw path names an extension ("app.js", "v1.2", "a%2Ejs"). */
function hasExtension(path: string): boolean {
  const last = path.slice(path.lastIndexOf("/") + 1);
  return last.includes(".") || /%2e/i.test(last);
}

/** --clean-urls: where a file requested by its ".html" name moves to ("/docs/about.html" →
 * "/docs/about", "/docs/index.html" → "/docs/"), or null when the request did not spell it. */
function cleanLocation(segments: readonly string[], path: string): string | null {
  const name = segments[segments.length - 1] ?? "";
  // The request named the .html file itself (not a directory whose index it is).
  if (!name.endsWith(".html") || path.endsWith("/")) return null;
  const parent = segments.slice(0, -1).map(encodePathSegment);
  const prefix = parent.length === 0 ? "/" : `/${parent.join("/")}/`;
  if (name === INDEX_FILE) return prefix;
  return prefix + encodePathSegment(name.slice(0, -".html".length));
}

/** The full path of a request: locate → choose a representation → plan. With `mayCache`, a
 * small file is read into the cache on the way and answered from there. */
function serveFromDisk(
  options: StaticHandlerOptions,
  request: RequestHead,
  method: "GET" | "HEAD",
  context: HandlerContext,
  extra: string,
  done: PlanCallback,
  mayCache: boolean,
): void {
  const { root, cache } = options;
  const isHead = method === "HEAD";
  // Answers planned here (not by planFileResponse) get the request's extra lines added.
  const answer: PlanCallback =
    extra === "" ? done : (plan, note) => done(withHeaders(plan, extra), note);
  route(options, request.path, (located) => {
    switch (located.kind) {
      case "not-served":
        if (located.status === 404) serveNotFound(options, isHead, context, located.reason, answer);
        else answer(planError(located.status, isHead, context), located.reason);
        return;
      case "directory-redirect": {
        const location = `/${located.segments.map(encodePathSegment).join("/")}/`;
        answer(planRedirect(location, request.query, isHead, context));
        return;
      }
      case "clean-url-redirect":
        answer(planRedirect(located.location, request.query, isHead, context));
        return;
      case "directory-without-index":
        if (!options.listing) {
          serveNotFound(options, isHead, context, "directory without index.html", answer);
          return;
        }
        planDirectoryListing(
          {
            method,
            segments: located.segments,
            query: request.query,
            accept: fieldValue(request.fields, "accept"),
            dateLine: context.dateLine,
            root,
            directoryRealPath: located.realPath,
          },
          answer,
        );
        return;
      case "file": {
        const { segments, opened } = located;
        const key = request.path;
        if (mayCache && cache?.wants(key, opened.stats.size)) {
          const { precompressed } = options;
          cache.load(key, root, segments, opened, precompressed, options, context.nowMs, (file) => {
            if (file !== null) {
              done(planCachedResponse(options, file, request, method, context, extra));
            } else serveFromDisk(options, request, method, context, extra, done, false);
          });
          return;
        }
        serveFile(options, request, method, context, extra, segments, opened, done);
      }
    }
  });
}

/** Checks a cached path against the disk again, through the same policies as a request, and
 * reloads what changed; anything but a cacheable file drops the entry. */
function refreshCached(options: StaticHandlerOptions, key: string, nowMs: number): void {
  const { root, cache } = options;
  if (cache === null) return;
  route(options, key, (located) => {
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
  extra: string,
): ResponsePlan {
  const fields = request.fields;
  const chosen = file.hasVariants
    ? file.representationFor(fieldValue(fields, "accept-encoding"))
    : file.identity;
  // The prebuilt answers carry the usual extra lines; a request with others (a CORS origin
  // echoed) is planned from the bytes in memory instead.
  const usual = extra === options.usualRequestHeaders;
  if (usual) {
    switch (quickPrecondition(fields, chosen.representation.etag)) {
      case "none":
        return method === "GET" ? chosen.ok : chosen.okHead;
      case "not-modified":
        return chosen.notModified;
      case "evaluate":
        break;
    }
  }
  const input = {
    request,
    method,
    nowMs: context.nowMs,
    dateLine: context.dateLine,
    ...file.file,
    requestHeaders: extra,
  };
  const choice = { representation: chosen.representation, hasVariants: file.hasVariants };
  return planFileResponse(input, choice, options, usual ? chosen : null);
}

/**
 * The two outcomes most requests for a cached file lead to, read off the field names without
 * parsing anything: "none" when no field could change a 200 (no If-*, no Range: RFC 9110 §13.2.2
 * and §14.2 have nothing to evaluate), "not-modified" for a revalidation whose If-None-Match is
 * exactly the current tag with no If-Match or If-Unmodified-Since before it (§13.2.2 step 3: a
 * match → 304 for GET and HEAD, If-Modified-Since and Range then ignored), else "evaluate".
 * Names are lowercased by the parser.
 */
function quickPrecondition(
  fields: readonly string[],
  etag: string | null,
): "none" | "not-modified" | "evaluate" {
  let ifNoneMatch: string | null = null;
  let others = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i] as string;
    if (name === "if-none-match") {
      if (ifNoneMatch !== null) return "evaluate"; // several lines: let the parser combine them
      ifNoneMatch = fields[i + 1] as string;
    } else if (name === "if-match" || name === "if-unmodified-since") return "evaluate";
    else if (name === "range" || name.startsWith("if-")) others = true;
  }
  if (ifNoneMatch === null) return others ? "evaluate" : "none";
  return ifNoneMatch === etag ? "not-modified" : "evaluate";
}

/** Chooses the representation (a precompressed sidecar or the file), then plans the answer. */
function serveFile(
  options: StaticHandlerOptions,
  request: RequestHead,
  method: "GET" | "HEAD",
  context: HandlerContext,
  extra: string,
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
      ...fileIdentityOf(segments),
      requestHeaders: extra,
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

/** A CORS preflight from an allowed origin (Fetch §4.8): 204 with the CORS lines. */
function planPreflight(context: HandlerContext, corsLines: string): ResponsePlan {
  const head = `${statusLine(204)}${context.dateLine}${corsLines}`;
  return { kind: "bytes", status: 204, head, body: null };
}

/** The plan with header lines added (before the Connection line the connection appends). */
function withHeaders(plan: ResponsePlan, lines: string): ResponsePlan {
  if (lines === "" || plan.kind === "prebuilt") return plan;
  return { ...plan, head: plan.head + lines };
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

/** A 301 to `location` (built from decoded segments, re-encoded, so nothing the peer sent is
 * reflected raw), the query kept: RFC 9110 §15.4.2 (a directory is served at its slash form, and
 * --clean-urls moves "x.html" to "x"). */
function planRedirect(
  location: string,
  query: string,
  isHead: boolean,
  context: HandlerContext,
): ResponsePlan {
  // The query holds only visible ASCII (the parser rejects anything else), so no CR/LF.
  const body = errorBody(301);
  const head =
    statusLine(301) +
    context.dateLine +
    NOSNIFF_HEADER +
    `Location: ${location}${query}\r\n` +
    "Content-Type: text/html; charset=utf-8\r\n" +
    `Content-Length: ${body.length}\r\n`;
  return { kind: "bytes", status: 301, head, body: isHead ? null : body };
}

/** The site's own page for a 404 (404.html at the root, served with status 404), if it has one;
 * else berth's. */
function serveNotFound(
  options: StaticHandlerOptions,
  isHead: boolean,
  context: HandlerContext,
  reason: string,
  done: PlanCallback,
): void {
  readNotFoundPage(options, context.nowMs, (page) => {
    if (page === null) {
      done(planError(404, isHead, context), reason);
      return;
    }
    const head =
      statusLine(404) +
      context.dateLine +
      NOSNIFF_HEADER +
      // The page may change with the site; an error is never worth caching for long.
      "Cache-Control: no-cache\r\n" +
      "Content-Type: text/html; charset=utf-8\r\n" +
      `Content-Length: ${page.length}\r\n`;
    done({ kind: "bytes", status: 404, head, body: isHead ? null : page }, reason);
  });
}

/** 404.html at the root, when it is a servable file (all policies apply) of at most
 * MAX_NOT_FOUND_PAGE_BYTES; held in the file cache like any file when there is one. */
function readNotFoundPage(
  options: StaticHandlerOptions,
  nowMs: number,
  done: (page: Buffer | null) => void,
): void {
  const { cache, root } = options;
  if (cache !== null) {
    const cached = cache.peek(NOT_FOUND_PAGE_KEY, nowMs);
    if (cached !== undefined && cache.isFresh(cached, nowMs)) {
      done(cached.identity.representation.content);
      return;
    }
  }
  locate(root, NOT_FOUND_PAGE_PATH, (located) => {
    if (located.kind !== "file") {
      done(null);
      return;
    }
    const { opened, segments } = located;
    if (opened.stats.size > MAX_NOT_FOUND_PAGE_BYTES) {
      closeQuietly(opened.fd);
      done(null);
      return;
    }
    if (cache?.wants(NOT_FOUND_PAGE_KEY, opened.stats.size)) {
      cache.load(NOT_FOUND_PAGE_KEY, root, segments, opened, [], options, nowMs, (file) => {
        done(file === null ? null : file.identity.representation.content);
      });
      return;
    }
    readWholeFile(opened.fd, opened.stats, null, (content) => {
      closeQuietly(opened.fd);
      done(content);
    });
  });
}

const NOT_FOUND_PAGE_PATH = "/404.html";
/** Its key in the file cache: no request path can equal it (they all start with "/"). */
const NOT_FOUND_PAGE_KEY = "\0not-found-page";
/** A larger 404.html is not used (berth's own page is sent): an error page is small. */
export const MAX_NOT_FOUND_PAGE_BYTES = 1024 * 1024;

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
