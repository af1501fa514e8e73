import { chmod, lstat, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { ListenError } from "./listen.js";

/**
 * Makes a Unix socket path ready to listen on. A socket file left by a crashed run (nothing
 * accepts on it) is removed; a live one is "in use"; anything that is not a socket (a regular
 * file, a directory) is never removed: that would delete a user's file.
 */
export async function prepareUnixSocketPath(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new ListenError(`Cannot listen on unix:${path}: ${(error as Error).message}`);
  }
  if (!stats.isSocket()) {
    throw new ListenError(
      `Cannot listen on unix:${path}: a file that is not a socket is there; berth will not remove it`,
    );
  }
  if (await isAccepting(path)) {
    throw new ListenError(
      `Cannot listen on unix:${path}: address already in use (a server accepts there)`,
    );
  }
  await unlink(path);
}

/** Sets the socket file's permission bits (e.g. 0o660 to let a group connect). */
export async function setUnixSocketMode(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (error) {
    throw new ListenError(
      `Cannot set mode ${mode.toString(8)} on unix:${path}: ${(error as Error).message}`,
    );
  }
}

function isAccepting(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    // ECONNREFUSED: a stale socket file, nobody accepts.
    probe.once("error", () => resolve(false));
  });
}
