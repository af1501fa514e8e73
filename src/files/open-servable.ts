/**
 * The only place in berth that opens a file to serve. Everything that decides whether a file may be
 * served is decided here, on the file descriptor actually opened, never on a path checked earlier:
 * a path can be swapped for a symlink between a check and an open (TOCTOU), an fd cannot.
 *
 * Steps: open (O_NONBLOCK) → fstat (regular file or directory only) → real path of the fd →
 * symlink policy → dotfile policy on the real path → answer. Callback-based: this runs once or
 * twice per request and a promise chain would cost allocations and ticks for nothing.
 */

import type { Stats } from "node:fs";
import * as fs from "node:fs";
import * as nodePath from "node:path";
import { type DotfilePolicy, hasDeniedDotfile } from "./resolve-path.js";

/**
 * - "contain": serve only what really lies inside the root, whatever symlinks led there.
 * - "follow": serve whatever a symlink inside the root points to (the site owner vouches for them).
 * - "deny": serve nothing reached through a symlink, even one pointing inside the root.
 */
export type SymlinkPolicy = "contain" | "follow" | "deny";

export interface ServableRoot {
  /** realpath of the served directory, no trailing slash unless "/". */
  readonly realRoot: string;
  readonly dotfiles: DotfilePolicy;
  readonly symlinks: SymlinkPolicy;
  /** Real paths never served, wherever they lie: berth's own config file, TLS key and access
   * log, which may well sit in the directory being served. */
  readonly hidden: readonly string[];
}

/** errno codes that mean "nothing to serve here": answered 404 so a client cannot tell a missing
 * name from an unreadable one, a symlink loop or a socket, and so cannot map the tree. */
export type NotFoundErrno =
  | "ENOENT"
  | "ENOTDIR"
  | "ENAMETOOLONG"
  | "ELOOP"
  | "EACCES"
  | "EPERM"
  // open(2) of a unix domain socket, or of a device file whose driver is absent.
  | "ENXIO"
  | "ENODEV";

/** Why a path is not served; for logs only, never for the response. */
export type NotServableReason =
  | NotFoundErrno
  /** A FIFO, socket or device: nothing a static file server should ever stream. */
  | "NOT_FILE_OR_DIRECTORY"
  /** symlinks "contain": the real path lies outside the root. */
  | "OUTSIDE_ROOT"
  /** symlinks "deny": some component of the path was a symlink. */
  | "SYMLINK"
  /** dotfiles "deny": the path, or the real path below the root, holds a dotfile. */
  | "DOTFILE"
  /** Without /proc/self/fd: the file at the real path is not the one we opened (it was swapped). */
  | "REPLACED_WHILE_OPENING"
  /** One of berth's own files (ServableRoot.hidden). */
  | "HIDDEN";

export type OpenServableResult =
  /** The caller owns `fd` and must close it. */
  | { readonly kind: "file"; readonly fd: number; readonly stats: Stats; readonly realPath: string }
  /** The fd is already closed. The caller opens segments + "index.html" through openServable, or
   * redirects a path that was not in directory form. */
  | { readonly kind: "directory"; readonly stats: Stats; readonly realPath: string }
  /** Any fd is already closed. */
  | { readonly kind: "not-found"; readonly reason: NotServableReason }
  /** Unexpected (EMFILE, ENFILE, EIO...): answer 500 (or 503 for EMFILE/ENFILE). fd closed. */
  | { readonly kind: "error"; readonly error: NodeJS.ErrnoException };

type NotFound = Extract<OpenServableResult, { kind: "not-found" }>;

// O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, stalling a libuv threadpool
// thread for good (four such requests stall all fs work). POSIX open(2): it has no effect on
// regular files, and anything else is refused after fstat anyway.
// O_NOCTTY: opening a terminal device must never make it our controlling terminal.
// O_CLOEXEC is added by libuv on every open.
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (fs.constants.O_NOCTTY ?? 0);

const NOT_FOUND_ERRNO: ReadonlySet<string> = new Set<NotFoundErrno>([
  "ENOENT",
  "ENOTDIR",
  "ENAMETOOLONG",
  "ELOOP",
  "EACCES",
  "EPERM",
  "ENXIO",
  "ENODEV",
]);

const PROC_SELF_FD = "/proc/self/fd/";

/** Carried as an errno-like code from readRealPathOfFd to resultForErrno. */
const REPLACED = "REPLACED_WHILE_OPENING";

