// A long fuzzing run: compiles the tests, then runs the two fast-check fuzz files with many more
// runs per property than `npm test` does.
//
//   node scripts/fuzz.mjs [runs] [seed]     (npm run fuzz -- 20000)
//
// runs (default 10000) becomes BERTH_FUZZ_RUNS: runs per parser property and server runs. A seed
// (printed by fast-check with every failure) becomes BERTH_FUZZ_SEED and replays that failure.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const FUZZ_FILES = [
  "dist-test/test/http/request-parser.fuzz.test.js",
  "dist-test/test/server/fuzz.test.js",
];
const DEFAULT_RUNS = 10_000;

const [runsArg, seedArg] = process.argv.slice(2);
const runs = runsArg === undefined ? DEFAULT_RUNS : Number(runsArg);
if (!Number.isInteger(runs) || runs <= 0) {
  console.error(`Usage: node scripts/fuzz.mjs [runs] [seed]; runs must be a positive integer`);
  process.exit(2);
}
if (seedArg !== undefined && !Number.isInteger(Number(seedArg))) {
  console.error(`Usage: node scripts/fuzz.mjs [runs] [seed]; seed must be an integer`);
  process.exit(2);
}

const repo = fileURLToPath(new URL("..", import.meta.url));
const run = (args, env = process.env) =>
  spawnSync(process.execPath, args, { cwd: repo, env, stdio: "inherit" }).status ?? 1;

// Stale compiled tests would fuzz old code: compile first, as `npm run typecheck` does.
const tsc = run(["node_modules/typescript/bin/tsc", "-p", "tsconfig.test.json"]);
if (tsc !== 0) process.exit(tsc);
const missing = FUZZ_FILES.filter((file) => !existsSync(new URL(`../${file}`, import.meta.url)));
if (missing.length > 0) {
  console.error(`fuzz: compiled test files missing: ${missing.join(", ")}`);
  process.exit(1);
}

const env = { ...process.env, BERTH_FUZZ_RUNS: String(runs) };
if (seedArg !== undefined) env.BERTH_FUZZ_SEED = seedArg;
console.error(`fuzz: ${runs} runs per property${seedArg === undefined ? "" : `, seed ${seedArg}`}`);
// One file at a time: the server file's timing should not compete with the parser's CPU.
process.exit(run(["--test", "--test-concurrency=1", ...FUZZ_FILES], env));
