// The peers: how each is configured, started on 127.0.0.1 and stopped.
//
// Every server runs in its own process group (detached), so that stopping it stops its workers
// too, and run.mjs kills every group it started on exit, error or Ctrl-C.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A server must accept connections within this long of being spawned. */
const START_TIMEOUT_MS = 20_000;
/** After SIGTERM a server gets this long before its whole group is killed. */
const STOP_GRACE_MS = 2_000;
/** Idle keep-alive connections must outlive the whole benchmark, (h) above all. */
const KEEPALIVE_TIMEOUT_S = 600;
/** Connections each server accepts: (h)'s 10,000 idle ones and (b)'s 1,000, with room. */
const MAX_CONNECTIONS = 20_000;
/** Descriptors a server needs besides its connections (listeners, files, stdio, the runtime). */
const RESERVED_FDS = 200;

/** Connections a server may hold under the open-file limit every process inherits from us. */
function maxConnections(ctx) {
  return Math.min(MAX_CONNECTIONS, ctx.openFiles - RESERVED_FDS);
}

const running = new Set();
let instances = 0;

/** A new directory (and log name) per server instance: (h) starts fresh ones of each peer. */
function createInstanceDir(ctx, name) {
  instances += 1;
  const dir = join(ctx.workDir, `${name}-${instances}`);
  ctx.makeDir(dir);
  return dir;
}

/** A port that was free a moment ago on 127.0.0.1 (the OS's choice for port 0). */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The peers run.mjs knows, by name. `start(context)` resolves with a running server
 * { name, pid, port, logPath }. `workloads` limits a peer to some workloads; `scaling` peers
 * appear only in the scaling table.
 */
export const PEERS = [
  {
    name: "berth",
    describe: "berth serve --quiet, one process, keep-alive timeout 600 s",
    start: (ctx) => startBerth(ctx, 1),
  },
  {
    name: "nginx",
    describe:
      "nginx, 1 worker, sendfile on, tcp_nopush off, open_file_cache, access_log off, " +
      "keepalive_requests 1000000, keepalive_timeout 600s",
    start: (ctx) => startNginx(ctx, { name: "nginx", workers: 1, tcpNopush: false }),
  },
  {
    name: "nginx-nopush",
    describe: "the same nginx with tcp_nopush on (run on (c) only)",
    workloads: ["c"],
    start: (ctx) => startNginx(ctx, { name: "nginx-nopush", workers: 1, tcpNopush: true }),
  },
  {
    name: "node-send",
    describe: "node:http + send (bench/lib/node-send-server.mjs), keepAliveTimeout 600 s",
    start: startNodeSend,
  },
  { name: "caddy", describe: "caddy file_server, idle timeout 600 s", start: startCaddy },
];

/** Peers for the scaling table, used when run.mjs is given --workers N. */
export function definePeersForScaling(workers) {
  return [
    {
      name: `berth-w${workers}`,
      describe: `berth serve --workers ${workers}, on every CPU`,
      scaling: true,
      start: (ctx) => startBerth(ctx, workers),
    },
    {
      name: `nginx-w${workers}`,
      describe: `nginx, ${workers} workers, on every CPU`,
      scaling: true,
      start: (ctx) => startNginx(ctx, { name: `nginx-w${workers}`, workers, tcpNopush: false }),
    },
  ];
}

async function startBerth(ctx, workers) {
  const name = workers === 1 ? "berth" : `berth-w${workers}`;
  const port = await findFreePort();
  const args = [
    ctx.berthCli,
    "serve",
    ctx.rootDir,
    "--listen",
    `127.0.0.1:${port}`,
    "--quiet",
    "--keepalive-timeout-ms",
    String(KEEPALIVE_TIMEOUT_S * 1000),
    "--max-connections",
    String(maxConnections(ctx)),
  ];
  if (workers > 1) args.push("--workers", String(workers));
  const cpus = workers === 1 ? ctx.serverCpus : ctx.allCpus;
  return spawnServer(name, [...cpus, process.execPath, ...args], port, {
    dir: createInstanceDir(ctx, name),
  });
}

async function startNginx(ctx, { name, workers, tcpNopush }) {
  const port = await findFreePort();
  const prefix = createInstanceDir(ctx, name);
  const confPath = join(prefix, "nginx.conf");
  const conf = formatNginxConf({
    prefix,
    port,
    root: ctx.rootDir,
    workers,
    tcpNopush,
    openFiles: ctx.openFiles,
    connections: maxConnections(ctx),
  });
  writeFileSync(confPath, conf);
  const command = [
    ...(workers === 1 ? ctx.serverCpus : ctx.allCpus),
    ctx.tools.nginx,
    "-p",
    prefix,
    "-e",
    join(prefix, "error.log"),
    "-c",
    confPath,
    "-g",
    "daemon off;",
  ];
  return spawnServer(name, command, port, { dir: prefix });
}

