/** Temporary directory trees for tests that need a real file system (document roots, symlinks). */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** Creates a fresh directory under the OS temp dir, named `prefix` plus random characters. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes `dir` and everything in it; a missing `dir` is not an error. */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * Creates the files of `tree` under `dir`, making parent directories as needed:
 * `{ "a/b.txt": "hi" }` writes dir/a/b.txt. Strings are written as UTF-8. A key ending in "/"
 * makes an empty directory (its value must be ""). Keys must stay inside `dir`.
 */
export async function writeTree(dir: string, tree: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(tree)) {
    const path = resolveInside(dir, name);
    if (name.endsWith("/")) {
      if (content.length > 0) throw new Error(`writeTree: directory key ${name} has content`);
      await mkdir(path, { recursive: true });
      continue;
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

function resolveInside(dir: string, name: string): string {
  const path = resolve(dir, name);
  const inside = relative(resolve(dir), path);
  if (
    isAbsolute(name) ||
    inside === "" ||
    inside === ".." ||
    inside.startsWith(`..${sep}`) ||
    isAbsolute(inside)
  ) {
    throw new Error(`writeTree: ${JSON.stringify(name)} is not a path inside ${dir}`);
  }
  return path;
}
