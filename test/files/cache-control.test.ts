import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CachePolicy,
  createCacheControl,
  DEFAULT_MAX_AGE_SECONDS,
  IMMUTABLE_MAX_AGE_SECONDS,
} from "../../src/files/cache-control.js";

const HTML = "text/html; charset=utf-8";
const CSS = "text/css; charset=utf-8";
const JS = "text/javascript; charset=utf-8";
const PNG = "image/png";

const IMMUTABLE = "public, max-age=31536000, immutable";
const DEFAULT = "public, max-age=60";

const HASH8 = "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]";
const FINGERPRINTED_JS = `**/*.${HASH8}.js`;

const plain: CachePolicy = { maxAgeSeconds: DEFAULT_MAX_AGE_SECONDS, immutableGlobs: [] };
const zero: CachePolicy = { maxAgeSeconds: 0, immutableGlobs: [] };
const hour: CachePolicy = { maxAgeSeconds: 3600, immutableGlobs: [] };
const fingerprinted: CachePolicy = { maxAgeSeconds: 60, immutableGlobs: [FINGERPRINTED_JS] };
const assets: CachePolicy = { maxAgeSeconds: 60, immutableGlobs: ["assets/**"] };
const several: CachePolicy = {
  maxAgeSeconds: 60,
  immutableGlobs: ["fonts/*.woff2", "**/*.{png,svg}", "static/**/*.html"],
};

// biome-ignore format: one row per line
const rows: ReadonlyArray<readonly [CachePolicy, string, string, string]> = [
  // no globs: HTML revalidates, everything else gets the default max-age
  [plain, "index.html", HTML, "no-cache"],
  [plain, "docs/guide/index.html", HTML, "no-cache"],
  [plain, "page.html", "text/html", "no-cache"],
  [plain, "PAGE.HTM", "TEXT/HTML; charset=utf-8", "no-cache"],
  [plain, "page.html", "text/html;charset=utf-8", "no-cache"],
  [plain, "style.css", CSS, DEFAULT],
  [plain, "app.js", JS, DEFAULT],
  [plain, "logo.png", PNG, DEFAULT],
  [plain, "page.xhtml", "application/xhtml+xml", DEFAULT],
  [plain, "odd.txt", "text/htmlx", DEFAULT],
  [plain, "notes.txt", "text/plain; charset=utf-8", DEFAULT],
  // custom max-age
  [zero, "style.css", CSS, "public, max-age=0"],
  [zero, "index.html", HTML, "no-cache"],
  [hour, "style.css", CSS, "public, max-age=3600"],
  // fingerprinted file names
  [fingerprinted, "assets/app.1234abcd.js", JS, IMMUTABLE],
  [fingerprinted, "app.1234abcd.js", JS, IMMUTABLE],
  [fingerprinted, "a/b/c/app.1234abcd.js", JS, IMMUTABLE],
  [fingerprinted, "assets/app.js", JS, DEFAULT],
  [fingerprinted, "assets/app.1234ABCD.js", JS, DEFAULT],
  [fingerprinted, "assets/app.1234abc.js", JS, DEFAULT],
  [fingerprinted, "assets/app.1234abcd.css", CSS, DEFAULT],
  [fingerprinted, "assets/app.1234abcd.js.map", "application/json", DEFAULT],
  [fingerprinted, ".vite/app.1234abcd.js", JS, IMMUTABLE],
  [fingerprinted, "assets/.app.1234abcd.js", JS, IMMUTABLE],
  [fingerprinted, "index.html", HTML, "no-cache"],
  // a folder of fingerprinted assets, nested, dotfiles included
  [assets, "assets/app.js", JS, IMMUTABLE],
  [assets, "assets/img/deep/logo.png", PNG, IMMUTABLE],
  [assets, "assets/.hidden", "application/octet-stream", IMMUTABLE],
  [assets, "assets/.well/known.txt", "text/plain", IMMUTABLE],
  [assets, "app.js", JS, DEFAULT],
  [assets, "src/assets/app.js", JS, DEFAULT],
  [assets, "assets-old/app.js", JS, DEFAULT],
  [assets, "/assets/app.js", JS, DEFAULT],
  // an explicit immutable glob wins over the HTML default: the user asked for it
  [assets, "assets/embed.html", HTML, IMMUTABLE],
  [assets, "index.html", HTML, "no-cache"],
  // several globs, any one matches
  [several, "fonts/inter.woff2", "font/woff2", IMMUTABLE],
  [several, "fonts/sub/inter.woff2", "font/woff2", DEFAULT],
  [several, "img/a/logo.svg", "image/svg+xml", IMMUTABLE],
  [several, "logo.png", PNG, IMMUTABLE],
  [several, "static/v1/page.html", HTML, IMMUTABLE],
  [several, "static/v1/page.css", CSS, DEFAULT],
  [several, "page.html", HTML, "no-cache"],
];