/** Set by createServableRoot when readlink("/proc/self/fd/N") gives the path of fd N (Linux):
 * then the real path comes from the fd itself. Otherwise realpath(3) of the path is used, and
 * checked against the fd's device and inode. A process-wide fact, hence module state. */
let procFdLinksGiveRealPaths = false;

const CLI_REASON_FOR_ERRNO: Readonly<Record<string, string>> = {
  ENOENT: "no such directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "name too long",
};

/**
 * Resolves the served directory once at start-up. Rejects with an Error whose message is one line
 * for the CLI (`Cannot serve /x: no such directory`, `... not a directory`,
 * `... permission denied`) when it is missing, not a directory, or unreadable.
 */
export async function createServableRoot(
  dir: string,
  options: { dotfiles: DotfilePolicy; symlinks: SymlinkPolicy; hidden?: readonly string[] },
): Promise<ServableRoot> {
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(dir);
    const stats = await fs.promises.stat(realRoot);
    if (!stats.isDirectory()) {
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    }
    // R_OK to list and find index files, X_OK to reach anything below it.
    await fs.promises.access(realRoot, fs.constants.R_OK | fs.constants.X_OK);
  } catch (error) {
    throw new Error(`Cannot serve ${dir}: ${describeForCli(error)}`, { cause: error });
  }
  if (!procFdLinksGiveRealPaths) {
    procFdLinksGiveRealPaths = await isProcFdLinkOf(realRoot);
  }
  const hidden = await Promise.all((options.hidden ?? []).map(realPathOfMaybeMissing));
  return Object.freeze({
    realRoot,
    dotfiles: options.dotfiles,
    symlinks: options.symlinks,
    hidden: Object.freeze(hidden),
  });
}

/** The real path `path` has, or will have once created (a log file berth has yet to write). */
async function realPathOfMaybeMissing(path: string): Promise<string> {
  try {
    return await fs.promises.realpath(path);
  } catch {
    const absolute = nodePath.resolve(path);
    try {
      return nodePath.join(
        await fs.promises.realpath(nodePath.dirname(absolute)),
        nodePath.basename(absolute),
      );
    } catch {
      return absolute;
    }
  }
}

/**
 * Opens what `segments` name below `root`, if the policies allow serving it. `segments` must come
 * from resolveRequestPath (decoded, dot segments removed): an empty, ".", ".." segment or one
 * holding "/" or NUL is our bug and throws. The callback is always called asynchronously, once.
 */
export function openServable(
  root: ServableRoot,
  segments: readonly string[],
  callback: (result: OpenServableResult) => void,
): void {
  assertSegmentsAreNames(segments);
  // Checked here too, so a caller that builds segments itself cannot open "/.git/config".
  if (root.dotfiles === "deny" && hasDeniedDotfile(segments)) {
    process.nextTick(callback, notFound("DOTFILE"));
    return;
  }
  const lexicalPath = joinBelowRoot(root.realRoot, segments);
  fs.open(lexicalPath, OPEN_FLAGS, (openError, fd) => {
    if (openError !== null) {
      callback(resultForErrno(openError));
      return;
    }
    inspectOpenedFd(root, lexicalPath, fd, callback);
  });
}

function inspectOpenedFd(
  root: ServableRoot,
  lexicalPath: string,
  fd: number,
  callback: (result: OpenServableResult) => void,
): void {
  fs.fstat(fd, (statError, stats) => {
    if (statError !== null) {
      closeThenAnswer(fd, resultForErrno(statError), callback);
      return;
    }
    if (!stats.isFile() && !stats.isDirectory()) {
      closeThenAnswer(fd, notFound("NOT_FILE_OR_DIRECTORY"), callback);
      return;
    }
    readRealPathOfFd(fd, lexicalPath, stats, (realPathError, realPath) => {
      if (realPathError !== null) {
        closeThenAnswer(fd, resultForErrno(realPathError), callback);
        return;
      }
      const refusal = evaluateRealPath(root, lexicalPath, realPath);
      if (refusal !== undefined) {
        closeThenAnswer(fd, notFound(refusal), callback);
      } else if (stats.isDirectory()) {
        closeThenAnswer(fd, { kind: "directory", stats, realPath }, callback);
      } else {
        callback({ kind: "file", fd, stats, realPath });
      }
    });
  });
}

/** The path the kernel reached for `fd`. A "(deleted)" suffix (file unlinked after open) makes
 * it differ from the lexical path, which only ever refuses more. */
