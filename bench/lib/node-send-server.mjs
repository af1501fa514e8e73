// The Node baseline of issue #8: node:http with `send`, the file sender under express.static
// and serve-static, with nothing else in the way. Usage: node node-send-server.mjs ROOT PORT
import { createServer } from "node:http";
import send from "send";

const [root, port] = process.argv.slice(2);
if (root === undefined || port === undefined) {
  process.stderr.write("usage: node node-send-server.mjs ROOT PORT\n");
  process.exit(2);
}

const server = createServer((req, res) => {
  const pathname = req.url.split("?", 1)[0];
  send(req, pathname, { root }).pipe(res);
});
// The benchmark holds idle keep-alive connections for minutes, as it does with every peer.
server.keepAliveTimeout = 600_000;
server.listen(Number(port), "127.0.0.1");
