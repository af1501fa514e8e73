import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compilePathGlob,
  createPathRules,
  MAX_MEMOISED_ANSWERS,
  type PathRule,
} from "../../src/files/path-rules.js";
import type { ExtraHeader } from "../../src/http/extra-headers.js";

const GLOBAL: ExtraHeader[] = [
  { name: "X-Frame-Options", value: "SAMEORIGIN" },
  { name: "Referrer-Policy", value: "no-referrer" },
];

const RULES: PathRule[] = [
  {
    match: "assets/**",
    headers: [{ name: "X-Frame-Options", value: "DENY" }],
    cacheControl: "public, max-age=31536000, immutable",
  },
  { match: "**/*.wasm", headers: [{ name: "X-Wasm", value: "1" }], cacheControl: null },
  { match: "assets/fonts/**", headers: [], cacheControl: "public, max-age=60" },
  {
    match: "embed/**",
    headers: [{ name: "x-frame-options", value: "ALLOWALL" }],
    cacheControl: null,
  },
];

const rules = createPathRules(GLOBAL, RULES);

/** "header lines joined with |; cache-control" */
function show(relativePath: string): string {
  const answer = rules(relativePath);
  return `${answer.headerLines.split("\r\n").slice(0, -1).join("|")}; ${answer.cacheControl ?? "default"}`;
}

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [string, string]> = [
  ["index.html",             "X-Frame-Options: SAMEORIGIN|Referrer-Policy: no-referrer; default"],
  ["assets/app.js",          "Referrer-Policy: no-referrer|X-Frame-Options: DENY; public, max-age=31536000, immutable"],
  ["assets/deep/a/b.css",    "Referrer-Policy: no-referrer|X-Frame-Options: DENY; public, max-age=31536000, immutable"],
  ["assets/.vite/x.js",      "Referrer-Policy: no-referrer|X-Frame-Options: DENY; public, max-age=31536000, immutable"],
  // two rules: both add headers; the first one with cacheControl wins
  ["assets/m.wasm",          "Referrer-Policy: no-referrer|X-Frame-Options: DENY|X-Wasm: 1; public, max-age=31536000, immutable"],
  ["assets/fonts/a.woff2",   "Referrer-Policy: no-referrer|X-Frame-Options: DENY; public, max-age=31536000, immutable"],
  ["m.wasm",                 "X-Frame-Options: SAMEORIGIN|Referrer-Policy: no-referrer|X-Wasm: 1; default"],
  // a rule overrides a global field by name, whatever the letter case
  ["embed/widget.html",      "Referrer-Policy: no-referrer|x-frame-options: ALLOWALL; default"],
  ["assetsX/app.js",         "X-Frame-Options: SAMEORIGIN|Referrer-Policy: no-referrer; default"],
  ["ASSETS/app.js",          "X-Frame-Options: SAMEORIGIN|Referrer-Policy: no-referrer; default"],
];

describe("createPathRules", () => {
  for (const [path, want] of rows) {
    test(path, () => {
      const got = show(path);
      assert.equal(got, want, `rules(${JSON.stringify(path)}) = ${got}, want ${want}`);
    });
  }

  test("answers are memoised per set of matching rules", () => {
    assert.equal(rules("assets/a.js"), rules("assets/b/c.png"));
    assert.equal(rules("index.html"), rules("about.html"));
    assert.notEqual(rules("assets/a.js"), rules("assets/a.wasm"));
  });

  test(`no more than ${MAX_MEMOISED_ANSWERS} answers are remembered, and answers stay right past it`, () => {
    // 12 rules, each matching paths holding its letter: 4096 distinct sets of matching rules.
    const letters = "abcdefghijkl";
    const many = createPathRules(
      [],
      [...letters].map((letter) => ({
        match: `**/*${letter}*`,
        headers: [{ name: `X-${letter}`, value: "1" }],
        cacheControl: null,
      })),
    );
    for (let mask = 1; mask < 2 ** letters.length; mask++) {
      const name = [...letters].filter((_, i) => mask & (1 << i)).join("");
      const answer = many(name);
      const want = [...name].map((letter) => `X-${letter}: 1\r\n`).join("");
      if (answer.headerLines !== want) {
        assert.fail(
          `many(${name}) = ${JSON.stringify(answer.headerLines)}, want ${JSON.stringify(want)}`,
        );
      }
    }
  });

  test("no rules: one constant answer of the global headers", () => {
    const only = createPathRules(GLOBAL, []);
    assert.equal(only("a"), only("b/c"));
    assert.equal(
      only("a").headerLines,
      "X-Frame-Options: SAMEORIGIN\r\nReferrer-Policy: no-referrer\r\n",
    );
    assert.equal(only("a").cacheControl, null);
  });
});

// biome-ignore format: one row per line
const globRows: ReadonlyArray<readonly [string, RegExp | null]> = [
  ["assets/**",       null],
  ["**/*.{png,svg}",  null],
  ["",                /empty/],
  ["/assets/**",      /relative to the served root/],
  ["assets/[a-z",     /./],
];

describe("compilePathGlob", () => {
  for (const [glob, refusal] of globRows) {
    test(JSON.stringify(glob), () => {
      const compiled = compilePathGlob(glob);
      if (refusal === null) {
        assert.equal(
          compiled.kind,
          "glob",
          `compilePathGlob(${JSON.stringify(glob)}) = ${JSON.stringify(compiled)}`,
        );
      } else {
        assert.equal(compiled.kind, "error", `compilePathGlob(${JSON.stringify(glob)}) compiled`);
        assert.match(compiled.kind === "error" ? compiled.reason : "", refusal);
      }
    });
  }
});
