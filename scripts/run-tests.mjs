// Runs every compiled test file with node:test. Explicit file paths work on every Node line we
// support: Node 20 takes directories but no globs, Node 22+ takes globs but not directories.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return findTests(path);
    return entry.name.endsWith(".test.js") ? [path] : [];
  });
}

const files = findTests(process.argv[2] ?? "dist-test/test").sort();
if (files.length === 0) {
  console.error("run-tests: no test files found; did the test build run?");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=4", ...files], {
  stdio: "inherit",
});
if (result.status !== 0) process.exit(result.status ?? 1);

// The server tests again over net.Socket (--socket-api net): the default run drove plain
// connections through libuv's handles, and both socket layers must pass the same tests.
const serverTests = files.filter((file) => file.includes(`${join("test", "server")}/`));
if (serverTests.length === 0) process.exit(0);
console.log(`\nrun-tests: ${serverTests.length} server test files again with --socket-api net`);
const overNet = spawnSync(process.execPath, ["--test", "--test-concurrency=4", ...serverTests], {
  stdio: "inherit",
  env: { ...process.env, BERTH_TEST_SOCKET_API: "net" },
});
process.exit(overNet.status ?? 1);
