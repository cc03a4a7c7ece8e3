/**
 * The floor of any Node.js hook server: read the request body, JSON.parse it, JSON.stringify an
 * answer of the same size and write it. Nothing else: no routing, no validation, no hook.
 *
 * The answer is the hook server's own answer to the same request (BASELINE_RESPONSE_FILE), parsed
 * once at start and stringified again on every request, so it has the same size and shape.
 * Built by `tsc -p tsconfig.bench.json` and run with the same Node flags as the hook server.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? "8081");
const responseFile = process.env.BASELINE_RESPONSE_FILE;
const answer: unknown = responseFile === undefined ? {} : JSON.parse(readFileSync(responseFile, "utf8"));

const server = createServer((req, res) => {
  if (req.method === "GET") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const request: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (typeof request !== "object" || request === null) {
      res.writeHead(400).end();
      return;
    }
    const text = JSON.stringify(answer);
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});

server.listen(port);
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