const show = (value: unknown): string => JSON.stringify(value);

for (const [policy, relativePath, contentType, want] of rows) {
  const call = `createCacheControl(${show(policy)})(${show(relativePath)}, ${show(contentType)})`;
  test(call, () => {
    const got = createCacheControl(policy)(relativePath, contentType);
    assert.equal(got, want, `${call} = ${show(got)}, want ${show(want)}`);
  });
}

// biome-ignore format: one row per line
const badPolicies: ReadonlyArray<readonly [CachePolicy, RegExp]> = [
  [{ maxAgeSeconds: 60, immutableGlobs: ["assets/[0-9"] }, /^Invalid immutable glob "assets\/\[0-9": /],
  [{ maxAgeSeconds: 60, immutableGlobs: ["assets/**", "{a,b"] }, /^Invalid immutable glob "\{a,b": /],
  [{ maxAgeSeconds: 60, immutableGlobs: ["a/(b"] }, /^Invalid immutable glob "a\/\(b": /],
  [{ maxAgeSeconds: 60, immutableGlobs: ["a\\"] }, /^Invalid immutable glob "a\\": /],
  [{ maxAgeSeconds: 60, immutableGlobs: [""] }, /^Invalid immutable glob "": /],
  [{ maxAgeSeconds: 60, immutableGlobs: ["/assets/**"] }, /^Invalid immutable glob "\/assets\/\*\*": .*leading "\/"$/],
  [{ maxAgeSeconds: -1, immutableGlobs: [] }, /^Invalid max-age -1: /],
  [{ maxAgeSeconds: 1.5, immutableGlobs: [] }, /^Invalid max-age 1\.5: /],
  [{ maxAgeSeconds: Number.NaN, immutableGlobs: [] }, /^Invalid max-age NaN: /],
];

for (const [policy, message] of badPolicies) {
  const call = `createCacheControl(${show(policy)})`;
  test(`${call} throws`, () => {
    assert.throws(
      () => createCacheControl(policy),
      { message },
      `${call} did not throw ${message}`,
    );
  });
}

test("errors are one line", () => {
  for (const [policy] of badPolicies) {
    try {
      createCacheControl(policy);
    } catch (error) {
      assert.ok(error instanceof Error && !error.message.includes("\n"), `${show(policy)}`);
    }
  }
});

test("every call returns the same precomputed string", () => {
  const cacheControl = createCacheControl(assets);
  const first = cacheControl("style.css", CSS);
  assert.equal(cacheControl("other.css", CSS), first);
  assert.equal(cacheControl("assets/a.js", JS), cacheControl("assets/b.js", JS));
  assert.equal(cacheControl("index.html", HTML), cacheControl("a/index.html", HTML));
});

test("the immutable max-age is one year", () => {
  assert.equal(IMMUTABLE_MAX_AGE_SECONDS, 365 * 24 * 60 * 60);
  assert.equal(IMMUTABLE, `public, max-age=${IMMUTABLE_MAX_AGE_SECONDS}, immutable`);
});