function formatNginxConf({ prefix, port, root, workers, tcpNopush, openFiles, connections }) {
  return `# Generated by bench/run.mjs
worker_processes ${workers};
worker_rlimit_nofile ${openFiles};
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "error.log")} warn;
events {
  worker_connections ${connections};
}
http {
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush ${tcpNopush ? "on" : "off"};
  tcp_nodelay on;
  open_file_cache max=1000 inactive=600s;
  open_file_cache_valid 600s;
  keepalive_requests 1000000;
  keepalive_timeout ${KEEPALIVE_TIMEOUT_S}s;
  client_body_temp_path ${join(prefix, "client_body")};
  proxy_temp_path ${join(prefix, "proxy")};
  fastcgi_temp_path ${join(prefix, "fastcgi")};
  uwsgi_temp_path ${join(prefix, "uwsgi")};
  scgi_temp_path ${join(prefix, "scgi")};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

async function startNodeSend(ctx) {
  const port = await findFreePort();
  const script = join(ctx.benchDir, "lib", "node-send-server.mjs");
  const command = [...ctx.serverCpus, process.execPath, script, ctx.rootDir, String(port)];
  return spawnServer("node-send", command, port, { dir: createInstanceDir(ctx, "node-send") });
}

async function startCaddy(ctx) {
  const port = await findFreePort();
  const dir = createInstanceDir(ctx, "caddy");
  const caddyfile = join(dir, "Caddyfile");
  writeFileSync(
    caddyfile,
    `# Generated by bench/run.mjs
{
  admin off
  auto_https off
  servers {
    timeouts {
      idle ${KEEPALIVE_TIMEOUT_S}s
    }
  }
}
http://127.0.0.1:${port} {
  bind 127.0.0.1
  root * ${ctx.rootDir}
  file_server
}
`,
  );
  const command = [
    ...ctx.serverCpus,
    ctx.tools.caddy,
    "run",
    "--config",
    caddyfile,
    "--adapter",
    "caddyfile",
  ];
  // Caddy keeps state under $HOME / XDG directories: a private one, so nothing outside is touched.
  const env = { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  return spawnServer("caddy", command, port, { dir, env });
}

/** Spawns the command in its own process group, its output into dir/output.log. */
async function spawnServer(name, command, port, { dir, env = {} }) {
  const logPath = join(dir, "output.log");
  const log = openSync(logPath, "w");
  const child = spawn(command[0], command.slice(1), {
    // A private working directory: berth reads ./berth.json when there is one.
    cwd: dir,
    detached: true,
    stdio: ["ignore", log, log],
    env: { ...process.env, ...env },
  });
  closeSync(log);
  const server = { name, pid: child.pid, port, logPath, exited: false };
  running.add(server);
  child.on("exit", () => {
    server.exited = true;
    running.delete(server);
  });
  child.on("error", () => {
    server.exited = true;
    running.delete(server);
  });
  await waitUntilAccepting(server);
  return server;
}

async function waitUntilAccepting(server) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exited) break;
    if (await canConnect(server.port)) return;
    await sleep(50);
  }
  const reason = server.exited ? "exited" : `not accepting after ${START_TIMEOUT_MS} ms`;
  stopServerNow(server);
  throw new Error(`${server.name} ${reason} on 127.0.0.1:${server.port}: ${readLogTail(server)}`);
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

export function readLogTail(server) {
  try {
    const text = readFileSync(server.logPath, "utf8").trim();
    return text === "" ? "(no output)" : text.split("\n").slice(-5).join(" | ");
  } catch {
    return "(no log)";
  }
}

/** SIGTERM to the server's group, then SIGKILL if it is still there after the grace. */
export async function stopServer(server) {
  signalGroup(server, "SIGTERM");
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!server.exited && Date.now() < deadline) await sleep(50);
  if (!server.exited) signalGroup(server, "SIGKILL");
}

function stopServerNow(server) {
  signalGroup(server, "SIGKILL");
}

/** Synchronously kills every server group still running: for exit and signal handlers. */
export function killAllServers() {
  for (const server of running) stopServerNow(server);
}

function signalGroup(server, signal) {
  try {
    process.kill(-server.pid, signal);
  } catch {
    // the group is gone already
  }
}
