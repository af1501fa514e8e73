// What the benchmark needs before it starts: tools (installed from Debian packages when missing),
// the files it serves, a high open-file limit, and the facts about the machine it reports.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { release, totalmem } from "node:os";
import { join } from "node:path";
import { readOpenFileLimit } from "./proc.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Open files wanted by every process the benchmark starts: 10,000 held connections and more. */
export const WANTED_OPEN_FILES = 65_536;

/** The absolute path of a command on PATH (or /usr/sbin, where Debian puts nginx), or null. */
export function findCommand(name) {
  const result = spawnSync("sh", ["-c", `command -v ${name}`], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` },
  });
  const path = result.stdout?.trim();
  return result.status === 0 && path ? path : null;
}

/**
 * Finds wrk, nginx and caddy; installs the missing ones with apt-get (through sudo unless root).
 * `wanted` maps a command to { packageName, required }. Returns { tools, notes }: tools maps each
 * command to its path (missing optional ones are absent); a missing required one throws.
 */
export function ensureTools(wanted, log) {
  const tools = {};
  const notes = [];
  const missing = Object.keys(wanted).filter((command) => {
    tools[command] = findCommand(command);
    return tools[command] === null;
  });
  if (missing.length > 0) {
    const packages = missing.map((command) => wanted[command].packageName);
    log(`installing ${packages.join(", ")} with apt-get`);
    for (const packageName of packages) {
      // One package at a time: a package the mirror lacks (caddy) must not stop the others.
      if (!aptInstall(packageName) && (!aptUpdate() || !aptInstall(packageName))) {
        log(`apt-get could not install ${packageName}`);
      }
    }
  }
  for (const command of missing) {
    tools[command] = findCommand(command);
    if (tools[command] !== null) continue;
    delete tools[command];
    const { packageName, required } = wanted[command];
    if (required) {
      throw new Error(
        `${command} is needed and could not be installed; install it (apt-get install ${packageName}) and run again`,
      );
    }
    notes.push(`${command} is not installed and apt-get could not install it: skipped`);
  }
  return { tools, notes };
}

let updated = false;
function aptUpdate() {
  if (updated) return true;
  updated = true;
  return runApt(["update"]);
}

function aptInstall(packageName) {
  return runApt(["install", "-y", "--no-install-recommends", packageName]);
}

function runApt(args) {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? ["apt-get", ...args] : ["sudo", "apt-get", ...args];
  const result = spawnSync(command[0], command.slice(1), {
    stdio: ["inherit", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status === 0;
}

/**
 * Raises this process's open-file limit (children inherit it) with prlimit, to
 * WANTED_OPEN_FILES where allowed (root), else to the hard limit. Returns the soft limit now.
 */
export function raiseOpenFileLimit() {
  if (readOpenFileLimit() < WANTED_OPEN_FILES) {
    spawnSync(
      "prlimit",
      ["--pid", String(process.pid), `--nofile=${WANTED_OPEN_FILES}:${WANTED_OPEN_FILES}`],
      { stdio: "ignore" },
    );
  }
  if (readOpenFileLimit() < WANTED_OPEN_FILES) {
    const hard = /^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "latin1"));
    if (hard?.[1] !== undefined) {
      spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${hard[1]}:${hard[1]}`], {
        stdio: "ignore",
      });
    }
  }
  return readOpenFileLimit();
}

/**
 * Writes the served files into dir: 1 KiB, 64 KiB and 256 MiB of deterministic, incompressible
 * bytes (real bytes: a sparse file would read as zero pages no disk ever served). Each fixture is
 * { path (URL path), sizeBytes, sha256 }.
 */
export function writeFixtures(dir, { withBigFile }) {
  chmodSync(dir, 0o755); // nginx's workers run as nobody when it starts as root
  const block = createPseudoRandomBlock(MiB);
  const fixtures = {
    "1k": writeFixture(dir, "1k.bin", [block.subarray(0, KiB)]),
    "64k": writeFixture(dir, "64k.bin", [block.subarray(KiB, KiB + 64 * KiB)]),
  };
  if (withBigFile) {
    // 256 different MiB: the block with its first 4 bytes replaced by the MiB's index.
    const blocks = Array.from({ length: 256 }, (_, index) => {
      const copy = Buffer.from(block);
      copy.writeUInt32BE(index, 0);
      return copy;
    });
    fixtures.big = writeFixture(dir, "big.bin", blocks);
  }
  return fixtures;
}

function writeFixture(dir, name, blocks) {
  const fd = openSync(join(dir, name), "w", 0o644);
  const hash = createHash("sha256");
  let sizeBytes = 0;
  for (const block of blocks) {
    writeSync(fd, block);
    hash.update(block);
    sizeBytes += block.length;
  }
  closeSync(fd);
  return { path: `/${name}`, sizeBytes, sha256: hash.digest("hex") };
}

/** xorshift32 from a fixed seed: the same bytes on every machine. */
function createPseudoRandomBlock(sizeBytes) {
  const words = new Uint32Array(sizeBytes / 4);
  let state = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[i] = state >>> 0;
  }
  return Buffer.from(words.buffer);
}

/** The machine, the runtime and each peer's version, as label/value rows. */
export function describeEnvironment(tools, repoRoot, cpuCount) {
  const cpuModel =
    /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "latin1"))?.[1] ?? "unknown";
  const rows = [
    ["CPUs", String(cpuCount)],
    ["CPU model", cpuModel],
    ["Memory", `${Math.round(totalmem() / MiB / 1024)} GiB`],
    ["Kernel", `${release()} (${firstLine(run("uname", ["-m"]))})`],
    ["Node.js", process.version],
    ["berth", describeBerth(repoRoot)],
    ["send", readPackageVersion(repoRoot, "send")],
    ["wrk", firstLine(run(tools.wrk, ["-v"])).replace(/ Copyright.*$/, "")],
  ];
  if (tools.nginx) rows.push(["nginx", firstLine(run(tools.nginx, ["-v"]))]);
  if (tools.caddy) rows.push(["caddy", firstLine(run(tools.caddy, ["version"]))]);
  return rows;
}

/** The 1, 5 and 15 minute load averages: how busy the machine was with other work too. */
export function readLoadAverage() {
  return readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
}

function describeBerth(repoRoot) {
  const version = readPackageVersion(repoRoot, null);
  const commit = firstLine(run("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]));
  const dirty = run("git", ["-C", repoRoot, "status", "--porcelain", "--", "src"]).trim() !== "";
  if (commit === "") return version;
  return `${version} (commit ${commit}${dirty ? ", with uncommitted changes in src/" : ""})`;
}

function readPackageVersion(repoRoot, name) {
  const path =
    name === null
      ? join(repoRoot, "package.json")
      : join(repoRoot, "node_modules", name, "package.json");
  try {
    return JSON.parse(readFileSync(path, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: "utf8" });
  return `${result.stdout ?? ""}${result.stderr ?? ""}`;
}

function firstLine(text) {
  return text.trim().split("\n")[0]?.trim() ?? "";
}
