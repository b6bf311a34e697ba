import { createServer, IncomingMessage, Server } from 'node:http';
import { freePort } from '../../src/db/embedded.js';

export type Delivery = {
  method: string;
  path: string;
  key: string | undefined;
  body: string;
  /** When the request arrived. */
  at: number;
  authorization?: string;
  /** The status it was answered with, and when (after any hold); unset until answered. */
  status?: number;
  answeredAt?: number;
};

export type Reply = { status: number; holdMs?: number; body?: string };

/**
 * The one local webhook receiver of the tests and the chaos suite: it records
 * every request and applies the effect of each Idempotency-Key at most once,
 * as a well-made receiver does. `respond` picks the status (default 200), the
 * body and how long to hold the answer, per request; `n` counts the requests
 * so far with this request's key (1 for its first).
 */
export class WebhookReceiver {
  readonly requests: Delivery[] = [];
  readonly effects = new Map<string, number>();
  /** Successful requests that repeated an applied key (deduplicated, not applied again). */
  readonly repeats = new Map<string, number>();
  respond: (req: IncomingMessage, n: number, keyCount: number) => Reply = () => ({
    status: 200,
  });
  private readonly perKey = new Map<string, number>();
  private server: Server | undefined;
  url = '';

  /** Listen on `port` (default: a free one) on 127.0.0.1. */
  async start(port?: number): Promise<this> {
    const listenOn = port ?? (await freePort());
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      // a worker SIGKILLed mid-request resets the connection
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      req.on('end', () => {
        const key = req.headers['idempotency-key'] as string | undefined;
        const d: Delivery = {
          method: req.method!,
          path: req.url!,
          key,
          body,
          at: Date.now(),
          authorization: req.headers.authorization,
        };
        this.requests.push(d);
        const keyCount = (this.perKey.get(key ?? '') ?? 0) + 1;
        this.perKey.set(key ?? '', keyCount);
        const { status, holdMs, body: reply } = this.respond(req, this.requests.length, keyCount);
        const finish = () => {
          // A well-made receiver applies a key's effect once and acknowledges repeats without applying them.
          if (status >= 200 && status < 300 && key) {
            if (this.effects.has(key)) this.repeats.set(key, (this.repeats.get(key) ?? 0) + 1);
            else this.effects.set(key, 1);
          }
          d.status = status;
          d.answeredAt = Date.now();
          res.writeHead(status, { 'content-type': reply ? 'application/json' : 'text/plain' });
          res.end(reply ?? (status < 300 ? 'ok' : `status ${status}`));
        };
        if (holdMs) setTimeout(finish, holdMs).unref();
        else finish();
      });
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((r) => this.server!.listen(listenOn, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${listenOn}`;
    return this;
  }

  byKey(key: string): Delivery[] {
    return this.requests.filter((d) => d.key === key);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
