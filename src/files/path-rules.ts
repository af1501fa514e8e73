/**
 * Per-glob rules from berth.json (`rules: [{ match, headers, cacheControl }]`) and the global
 * `--header` fields, compiled once into a function of the served file's relative path. Pure.
 *
 * Semantics:
 * - every rule whose glob matches applies its headers, in rule order; a rule's field replaces a
 *   global `--header` field, or an earlier rule's, of the same name (case-insensitive), so a rule
 *   can override a site-wide value for part of the site;
 * - the first matching rule that has a `cacheControl` sets Cache-Control for the file (over
 *   --max-age, --immutable and the HTML default), as --immutable's first match does.
 *
 * The answers are memoised per set of matching rules, so a request costs one regular-expression
 * test per rule and no string building.
 */
import picomatch from "picomatch";
import {
  type ExtraHeader,
  formatExtraHeaderLines,
  overrideHeaders,
} from "../http/extra-headers.js";
import { GLOB_OPTIONS } from "./cache-control.js";

export interface PathRule {
  /** picomatch glob against the path below the root: "assets/**", "**\/*.wasm". */
  readonly match: string;
  readonly headers: readonly ExtraHeader[];
  /** The whole Cache-Control value, or null to leave the default policy. */
  readonly cacheControl: string | null;
}

export interface PathRuleAnswer {
  /** "Name: value\r\n" lines to append to the head ("" when none). */
  readonly headerLines: string;
  /** Cache-Control from the first matching rule that sets one, else null. */
  readonly cacheControl: string | null;
}

export type CompiledGlob =
  | { readonly kind: "glob"; readonly pattern: RegExp }
  | { readonly kind: "error"; readonly reason: string };

/** Compiles a glob as --immutable does (same picomatch options); a reason instead of a throw. */
export function compilePathGlob(glob: string): CompiledGlob {
  if (glob.length === 0) return { kind: "error", reason: "the glob is empty" };
  // Paths are relative to the root, so a leading "/" could never match.
  if (glob.startsWith("/")) {
    return { kind: "error", reason: 'globs are relative to the served root: drop the leading "/"' };
  }
  try {
    return { kind: "glob", pattern: picomatch.makeRe(glob, GLOB_OPTIONS) };
  } catch (error) {
    return { kind: "error", reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Distinct sets of matching rules remembered: real sites see a handful; overlapping rules and
 * crafted paths must not grow the memo without bound (beyond it, answers are built per request). */
export const MAX_MEMOISED_ANSWERS = 1024;

/** Throws (our bug: globs are checked at start-up) if a rule's glob does not compile. */
export function createPathRules(
  globalHeaders: readonly ExtraHeader[],
  rules: readonly PathRule[],
): (relativePath: string) => PathRuleAnswer {
  const patterns = rules.map((rule) => {
    const compiled = compilePathGlob(rule.match);
    if (compiled.kind === "error") throw new Error(`rule glob "${rule.match}": ${compiled.reason}`);
    return compiled.pattern;
  });
  const answerFor = (matching: readonly number[]): PathRuleAnswer => {
    let headers: readonly ExtraHeader[] = globalHeaders;
    let cacheControl: string | null = null;
    for (const index of matching) {
      const rule = rules[index] as PathRule;
      headers = overrideHeaders(headers, rule.headers);
      cacheControl ??= rule.cacheControl;
    }
    return { headerLines: formatExtraHeaderLines(headers), cacheControl };
  };
  const none = answerFor([]);
  if (rules.length === 0) return () => none;
  const memo = new Map<string, PathRuleAnswer>();
  return (relativePath) => {
    let key = "";
    for (let i = 0; i < patterns.length; i++) {
      if ((patterns[i] as RegExp).test(relativePath)) key += `${i},`;
    }
    if (key === "") return none;
    let answer = memo.get(key);
    if (answer === undefined) {
      answer = answerFor(key.slice(0, -1).split(",").map(Number));
      if (memo.size < MAX_MEMOISED_ANSWERS) memo.set(key, answer);
    }
    return answer;
  };
}
