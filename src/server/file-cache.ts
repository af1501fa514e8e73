/**
 * The in-memory cache of small files: what lets berth answer a request for a hot file without a
 * single system call besides the socket write.
 *
 * An entry holds a file's content, the content of each usable precompressed sidecar, and their
 * prebuilt answers (200, HEAD, 304). It is trusted for `validityMs` after it was checked against
 * the disk; the first request after that starts one refresh through the ordinary path (open,
 * fstat, real path, symlink and dotfile policy, sidecar probes), which re-reads only what changed,
 * while requests keep getting the entry (for at most a grace period: a stalled disk cannot
 * stretch the window). So a change on disk is served after at most `validityMs` plus the time
 * one refresh takes, and never with a wrong Content-Length: the length is that of the bytes held,
 * which were read whole and checked against an fstat taken after the read.
 *
 * Only successful file answers are cached; 404s, redirects and errors always take the full path.
 */
import { close, fstat, read, type Stats } from "node:fs";
import { formatStrongEtag } from "../conditional/etag.js";
import { type Coding, negotiateCoding, SIDECAR_EXTENSION } from "../files/accept-encoding.js";
import { LruByBytes, type Weighed } from "../files/lru-by-bytes.js";
import { openServable, type ServableRoot } from "../files/open-servable.js";
import { isUsableSidecar, type Representation } from "../files/select-variant.js";
import type { RequestHead } from "../http/request-types.js";
import { type FileResponseOptions, planFileResponse } from "./plan-file-response.js";
import { INLINE_BODY_MAX_BYTES, PrebuiltResponse } from "./prebuilt-response.js";

/** Default for --cache-bytes: memory the cache may hold, contents and prebuilt answers. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** Default for --cache-file-bytes: larger files are streamed from disk on every request. */
export const DEFAULT_CACHE_FILE_BYTES = 1024 * 1024;
/** Default for --cache-validity-ms: how long an entry is trusted without looking at the disk. */
export const DEFAULT_CACHE_VALIDITY_MS = 1000;

/** Accept-Encoding values remembered per file with the representation they chose. Browsers send
 * a handful of distinct values; a client varying it per request only costs a negotiation. */
const MAX_REMEMBERED_ACCEPT_ENCODINGS = 8;

/** How finely the LRU order tracks use of a hot entry. */
const RECENCY_STEP_MS = 100;

/** Bytes charged for a prebuilt head (status line, Date, validators, type, length...). */
const HEAD_CHARGE_BYTES = 512;

export interface FileCacheLimits {
  /** Total bytes held; 0 turns the cache off. */
  readonly maxBytes: number;
  /** Largest file (or sidecar) cached. */
  readonly maxFileBytes: number;
  readonly validityMs: number;
}

/** One representation in memory, with its prebuilt answers. */
export class CachedRepresentation {
  readonly representation: Representation;
  readonly ok: PrebuiltResponse;
  readonly okHead: PrebuiltResponse;
  readonly notModified: PrebuiltResponse;

  constructor(
    content: Buffer,
    stats: Stats,
    coding: Coding | null,
    hasVariants: boolean,
    file: FileIdentity,
    options: FileResponseOptions,
  ) {
    const etag = formatStrongEtag(stats);
    const representation: Representation = { fd: -1, content, stats, etag, coding };
    this.representation = representation;
    const choice = { representation, hasVariants };
    const plan = (method: "GET" | "HEAD", fields: readonly string[]) => {
      const request = syntheticRequest(method, fields);
      const requestHeaders = options.usualRequestHeaders;
      return (nowMs: number, dateLine: string) =>
        planFileResponse(
          { ...file, request, method, nowMs, dateLine, requestHeaders },
          choice,
          options,
        );
    };
    this.ok = new PrebuiltResponse(200, content.length, plan("GET", []));
    this.okHead = new PrebuiltResponse(200, 0, plan("HEAD", []));
    // An If-None-Match naming this representation's own tag is what makes a 304.
    const etagField = ["if-none-match", "*"];
    this.notModified = new PrebuiltResponse(304, 0, plan("GET", etagField));
  }

  /** What the cache charges for this representation: its content and its prebuilt answers
   * (three connection variants each; GET inlines a small body). */
  static chargeFor(content: Buffer): number {
    const inlined = content.length <= INLINE_BODY_MAX_BYTES ? content.length : 0;
    return content.length + 3 * (3 * HEAD_CHARGE_BYTES + inlined);
  }
}

/** Where the file lies below the root, for Cache-Control rules and its Content-Type. */
export interface FileIdentity {
  readonly relativePath: string;
  readonly fileName: string;
}

