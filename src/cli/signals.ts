/** Signal handling shared by every long-running berth command. */

/** SIGINT/SIGTERM: graceful close, exit 0; a second signal exits at once (128 + signal number). */
export /** SIGINT/SIGTERM: graceful close, exit 0; a second signal exits at once. */
function waitForShutdown(server: { close(): Promise<void> }): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`berth: ${signal} again, exiting now\n`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      stopping = true;
      process.stderr.write(
        `berth: ${signal}, closing connections gracefully (send it again to exit now)\n`,
      );
      server.close().then(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        resolve(0);
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}
