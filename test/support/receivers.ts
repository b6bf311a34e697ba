import { createServer, IncomingMessage, Server } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/db/embedded.js';

export type Delivery = {
  method: string;
  path: string;
  key: string | undefined;
  body: string;
  at: number;
  authorization?: string;
};

/**
 * A local webhook receiver that behaves like a well-made one: it records every
 * request, and applies the effect of each Idempotency-Key at most once.
 * `respond` picks the status (default 200) and body per request; `holdMs` delays it.
 */
export class WebhookReceiver {
  readonly requests: Delivery[] = [];
  readonly effects = new Map<string, number>();
  /** Successful requests that repeated an applied key (deduplicated, not applied again). */
  readonly repeats = new Map<string, number>();
  respond: (req: IncomingMessage, n: number) => { status: number; holdMs?: number; body?: string } =
    () => ({
      status: 200,
    });
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    const port = await freePort();
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
        const { status, holdMs, body: reply } = this.respond(req, this.requests.length);
        const finish = () => {
          // A well-made receiver applies a key's effect once and acknowledges repeats without applying them.
          if (status >= 200 && status < 300 && key) {
            if (this.effects.has(key)) this.repeats.set(key, (this.repeats.get(key) ?? 0) + 1);
            else this.effects.set(key, 1);
          }
          res.writeHead(status, { 'content-type': reply ? 'application/json' : 'text/plain' });
          res.end(reply ?? (status < 300 ? 'ok' : `status ${status}`));
        };
        if (holdMs) setTimeout(finish, holdMs).unref();
        else finish();
      });
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${port}`;
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

export type Mail = { from: string; to: string[]; data: string };

/** A local SMTP server (smtp-server). `hold` keeps a message's DATA unanswered until released. */
export class SmtpReceiver {
  readonly mails: Mail[] = [];
  readonly started: string[] = [];
  hold = false;
  private server: SMTPServer | undefined;
  url = '';

  async start(): Promise<this> {
    const port = await freePort();
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData: (stream, session, callback) => {
        let data = '';
        this.started.push(session.id);
        stream.on('data', (d: Buffer) => (data += d.toString()));
        stream.on('end', () => {
          if (this.hold) return; // never answer: the sender waits
          this.mails.push({
            from: String(session.envelope.mailFrom && session.envelope.mailFrom.address),
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    // A sender SIGKILLed mid-message resets the connection: expected here, not a test failure.
    this.server.on('error', () => undefined);
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `smtp://127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}
