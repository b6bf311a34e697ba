import { Observable } from 'rxjs';
import { EventStore } from './event-store.js';
import { EventNotifier } from './event-notifier.js';
import { StoredEvent } from './event.types.js';

export type SubscribeOptions = Readonly<{
  stream?: string;
  type?: string;
  /** Re-read even without a NOTIFY this often; a safety net, not the mechanism. */
  safetyIntervalMs?: number;
  pageSize?: number;
}>;

/**
 * Every event after `fromSeq`, in seq order, exactly once: first the backlog
 * from the table, then live. Live delivery is a re-read from the last seq seen
 * whenever the notifier wakes us, so a lost connection only delays events:
 * after the reconnect the catch-up read returns what was missed, and because
 * seq is assigned in commit order (see migrations/0001) nothing can appear
 * below a seq already read. A failed read is retried on the next wake-up.
 */
export function subscribeEvents(
  store: EventStore,
  notifier: EventNotifier,
  fromSeq: number,
  opts: SubscribeOptions = {},
): Observable<StoredEvent> {
  const pageSize = opts.pageSize ?? 1000;
  return new Observable<StoredEvent>((subscriber) => {
    let last = fromSeq;
    let running = false;
    let again = false;
    let closed = false;

    const drain = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
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
            if (batch.length < pageSize) break;
          }
        } while (again && !closed);
      } catch {
        // Database unreachable: keep `last`; the reconnect wake-up or the safety timer retries.
      } finally {
        running = false;
      }
    };

    const wake = notifier.wakeups$.subscribe((p) => {
      if (p === null) void drain();
      else if (
        p.seq > last &&
        (!opts.stream || p.stream === opts.stream) &&
        (!opts.type || p.type === opts.type)
      ) {
        void drain();
      }
    });
    const timer = setInterval(() => void drain(), opts.safetyIntervalMs ?? 5000);
    void drain();
    return () => {
      closed = true;
      wake.unsubscribe();
      clearInterval(timer);
    };
  });
}
