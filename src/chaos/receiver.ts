import { createServer, Server } from 'node:http';

export type Delivery = Readonly<{ key: string; path: string; at: number; status: number }>;

/**
 * The chaos suite's webhook receiver: it records every request it answers.
 * `/ok/…` answers 200, `/flaky<N>/…` 503 for the first N requests of a key
 * then 200, `/perm/…` 404. Each answer is held 10–150 ms so kills and stalls
 * land mid-request. It records; it does not deduplicate — the invariants decide.
 */
export class ChaosReceiver {
  readonly deliveries: Delivery[] = [];
  private readonly seen = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  async start(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      req.resume();
      req.on('end', () => {
        const key = String(req.headers['idempotency-key'] ?? '');
        const n = (this.seen.get(key) ?? 0) + 1;
        this.seen.set(key, n);
        const path = req.url ?? '/';
        const flaky = /^\/flaky(\d)/.exec(path);
        const status = path.startsWith('/perm') ? 404 : flaky && n <= Number(flaky[1]) ? 503 : 200;
        setTimeout(
          () => {
            this.deliveries.push({ key, path, at: Date.now(), status });
            res.writeHead(status);
            res.end(status === 200 ? 'ok' : 'no');
          },
          10 + Math.floor(Math.random() * 140),
        ).unref();
      });
    });
    this.server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
