import type { Subscription } from 'rxjs';
import type { EventNotifier, Wakeup } from './event-notifier.js';

export type LogJobOptions = Readonly<{
  /** The work; it decides again under its own locks whether anything is due. */
  run: () => Promise<unknown>;
  /** Whether a NOTIFY pointer (null: reconnected, anything may have happened) warrants a run. */
  due: (p: Wakeup) => boolean;
  /** The timer's period: a run at least this often, whatever NOTIFY says. */
  everyMs: number;
  /** After a failed run, the next one this much later (the next NOTIFY may never come). */
  retryMs: number;
  onError: (err: Error) => void;
}>;

/**
 * A background job that follows the log: woken by the events NOTIFY (when
 * `due`) and by a timer, one run at a time, and a wake-up during a run makes
 * exactly one more run after it. The checkpointer and the snapshotter are
 * two of these.
 */
export class LogJob {
  private timer: NodeJS.Timeout | undefined;
  private sub: Subscription | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private ended = false;

  constructor(private readonly o: LogJobOptions) {}

  /** Whether stop() was called: a long run checks it between steps. */
  get stopped(): boolean {
    return this.ended;
  }

  start(notifier?: EventNotifier): void {
    this.timer = setInterval(() => this.poke(), this.o.everyMs);
    this.timer.unref();
    this.sub = notifier?.wakeups$.subscribe((p) => {
      if (this.o.due(p)) this.poke();
    });
    this.poke();
  }

  async stop(): Promise<void> {
    this.ended = true;
    clearInterval(this.timer);
    this.sub?.unsubscribe();
    await this.running;
  }

  /** Run now, or once more after the running one. */
  poke(): void {
    if (this.ended) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.o
      .run()
      .then(() => undefined)
      .catch((err: Error) => {
        this.o.onError(err);
        setTimeout(() => this.poke(), this.o.retryMs).unref();
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }
}
