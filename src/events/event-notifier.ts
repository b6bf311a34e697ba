import pgListen from 'pg-listen';
import type { Subscriber } from 'pg-listen';
import { Observable, Subject } from 'rxjs';
import { API_FOLLOW, yieldingWakeups } from './yielding-wakeups.js';

export const EVENTS_CHANNEL = 'aol_events';

/** What a NOTIFY carries: where the event is, never its content. */
export type EventPointer = Readonly<{ stream: string; seq: number; type: string; version: number }>;
/** A pointer from NOTIFY, or `null` after (re)connecting: "re-read, you may have missed some". */
export type Wakeup = EventPointer | null;

type CreateSubscriber = (config: { connectionString: string }, opts: object) => Subscriber;
const createSubscriber: CreateSubscriber =
  (pgListen as unknown as { default?: CreateSubscriber }).default ??
  (pgListen as unknown as CreateSubscriber);

/**
 * Reconnect delay for attempt n: 100 ms × 2^(n−1), capped at 10 s, jittered
 * ×[0.5, 1.5) so a fleet of processes doesn't reconnect in lock-step after a
 * database restart. Typical sequence: ~100, 200, 400, 800 … 10000 ms.
 */
export function reconnectDelayMs(attempt: number, random = Math.random): number {
  return Math.round(Math.min(10_000, 100 * 2 ** (attempt - 1)) * (0.5 + random()));
}

/**
 * The process's one LISTEN connection. A NOTIFY is only a latency hint:
 * consumers always re-read aol_events from their last seq, and on every
 * (re)connect they are woken with `null` to catch up on what they may have
 * missed while the connection was down.
 */
export class EventNotifier {
  readonly wakeups$ = new Subject<Wakeup>();
  /**
   * The same pointers, held back for followers off the control path (the
   * API's metrics and SSE relays): per burst, and after the worker's
   * acknowledgement of a control change (yielding-wakeups.ts).
   */
  readonly followed$: Observable<Wakeup> = yieldingWakeups(this.wakeups$, API_FOLLOW);
  readonly status$ = new Subject<'connected' | 'reconnecting'>();
  /**
   * How far this process's live view has got: the highest seq a NOTIFY has
   * pointed at, or the head of the log when LISTEN last (re)connected (the
   * subscribers re-read the table then, so what committed while the
   * connection was down is seen). /health/aol's lag.subscription_events is the
   * head minus this; without `readHead` it counts from 0 until a NOTIFY comes.
   */
  lastSeq = 0;
  private subscriber: Subscriber | undefined;

  constructor(
    private readonly url: string,
    private readonly readHead?: () => Promise<number>,
  ) {}

  private seen(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
  }

  private catchUp(): Promise<void> {
    return this.readHead
      ? this.readHead().then(
          (h) => this.seen(h),
          () => undefined, // the database is down again: the next (re)connect reads it
        )
      : Promise.resolve();
  }

  async start(): Promise<void> {
    const sub = createSubscriber(
      { connectionString: this.url },
      {
        retryInterval: reconnectDelayMs,
        retryLimit: Infinity,
        retryTimeout: Infinity,
        paranoidChecking: 10_000,
      },
    );
    sub.notifications.on(EVENTS_CHANNEL, (payload: EventPointer) => {
      this.seen(payload.seq);
      this.wakeups$.next(payload);
    });
    sub.events.on('connected', () => {
      this.status$.next('connected');
      void this.catchUp();
      this.wakeups$.next(null);
    });
    sub.events.on('reconnect', () => this.status$.next('reconnecting'));
    // pg-listen reports errors it has already handled by reconnecting.
    sub.events.on('error', () => this.status$.next('reconnecting'));
    this.subscriber = sub;
    await sub.connect();
    await sub.listenTo(EVENTS_CHANNEL);
    await this.catchUp();
    this.wakeups$.next(null);
  }

  async stop(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    this.wakeups$.complete();
    this.status$.complete();
    if (sub) await sub.close().catch(() => undefined);
  }
}
