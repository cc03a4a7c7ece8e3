/**
 * Several hook servers behind one address, as a Service spreads Metacontroller's calls over the
 * hook Deployment's replicas. It takes turns per request, not per connection: stricter than
 * kube-proxy (whose turns are per connection, and whose `sessionAffinity: ClientIP` keeps one
 * replica while it is up), so syncs of the same parent land on different replicas as often as
 * they can. A replica that refuses the connection (stopped, restarting) is skipped, as a Service
 * drops a pod that is not ready.
 *
 * With `mirror`, each Sandbox sync is also sent, a moment after its answer, to the next replica,
 * whose answer is dropped: what Metacontroller does when it syncs a Sandbox again from a cache
 * that has not yet seen the status the first sync wrote, landing on another replica. It makes
 * that case happen on every sync instead of now and then.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";

export class RoundRobinProxy {
  private server: Server | undefined;
  private turn = 0;
  /** Requests each backend answered, by port. */
  readonly answered = new Map<number, number>();

  /** Mirrored syncs the other replica answered. */
  mirrored = 0;
  private readonly mirrors = new Set<Promise<void>>();

  constructor(
    private readonly port: number,
    private readonly backends: readonly number[],
    private readonly options: { mirror?: boolean } = {},
  ) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const answer = async (body: Buffer) => {
        for (let tried = 0; tried < this.backends.length; tried++) {
          const index = this.turn++ % this.backends.length;
          const port = this.backends[index] ?? 0;
          const answer = await forward(port, req, body).catch(() => undefined);
          if (answer === undefined) continue;
          this.answered.set(port, (this.answered.get(port) ?? 0) + 1);
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
          if (this.options.mirror === true && req.url === "/sandbox/sync") this.mirror(this.backends[(index + 1) % this.backends.length] ?? 0, req, body);
          return;
        }
        res.writeHead(502, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "no hook server answered" }));
      };
      readAll(req).then(answer, () => {
        res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  /** The same sync to another replica, 200 ms later (the first one's claim is in the API server's watch cache by then); its answer is dropped. */
  private mirror(port: number, req: IncomingMessage, body: Buffer): void {
    const sent = new Promise((resolve) => setTimeout(resolve, 200))
      .then(() => forward(port, req, body))
      .then(
        (answer) => {
          if (answer.status === 200) this.mirrored++;
        },
        () => undefined,
      )
      .finally(() => this.mirrors.delete(sent));
    this.mirrors.add(sent);
  }

  async stop(): Promise<void> {
    await Promise.all(this.mirrors);
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
    const { "transfer-encoding": _chunked, ...rest } = req.headers;
    const headers = { ...rest, host: `127.0.0.1:${port}`, "content-length": String(body.length) };
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