/** The file at these segments below the root ("docs/a.html", "a.html"). */
export function fileIdentityOf(segments: readonly string[]): FileIdentity {
  return { relativePath: segments.join("/"), fileName: segments[segments.length - 1] ?? "" };
}

export class CachedFile implements Weighed {
  readonly bytes: number;
  /** When the LRU last saw it used (see FileCache.fresh). */
  usedAtMs: number;
  private readonly chosen = new Map<string, CachedRepresentation>();

  constructor(
    readonly checkedAtMs: number,
    readonly identity: CachedRepresentation,
    /** Usable sidecars, in server preference order. */
    readonly variants: readonly CachedRepresentation[],
    readonly file: FileIdentity,
  ) {
    this.usedAtMs = checkedAtMs;
    let bytes = 0;
    for (const each of [identity, ...variants]) {
      bytes += CachedRepresentation.chargeFor(each.representation.content as Buffer);
    }
    this.bytes = bytes;
  }

  get hasVariants(): boolean {
    return this.variants.length > 0;
  }

  /** The representation to send for this Accept-Encoding value (RFC 9110 §12.5.3). */
  representationFor(acceptEncoding: string | null): CachedRepresentation {
    if (this.variants.length === 0 || acceptEncoding === null) return this.identity;
    const remembered = this.chosen.get(acceptEncoding);
    if (remembered !== undefined) return remembered;
    const coding = negotiateCoding(
      acceptEncoding,
      this.variants.map((variant) => variant.representation.coding as Coding),
    );
    const chosen =
      this.variants.find((variant) => variant.representation.coding === coding) ?? this.identity;
    if (this.chosen.size < MAX_REMEMBERED_ACCEPT_ENCODINGS) this.chosen.set(acceptEncoding, chosen);
    return chosen;
  }
}

type LoadWaiter = (file: CachedFile | null) => void;

export class FileCache {
  private readonly entries: LruByBytes<CachedFile>;
  /** Keys being loaded, with the requests waiting for the outcome. */
  private readonly loading = new Map<string, LoadWaiter[]>();

  constructor(readonly limits: FileCacheLimits) {
    this.entries = new LruByBytes(limits.maxBytes);
  }

  /** The entry for a request path, however old (see CachedFile.checkedAtMs). */
  peek(key: string, nowMs: number): CachedFile | undefined {
    const entry = this.entries.peek(key);
    // Recency to the nearest RECENCY_STEP_MS: moving a hot key to the end of the LRU order on
    // every hit would cost a Map delete and insert per request for no better eviction.
    if (entry !== undefined && nowMs - entry.usedAtMs >= RECENCY_STEP_MS) {
      entry.usedAtMs = nowMs;
      this.entries.get(key);
    }
    return entry;
  }

  /** Whether the entry was checked against the disk within the validity window. */
  isFresh(entry: CachedFile, nowMs: number): boolean {
    return nowMs - entry.checkedAtMs < this.limits.validityMs;
  }

  /** Marks `key` as being refreshed, unless it already is (then false): one refresh at a time,
   * which ends in load() or abandon(). */
  beginRefresh(key: string): boolean {
    if (this.loading.has(key)) return false;
    this.loading.set(key, []);
    return true;
  }

  /** The path no longer leads to a cacheable file: the entry goes, and requests waiting for
   * the refresh take the disk path. */
  abandon(key: string): void {
    this.finishLoad(key, null);
  }

  /** Whether a file of this size is worth loading (and one is not already loading for key). */
  wants(key: string, sizeBytes: number): boolean {
    return (
      this.limits.maxBytes > 0 && sizeBytes <= this.limits.maxFileBytes && !this.loading.has(key)
    );
  }

  /** When `key` is being loaded or refreshed, queues `waiter` for the outcome and returns
   * true. */
  joinLoad(key: string, waiter: LoadWaiter): boolean {
    const waiters = this.loading.get(key);
    if (waiters === undefined) return false;
    waiters.push(waiter);
    return true;
  }

