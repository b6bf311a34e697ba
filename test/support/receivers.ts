import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/db/embedded.js';

/** The webhook receiver is shared with the chaos suite (tools/support/webhook-receiver.ts). */
export { WebhookReceiver, type Delivery } from '../../tools/support/webhook-receiver.js';

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
