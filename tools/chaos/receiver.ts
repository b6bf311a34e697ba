import { WebhookReceiver } from '../support/webhook-receiver.js';

export type Delivery = Readonly<{ key: string; path: string; at: number; status: number }>;

/**
 * The chaos suite's webhook receiver: the shared one (tools/support), told to
 * answer by path. `/ok/…` answers 200, `/flaky<N>/…` 503 for the first N
 * requests of a key then 200, `/perm/…` 404. Each answer is held 10–150 ms so
 * kills and stalls land mid-request. It records; the invariants decide.
 */
export class ChaosReceiver {
  private readonly receiver = new WebhookReceiver();

  constructor() {
    this.receiver.respond = (req, _n, keyCount) => {
      const path = req.url ?? '/';
      const flaky = /^\/flaky(\d)/.exec(path);
      const status = path.startsWith('/perm')
        ? 404
        : flaky && keyCount <= Number(flaky[1])
          ? 503
          : 200;
      return { status, holdMs: 10 + Math.floor(Math.random() * 140) };
    };
  }

  get url(): string {
    return this.receiver.url;
  }

  /** The answered requests, in the order they were answered. */
  get deliveries(): Delivery[] {
    return this.receiver.requests
      .filter((d) => d.answeredAt !== undefined)
      .sort((a, b) => a.answeredAt! - b.answeredAt!)
      .map((d) => ({ key: d.key ?? '', path: d.path, at: d.answeredAt!, status: d.status! }));
  }

  async start(port: number): Promise<void> {
    await this.receiver.start(port);
  }

  stop(): Promise<void> {
    return this.receiver.stop();
  }
}