  /**
   * Reads the opened file (and its sidecars) into memory and stores the entry under `key`.
   * Owns `opened.fd`: it is closed before `done` runs. `done(null)` means the file could not be
   * cached (it changed while being read, a read failed): the caller serves it the ordinary way.
   */
  load(
    key: string,
    root: ServableRoot,
    segments: readonly string[],
    opened: { readonly fd: number; readonly stats: Stats },
    codings: readonly Coding[],
    options: FileResponseOptions,
    nowMs: number,
    done: LoadWaiter,
  ): void {
    const waiters = this.loading.get(key) ?? [];
    waiters.push(done);
    this.loading.set(key, waiters);
    const previous = this.entries.peek(key);
    const finish = (file: CachedFile | null): void => this.finishLoad(key, file);
    const reuse = (stats: Stats, coding: Coding | null): Buffer | null => {
      if (previous === undefined) return null;
      for (const each of [previous.identity, ...previous.variants]) {
        const held = each.representation;
        if (held.coding === coding && sameFileVersion(held.stats, stats)) return held.content;
      }
      return null;
    };
    readWholeFile(opened.fd, opened.stats, reuse(opened.stats, null), (content) => {
      close(opened.fd, ignoreError);
      if (content === null) {
        finish(null);
        return;
      }
      const directory = segments.slice(0, -1);
      const file = fileIdentityOf(segments);
      const sidecars: { content: Buffer; stats: Stats; coding: Coding }[] = [];
      const probe = (index: number): void => {
        const coding = codings[index];
        if (coding === undefined) {
          const hasVariants = sidecars.length > 0;
          const make = (body: Buffer, stats: Stats, c: Coding | null) =>
            new CachedRepresentation(body, stats, c, hasVariants, file, options);
          finish(
            new CachedFile(
              nowMs,
              make(content, opened.stats, null),
              sidecars.map((each) => make(each.content, each.stats, each.coding)),
              file,
            ),
          );
          return;
        }
        openServable(root, [...directory, file.fileName + SIDECAR_EXTENSION[coding]], (sidecar) => {
          if (sidecar.kind !== "file") {
            probe(index + 1);
            return;
          }
          if (!isUsableSidecar(sidecar.stats, opened.stats)) {
            close(sidecar.fd, ignoreError);
            probe(index + 1);
            return;
          }
          readWholeFile(sidecar.fd, sidecar.stats, reuse(sidecar.stats, coding), (bytes) => {
            close(sidecar.fd, ignoreError);
            // A sidecar that cannot be read whole is left out, as one that does not exist.
            if (bytes !== null) sidecars.push({ content: bytes, stats: sidecar.stats, coding });
            probe(index + 1);
          });
        });
      };
      probe(0);
    });
  }

  private finishLoad(key: string, file: CachedFile | null): void {
    const waiters = this.loading.get(key) ?? [];
    this.loading.delete(key);
    if (file === null) this.entries.delete(key);
    else this.entries.set(key, file);
    for (const waiter of waiters) waiter(file);
  }
}

/** The cache for these limits (defaults for any not given), or null when maxBytes is 0. */
export function createFileCache(limits: Partial<FileCacheLimits> = {}): FileCache | null {
  const maxBytes = limits.maxBytes ?? DEFAULT_CACHE_BYTES;
  if (maxBytes === 0) return null;
  return new FileCache({
    maxBytes,
    maxFileBytes: limits.maxFileBytes ?? DEFAULT_CACHE_FILE_BYTES,
    validityMs: limits.validityMs ?? DEFAULT_CACHE_VALIDITY_MS,
  });
}

/** The same file, unchanged: same inode, size and times (ctime moves on any write, even one
 * that restores mtime). */
function sameFileVersion(a: Stats, b: Stats): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs
  );
}

/**
 * The whole content of the open file as `stats` describes it, or null when the file changed
 * while it was read (a short read, or an fstat after the read that differs): caching a torn read
 * would serve a mix of two versions for the whole validity window. `known` is content already
 * held for this very version.
 */
export function readWholeFile(
  fd: number,
  stats: Stats,
  known: Buffer | null,
  done: (content: Buffer | null) => void,
): void {
  if (known !== null) {
    done(known);
    return;
  }
  // Not from the shared pool: the buffer lives as long as the entry, and a pooled slice would
  // keep its whole 8 KiB slab alive with it.
  const content = Buffer.allocUnsafeSlow(stats.size);
  const step = (offset: number): void => {
    if (offset === content.length) {
      fstat(fd, (error, after) => {
        done(error === null && sameFileVersion(stats, after) ? content : null);
      });
      return;
    }
    read(fd, content, offset, content.length - offset, offset, (error, bytesRead) => {
      if (error !== null || bytesRead === 0) done(null);
      else step(offset + bytesRead);
    });
  };
  step(0);
}

/** A request as the prebuilt answers see it: only the method and fields matter to the planner. */
function syntheticRequest(method: "GET" | "HEAD", fields: readonly string[]): RequestHead {
  return {
    method,
    target: "/",
    form: "origin",
    path: "/",
    query: "",
    httpMinor: 1,
    versionText: "HTTP/1.1",
    host: "",
    fields,
    keepAlive: true,
    expectContinue: false,
    body: { kind: "none" },
    headBytes: 0,
  };
}

function ignoreError(): void {}
