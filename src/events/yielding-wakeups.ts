import { Observable, share } from 'rxjs';
import type { Wakeup } from './event-notifier.js';
import { FLAG_EVENT_TYPES } from './event.types.js';

export type YieldOptions = Readonly<{
  /** A burst of pointers is passed on this long after its first one (no control change pending). */
  windowMs: number;
  /** However long an acknowledgement takes (no worker running), a burst is passed on after this. */
  maxMs: number;
}>;

/** The API's defaults: 10 ms bursts; 100 ms at most waiting for a worker's acknowledgement. */
export const API_FOLLOW: YieldOptions = { windowMs: 10, maxMs: 100 };

/**
 * NOTIFY pointers for followers that are not on the control path (the API's
 * metrics and SSE relays), held back so that they re-read the log once per
 * burst and not while the worker reacts to a control change.
 *
 * Pointers are buffered and passed on together (synchronously, in order), so
 * a follower that defers its read by a tick makes one read for the lot:
 * - while a control change (FLAG_EVENT_TYPES) is waiting for its
 *   ControlAcknowledged, until that pointer arrives: the worker has then
 *   re-read and acknowledged, and the follower's read lands in the gap
 *   before the next change instead of on the worker's reaction;
 * - otherwise `windowMs` after the first pointer of the burst;
 * - in any case `maxMs` after the first (no worker is running to acknowledge);
 * - a reconnect (`null`: anything may have been missed) at once.
 * Nothing is dropped or reordered: the followers still re-read the table from
 * their last seq, and a pointer only says when.
 */
export function yieldingWakeups(source: Observable<Wakeup>, o: YieldOptions): Observable<Wakeup> {
  return new Observable<Wakeup>((out) => {
    let buffer: Wakeup[] = [];
    let awaitingAck = false;
    let windowTimer: NodeJS.Timeout | undefined;
    let maxTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(windowTimer);
      clearTimeout(maxTimer);
      windowTimer = maxTimer = undefined;
      awaitingAck = false;
      const b = buffer;
      buffer = [];
      for (const p of b) out.next(p);
    };
    const sub = source.subscribe({
      next: (p) => {
        buffer.push(p);
        if (p === null) return flush();
        if (p.stream === 'control' && p.type === 'ControlAcknowledged') return flush();
        if (p.stream === 'control' && FLAG_EVENT_TYPES.has(p.type)) {
          awaitingAck = true;
          clearTimeout(windowTimer);
          windowTimer = undefined;
        } else if (!awaitingAck && !windowTimer) {
          windowTimer = setTimeout(flush, o.windowMs);
        }
        maxTimer ??= setTimeout(flush, o.maxMs);
      },
      error: (e) => out.error(e),
      complete: () => {
        flush();
        out.complete();
      },
    });
    return () => {
      sub.unsubscribe();
      clearTimeout(windowTimer);
      clearTimeout(maxTimer);
    };
  }).pipe(share());
}
