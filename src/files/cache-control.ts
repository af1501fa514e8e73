/**
 * The Cache-Control value for a served file. Pure: the policy is compiled once at start-up into a
 * function of (relative path, content type) that returns one of three precomputed strings.
 *
 * The three answers, first match wins:
 * 1. The path matches an immutable glob → "public, max-age=31536000, immutable". The user marked
 *    these files as fingerprinted (a new version gets a new name), so they never need
 *    revalidating (RFC 8246). This wins over rule 2 even for HTML: the user asked for it
 *    explicitly, and a fingerprinted HTML file is as immutable as any other.
 * 2. The content type is text/html → "no-cache": store, but revalidate every time (RFC 9111
 *    §5.2.2.4). HTML names the other assets, so a stale page keeps stale asset names alive; the
 *    revalidation is a cheap 304 thanks to the ETag and Last-Modified we send.
 * 3. Anything else → "public, max-age=<maxAgeSeconds>": fresh for a short while, then revalidated
 *    (RFC 9111 §5.2.2.1).
 */
import picomatch from "picomatch";

/** Cache-Control policy (RFC 9111 §5.2.2). */
export interface CachePolicy {
  /** max-age in seconds for files that are neither HTML nor immutable. */
  readonly maxAgeSeconds: number;
  /** Globs (picomatch syntax, matched against the path relative to the served root,
   * "/"-separated, no leading slash, e.g. "assets/**" or
   * "**\/*.[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].js") marking
   * fingerprinted assets. */
  readonly immutableGlobs: readonly string[];
}

/** A minute: long enough to absorb a burst of page loads, short enough that a redeploy shows up
 * without anyone clearing a cache. */
export const DEFAULT_MAX_AGE_SECONDS = 60;

/** One year: RFC 9111 §5.2.2.1 advises max-age no longer than a year. */
export const IMMUTABLE_MAX_AGE_SECONDS = 31_536_000;

const IMMUTABLE_VALUE = `public, max-age=${IMMUTABLE_MAX_AGE_SECONDS}, immutable`;
const HTML_VALUE = "no-cache";

/** RFC 9110 §8.3.1: media types are case-insensitive; parameters (charset) may follow. */
const HTML_CONTENT_TYPE = /^text\/html(?:[\t ;]|$)/i;

/** Shared with path-rules.ts, so every glob berth takes behaves the same. */
export const GLOB_OPTIONS: picomatch.PicomatchOptions = {
  // Dotfiles under a fingerprinted folder ("assets/.vite/x.js") are as immutable as the rest.
  dot: true,
  // Paths are always "/"-separated, whatever the platform we run on.
  windows: false,
  // An unbalanced bracket is a typo, not a literal: refuse it instead of never matching.
  strictBrackets: true,
  // Throw on a glob that makes an invalid regular expression, instead of silently matching
  // nothing (a trailing "\" does that).
  debug: true,
};

/**
 * Compiles the policy once (globs compiled at start-up, not per request); invalid globs throw a
 * one-line Error naming the glob.
 *
 * `relativePath` is the served file's path below the root, "/"-separated, without a leading "/"
 * ("assets/app.1234abcd.js"); `contentType` is the Content-Type we send for it.
 */
export function createCacheControl(
  policy: CachePolicy,
): (relativePath: string, contentType: string) => string {
  const { maxAgeSeconds } = policy;
  // RFC 9111 §1.2.2: delta-seconds is a non-negative integer.
  if (!Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new Error(
      `Invalid max-age ${maxAgeSeconds}: expected a whole number of seconds, 0 or more`,
    );
  }
  const immutablePaths = policy.immutableGlobs.map(compileGlob);
  const defaultValue = `public, max-age=${maxAgeSeconds}`;
  return (relativePath, contentType) => {
    for (const pattern of immutablePaths) {
      if (pattern.test(relativePath)) return IMMUTABLE_VALUE;
    }
    return HTML_CONTENT_TYPE.test(contentType) ? HTML_VALUE : defaultValue;
  };
}

function compileGlob(glob: string): RegExp {
  // Paths are relative to the root, so a leading "/" could never match; say so now rather
  // than serve those files with the default policy forever.
  if (glob.startsWith("/")) {
    throw new Error(
      `Invalid immutable glob "${glob}": globs are relative to the served root, drop the leading "/"`,
    );
  }
  try {
    return picomatch.makeRe(glob, GLOB_OPTIONS);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Invalid immutable glob "${glob}": ${reason}`);
  }
}
