/**
 * The floor of an express hook server: the same framework and body parser as the hook server
 * (express 5, `express.json` with the same body limit), a route for every path, and the same
 * bytes answered. Nothing else: no authentication, validation, poisoning check, hook or metrics.
 *
 * The answer is the hook server's own answer to the same request (BASELINE_RESPONSE_FILE), parsed
 * once at start and sent with `res.json` on every request, so it has the same size and shape.
 * Built by `tsc -p tsconfig.bench.json` and run with the same Node flags as the hook server.
 */
import { readFileSync } from "node:fs";
import express from "express";

const port = Number(process.env.PORT ?? "8081");
const responseFile = process.env.BASELINE_RESPONSE_FILE;
const answer: unknown = responseFile === undefined ? {} : JSON.parse(readFileSync(responseFile, "utf8"));

const app = express();
app.disable("x-powered-by");
app.set("etag", false);
app.get("/healthz", (_req, res) => {
  res.json({ status: "ok" });
});
app.post("/{*path}", express.json({ limit: Number(process.env.BODY_LIMIT_BYTES ?? 64 << 20), inflate: false }), (req, res) => {
  const request: unknown = req.body;
  if (typeof request !== "object" || request === null) {
    res.status(400).end();
    return;
  }
  res.json(answer);
});

// A request cut off when a measuring round ends: nothing to answer, and nothing to print.
// Express tells an error handler by its four parameters, the last unused here.
// eslint-disable-next-line @typescript-eslint/no-unused-vars
app.use((_error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(400).end();
});

const server = app.listen(port);
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