function readRealPathOfFd(
  fd: number,
  lexicalPath: string,
  openedStats: Stats,
  callback: (error: NodeJS.ErrnoException | null, realPath: string) => void,
): void {
  if (procFdLinksGiveRealPaths) {
    fs.readlink(PROC_SELF_FD + fd, callback);
    return;
  }
  fs.realpath.native(lexicalPath, (realpathError, realPath) => {
    if (realpathError !== null) {
      callback(realpathError, "");
      return;
    }
    // realpath(3) walks the path again; make sure it reached the file we hold open.
    fs.stat(realPath, (statError, stats) => {
      if (statError !== null) {
        callback(statError, "");
      } else if (stats.dev !== openedStats.dev || stats.ino !== openedStats.ino) {
        callback(Object.assign(new Error("replaced while opening"), { code: REPLACED }), "");
      } else {
        callback(null, realPath);
      }
    });
  });
}

/** Applies the symlink and dotfile policies to what was really opened; undefined = servable. */
function evaluateRealPath(
  root: ServableRoot,
  lexicalPath: string,
  realPath: string,
): NotServableReason | undefined {
  // By real path, so no symlink or alternate spelling reaches them.
  if (isHiddenRealPath(root, realPath)) return "HIDDEN";
  const relative = pathRelativeToRoot(root.realRoot, realPath);
  switch (root.symlinks) {
    case "contain":
      if (relative === undefined) return "OUTSIDE_ROOT";
      break;
    case "deny":
      if (realPath !== lexicalPath) return "SYMLINK";
      break;
    case "follow":
      break;
  }
  // A symlink "notes" → ".env" inside the root must not expose the dotfile. Outside the root
  // (only reachable under "follow") names are the owner's business, not ours.
  if (root.dotfiles === "deny" && relative !== undefined && relative !== "") {
    if (hasDeniedDotfile(relative.split("/"))) return "DOTFILE";
  }
  return undefined;
}

/** Whether `realPath` is one of berth's own files (a listing must leave it out too). */
export function isHiddenRealPath(root: ServableRoot, realPath: string): boolean {
  return root.hidden.length > 0 && root.hidden.includes(realPath);
}

/** `realPath` below `realRoot` as "a/b" ("" for the root itself), or undefined when outside. */
function pathRelativeToRoot(realRoot: string, realPath: string): string | undefined {
  if (realPath === realRoot) return "";
  // "/srv/site" must not contain "/srv/site-private": compare with the separator included.
  const prefix = realRoot === "/" ? "/" : `${realRoot}/`;
  return realPath.startsWith(prefix) ? realPath.slice(prefix.length) : undefined;
}

function joinBelowRoot(realRoot: string, segments: readonly string[]): string {
  if (segments.length === 0) return realRoot;
  return realRoot === "/" ? `/${segments.join("/")}` : `${realRoot}/${segments.join("/")}`;
}

function assertSegmentsAreNames(segments: readonly string[]): void {
  for (const segment of segments) {
    if (
      segment === "" ||
      segment === "." ||
      segment === ".." ||
      segment.includes("/") ||
      segment.includes("\0")
    ) {
      throw new Error(
        `openServable: segment ${JSON.stringify(segment)} is not a file name; segments must come from resolveRequestPath`,
      );
    }
  }
}

function resultForErrno(error: NodeJS.ErrnoException): OpenServableResult {
  if (error.code === REPLACED) return notFound(REPLACED);
  if (error.code !== undefined && NOT_FOUND_ERRNO.has(error.code)) {
    return notFound(error.code as NotFoundErrno);
  }
  return { kind: "error", error };
}

function notFound(reason: NotServableReason): NotFound {
  return { kind: "not-found", reason };
}

/** Closes `fd`, then answers. The close error is ignored: close(2) releases the descriptor even
 * when it reports an error, so there is nothing to retry and nothing leaked. */
function closeThenAnswer(
  fd: number,
  result: OpenServableResult,
  callback: (result: OpenServableResult) => void,
): void {
  fs.close(fd, () => callback(result));
}

async function isProcFdLinkOf(realRoot: string): Promise<boolean> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(realRoot, fs.constants.O_RDONLY);
    return (await fs.promises.readlink(PROC_SELF_FD + handle.fd)) === realRoot;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

function describeForCli(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && code in CLI_REASON_FOR_ERRNO) {
    return CLI_REASON_FOR_ERRNO[code] as string;
  }
  return code ?? (error instanceof Error ? error.message : String(error));
}
