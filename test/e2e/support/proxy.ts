/**
 * Several hook servers behind one address, as a Service spreads Metacontroller's calls over the
 * hook Deployment's replicas. It takes turns per request, not per connection: stricter than
 * kube-proxy (whose turns are per connection, and whose `sessionAffinity: ClientIP` keeps one
 * replica while it is up), so syncs of the same parent land on different replicas as often as
 * they can. A replica that refuses the connection (stopped, restarting) is skipped, as a Service
 * drops a pod that is not ready.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export class RoundRobinProxy {
  private server: Server | undefined;
  private turn = 0;
  /** Requests each backend answered, by port. */
  readonly answered = new Map<number, number>();

  constructor(
    private readonly port: number,
    private readonly backends: readonly number[],
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void readAll(req).then(async (body) => {
        for (let tried = 0; tried < this.backends.length; tried++) {
          const port = this.backends[this.turn++ % this.backends.length] ?? 0;
          const answer = await forward(port, req, body).catch(() => undefined);
          if (answer === undefined) continue;
          this.answered.set(port, (this.answered.get(port) ?? 0) + 1);
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          return;
        }
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "no hook server answered" }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => { resolve(Buffer.concat(chunks)); });
    stream.on("error", reject);
  });
}

/** One request to one backend; rejects when it cannot be reached. */
function forward(port: number, req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: `127.0.0.1:${port}`, "content-length": String(body.length) };
    const out = request({ host: "127.0.0.1", port, method: req.method, path: req.url, headers }, (answer) => {
      void readAll(answer).then((data) => {
        const kept: Record<string, string | string[]> = {};
        for (const [key, value] of Object.entries(answer.headers)) {
          if (value !== undefined && key !== "connection" && key !== "keep-alive" && key !== "transfer-encoding") kept[key] = value;
        }
        resolve({ status: answer.statusCode ?? 502, headers: kept, body: data });
      }, reject);
    });
    out.on("error", reject);
    out.end(body);
  });
}
