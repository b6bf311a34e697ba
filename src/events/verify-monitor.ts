import { EventStore, VerifyResult } from './event-store.js';

export type VerifyStatus = VerifyResult & Readonly<{ finished_at: Date }>;

/**
 * Verifies the hash chain in the background every AOL_VERIFY_INTERVAL_SECONDS
 * (0: never), so /metrics (aol_events_verify_ok) and the built-in notifier can
 * tell when the log was tampered with. The whole chain each time: an
 * incremental check would miss an edit to an old event. A run that cannot
 * read the database leaves the last result standing.
 */
export class VerifyMonitor {
  last: VerifyStatus | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly intervalSeconds: number,
  ) {}

  get enabled(): boolean {
    return this.intervalSeconds > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    void this.run();
    this.timer = setInterval(() => void this.run(), this.intervalSeconds * 1000);
    this.timer.unref();
  }

  run(): Promise<void> {
    this.running ??= this.store
      .verify()
      .then((r) => {
        this.last = { ...r, finished_at: new Date() };
      })
      .catch(() => undefined)
      .finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
