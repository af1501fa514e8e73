import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type DotfilePolicy,
  type ResolvedPath,
  resolveRequestPath,
} from "../../src/files/resolve-path.js";

type BadRequestReason = Extract<ResolvedPath, { kind: "bad-request" }>["reason"];
type NotFoundReason = Extract<ResolvedPath, { kind: "not-found" }>["reason"];

const ok = (segments: readonly string[], directoryForm: boolean): ResolvedPath => ({
  kind: "ok",
  segments,
  directoryForm,
});
const bad = (reason: BadRequestReason): ResolvedPath => ({ kind: "bad-request", reason });
const nf = (reason: NotFoundReason): ResolvedPath => ({ kind: "not-found", reason });

const a255 = "a".repeat(255);
const a256 = "a".repeat(256);
// "é" is 2 bytes in UTF-8: 127 of them and one "b" make 255 bytes, 128 of them 256.
const e127b = `${"%C3%A9".repeat(127)}b`;
const e128 = "%C3%A9".repeat(128);

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string, DotfilePolicy, ResolvedPath]> = [
  // plain paths (the fast path)
  ["/", "deny", ok([], true)],
  ["/index.html", "deny", ok(["index.html"], false)],
  ["/a", "deny", ok(["a"], false)],
  ["/a/b/c.txt", "deny", ok(["a", "b", "c.txt"], false)],
  ["/a/b/", "deny", ok(["a", "b"], true)],
  ["/a..b/c", "deny", ok(["a..b", "c"], false)],
  ["/a+b", "deny", ok(["a+b"], false)],
  ["/~user/x", "deny", ok(["~user", "x"], false)],
  // empty segments collapse
  ["//", "deny", ok([], true)],
  ["//a//b", "deny", ok(["a", "b"], false)],
  ["/a//", "deny", ok(["a"], true)],
  ["///a///b///", "deny", ok(["a", "b"], true)],
  // dot segments, RFC 3986 §5.2.4
  ["/.", "deny", ok([], true)],
  ["/./a", "deny", ok(["a"], false)],
  ["/a/.", "deny", ok(["a"], true)],
  ["/a/..", "deny", ok([], true)],
  ["/a/../b", "deny", ok(["b"], false)],
  ["/a/b/../../c", "deny", ok(["c"], false)],
  ["/a/./b/./", "deny", ok(["a", "b"], true)],
  ["/a/b/..", "deny", ok(["a"], true)],
  ["/a/b/../", "deny", ok(["a"], true)],
  // encoded dot segments are dot segments (RFC 3986 §6.2.2.2)
  ["/a/%2e%2e/b", "deny", ok(["b"], false)],
  ["/a/%2E%2E/b", "deny", ok(["b"], false)],
  ["/a/.%2e/b", "deny", ok(["b"], false)],
  ["/a/%2e./b", "deny", ok(["b"], false)],
  ["/a/%2e", "deny", ok(["a"], true)],
  ["/a/b/%2e%2e", "deny", ok(["a"], true)],
  ["/a/%252e%252e/b", "allow", ok(["a", "%2e%2e", "b"], false)],
  // escaping the root is refused, never clamped to the root
  ["/..", "deny", nf("ESCAPES_ROOT")],
  ["/../", "deny", nf("ESCAPES_ROOT")],
  ["/../etc/passwd", "deny", nf("ESCAPES_ROOT")],
  ["/a/../../x", "deny", nf("ESCAPES_ROOT")],
  ["/a/../..", "deny", nf("ESCAPES_ROOT")],
  ["/./../x", "deny", nf("ESCAPES_ROOT")],
  ["//../x", "deny", nf("ESCAPES_ROOT")],
  ["/%2e%2e/secret.txt", "deny", nf("ESCAPES_ROOT")],
  ["/%2E%2E/%2E%2E/etc/passwd", "allow", nf("ESCAPES_ROOT")],
  ["/.%2e/x", "allow", nf("ESCAPES_ROOT")],
  ["/../x", "allow", nf("ESCAPES_ROOT")],
  // an encoded slash never becomes a separator
  ["/a%2f..%2f..%2fetc", "deny", nf("ENCODED_SLASH")],
  ["/a%2Fb", "deny", nf("ENCODED_SLASH")],
  ["/..%2fsecret.txt", "deny", nf("ENCODED_SLASH")],
  ["/%2F", "deny", nf("ENCODED_SLASH")],
  ["/a%2fb/..", "deny", nf("ENCODED_SLASH")],
  // backslash, raw or encoded
  ["/a%5cb", "deny", nf("BACKSLASH")],
  ["/a%5Cb", "deny", nf("BACKSLASH")],
  ["/a\\b", "deny", nf("BACKSLASH")],
  ["/..\\x", "deny", nf("BACKSLASH")],
  ["/%5c..%5c..%5cwindows", "allow", nf("BACKSLASH")],
  // NUL
  ["/a%00", "deny", bad("ENCODED_NUL")],
  ["/hello.txt%00.html", "deny", bad("ENCODED_NUL")],
  // malformed escapes
  ["/%", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/a%4", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/%zz", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/%g0", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/%%41", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/a%/b", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/%2", "deny", bad("BAD_PERCENT_ENCODING")],
  // UTF-8
  ["/caf%C3%A9", "deny", ok(["café"], false)],
  ["/caf%c3%a9/", "deny", ok(["café"], true)],
  ["/%E6%97%A5%E6%9C%AC.txt", "deny", ok(["日本.txt"], false)],
  ["/%F0%9F%98%80", "deny", ok(["😀"], false)],
  ["/%EF%BB%BFa", "deny", ok(["\uFEFFa"], false)],
  ["/%C3", "deny", bad("BAD_UTF8")],
  ["/%C3/x", "deny", bad("BAD_UTF8")],
  ["/%FF", "deny", bad("BAD_UTF8")],
  ["/%C0%AE%C0%AE/x", "deny", bad("BAD_UTF8")],
  ["/%ED%A0%80", "deny", bad("BAD_UTF8")],
  ["/%E9", "allow", bad("BAD_UTF8")],
  // spaces, plus and other ASCII escapes
  ["/a%20b", "deny", ok(["a b"], false)],
  ["/a%2Bb", "deny", ok(["a+b"], false)],
  ["/%41%42c", "deny", ok(["ABc"], false)],
  ["/a%3Fb%23c", "deny", ok(["a?b#c"], false)],
  ["/a%0Ab", "deny", ok(["a\nb"], false)],
  // not absolute
  ["", "deny", bad("NOT_ABSOLUTE")],
  ["a/b", "deny", bad("NOT_ABSOLUTE")],
  ["*", "deny", bad("NOT_ABSOLUTE")],
  ["%2Fa", "deny", bad("NOT_ABSOLUTE")],
  ["../a", "deny", bad("NOT_ABSOLUTE")],
  // dotfiles
  ["/.env", "deny", nf("DOTFILE")],
  ["/.env", "allow", ok([".env"], false)],
  ["/a/.git/config", "deny", nf("DOTFILE")],
  ["/a/.git/config", "allow", ok(["a", ".git", "config"], false)],
  ["/.git/", "deny", nf("DOTFILE")],
  ["/%2eenv", "deny", nf("DOTFILE")],
  ["/%2Eenv", "allow", ok([".env"], false)],
  ["/...", "deny", nf("DOTFILE")],
  ["/...", "allow", ok(["..."], false)],
  ["/.env/..", "deny", ok([], true)],
  ["/.git/../x", "deny", ok(["x"], false)],
  ["/a/.b.c/d", "deny", nf("DOTFILE")],
  ["/a.txt", "deny", ok(["a.txt"], false)],
  // RFC 8615 .well-known: only directly under the root, spelt exactly
  ["/.well-known/acme-challenge/x", "deny", ok([".well-known", "acme-challenge", "x"], false)],
  ["/.well-known/", "deny", ok([".well-known"], true)],
  ["/.well-known", "deny", ok([".well-known"], false)],
  ["/%2ewell-known/security.txt", "deny", ok([".well-known", "security.txt"], false)],
  ["/.well-known/.x", "deny", nf("DOTFILE")],
  ["/.well-known/a/.htpasswd", "deny", nf("DOTFILE")],
  ["/a/.well-known/x", "deny", nf("DOTFILE")],
  ["/.Well-Known/x", "deny", nf("DOTFILE")],
  ["/.well-known.bak/x", "deny", nf("DOTFILE")],
  // segment length, in UTF-8 bytes
  [`/${a255}`, "deny", ok([a255], false)],
  [`/${a256}`, "deny", nf("SEGMENT_TOO_LONG")],
  [`/x/${a256}/`, "deny", nf("SEGMENT_TOO_LONG")],
  [`/${e127b}`, "deny", ok([`${"é".repeat(127)}b`], false)],
  [`/${e128}`, "deny", nf("SEGMENT_TOO_LONG")],
  [`/${a256}/..`, "deny", ok([], true)],
  [`/.${a255}`, "allow", nf("SEGMENT_TOO_LONG")],
  // several faults: bad-request first, then the first refusal in path order, then DOTFILE
  ["/a%2fb/%zz", "deny", bad("BAD_PERCENT_ENCODING")],
  ["/../%00", "deny", bad("ENCODED_NUL")],
  ["/..%5c/%C3", "deny", bad("BAD_UTF8")],
  ["/../a%2fb", "deny", nf("ESCAPES_ROOT")],
  ["/a%5cb/../..", "deny", nf("BACKSLASH")],
  [`/.${a255}`, "deny", nf("DOTFILE")],
];

for (const [rawPath, dotfiles, want] of rows) {
  const call = `resolveRequestPath(${JSON.stringify(rawPath)}, ${JSON.stringify(dotfiles)})`;
  test(call, () => {
    const got = resolveRequestPath(rawPath, dotfiles);
    assert.deepEqual(got, want, `${call} = ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  });
}

// The request parser rejects these; reaching here would be our bug, so it must not pass silently.
// biome-ignore format: one row per line
const contractViolations: readonly string[] = [
  "/caf\u00e9",
  "/a b",
  "/a\tb",
  "/a\u0000b",
  "/a/\u007f",
];

for (const rawPath of contractViolations) {
  const call = `resolveRequestPath(${JSON.stringify(rawPath)}, "deny")`;
  test(`${call} throws`, () => {
    assert.throws(() => resolveRequestPath(rawPath, "deny"), RangeError, `${call} did not throw`);
  });
}
