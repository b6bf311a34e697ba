import { Observable } from 'rxjs';
import type { EventPointer, Wakeup } from './event-notifier.js';
import { EventStore } from './event-store.js';
import { StoredEvent } from './event.types.js';

export type SubscribeOptions = Readonly<{
  stream?: string;
  type?: string;
  /** Re-read even without a NOTIFY this often; a safety net, not the mechanism. */
  safetyIntervalMs?: number;
  pageSize?: number;
  /**
   * Coalesce NOTIFYs: a wake-up starts a re-read only this long after it (0:
   * after one setImmediate yield), and the NOTIFYs arriving meanwhile (or
   * during the read) share that one read. For followers that are not on the
   * control path (the API's metrics), so the worker's own re-read and
   * acknowledgement of a change do not share the CPU with theirs. Absent: read
   * at once (the worker).
   */
  coalesceMs?: number;
  /** Which pointers (of the stream/type) are worth a re-read; default all. The read still returns every event. */
  wakeFor?: (p: EventPointer) => boolean;
}>;

/**
 * Every event after `fromSeq`, in seq order, exactly once: first the backlog
 * from the table, then live. Live delivery is a re-read from the last seq seen
 * whenever the notifier wakes us, so a lost connection only delays events:
 * after the reconnect the catch-up read returns what was missed, and because
 * seq is assigned in commit order (see migrations/0001) nothing can appear
 * below a seq already read. A failed read is retried on the next wake-up.
 * Never more than one read in flight; a wake-up during a read makes exactly
 * one more (after the coalescing window, when there is one).
 */
export function subscribeEvents(
  store: Pick<EventStore, 'read'>,
  notifier: Readonly<{ wakeups$: Observable<Wakeup> }>,
  fromSeq: number,
  opts: SubscribeOptions = {},
): Observable<StoredEvent> {
  const pageSize = opts.pageSize ?? 1000;
  const coalesceMs = opts.coalesceMs;
  return new Observable<StoredEvent>((subscriber) => {
    let last = fromSeq;
    let running = false;
    let again = false;
    let closed = false;
    let scheduled: NodeJS.Timeout | NodeJS.Immediate | undefined;

    const read = async (): Promise<void> => {
      for (;;) {
        const batch = await store.read({
          after: last,
          limit: pageSize,
          stream: opts.stream,
          type: opts.type,
        });
        for (const e of batch) {
          if (closed) return;
          last = e.seq;
          subscriber.next(e);
        }
        if (batch.length < pageSize) return;
      }
    };

    const drain = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          await read();
          if (again && coalesceMs !== undefined && !closed) {
            // the wake-ups during this read wait out their window too, then share one read
            running = false;
            schedule();
            return;
          }
        } while (again && !closed);
      } catch {
        // Database unreachable: keep `last`; the reconnect wake-up or the safety timer retries.
      } finally {
        running = false;
      }
    };

    /** A wake-up: read now, or (coalescing) once after the window, however many arrive in it. */
    const schedule = (): void => {
      if (closed) return;
      if (coalesceMs === undefined) return void drain();
      if (running) {
        again = true;
        return;
      }
      if (scheduled) return;
      const go = () => {
        scheduled = undefined;
        void drain();
      };
      scheduled = coalesceMs > 0 ? setTimeout(go, coalesceMs) : setImmediate(go);
    };

    const wake = notifier.wakeups$.subscribe((p) => {
      if (p === null) schedule();
      else if (
        p.seq > last &&
        (!opts.stream || p.stream === opts.stream) &&
        (!opts.type || p.type === opts.type) &&
        (!opts.wakeFor || opts.wakeFor(p))
      ) {
        schedule();
      }
    });
    const timer = setInterval(() => void drain(), opts.safetyIntervalMs ?? 5000);
    void drain();
    return () => {
      closed = true;
      wake.unsubscribe();
      clearInterval(timer);
      if (scheduled) {
        clearTimeout(scheduled as NodeJS.Timeout);
        clearImmediate(scheduled as NodeJS.Immediate);
      }
    };
  });
}
