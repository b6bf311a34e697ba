import { useState } from 'preact/hooks';
import type { AolEvent } from '../types';

const STREAMS = ['all', 'control', 'lease', 'tick', 'action'];

/**
 * A heartbeat says only "the worker is still there": a lease renewal (older
 * logs) or a tick that attempted no action. The same rule as the events API's
 * `heartbeats` filter (src/events/event-store.ts HEARTBEAT_SQL).
 */
export function isHeartbeat(e: AolEvent): boolean {
  return (
    e.type === 'LeaseRenewed' ||
    (e.type === 'TickRecorded' && Number(e.data.actions_attempted ?? 0) === 0)
  );
}

/**
 * The audit log, streaming in through SSE, filterable by stream: changes made
 * by people and the worker's decisions; heartbeats only on request.
 */
export function AuditLog({ events }: { events: AolEvent[] }) {
  const [stream, setStream] = useState('all');
  const [heartbeats, setHeartbeats] = useState(false);
  const shown = events
    .filter(
      (e) =>
        (heartbeats || !isHeartbeat(e)) &&
        (stream === 'all' ||
          (stream === 'action' ? e.stream.startsWith('action:') : e.stream === stream)),
    )
    .slice(-100)
    .reverse();
  return (
    <section class="card wide" aria-labelledby="audit-h">
      <h2 id="audit-h">Audit log</h2>
      <label>
        Stream{' '}
        <select
          value={stream}
          onChange={(e) => setStream((e.target as HTMLSelectElement).value)}
          data-testid="audit-filter"
        >
          {STREAMS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>{' '}
      <label>
        <input
          type="checkbox"
          checked={heartbeats}
          onChange={(e) => setHeartbeats((e.target as HTMLInputElement).checked)}
          data-testid="audit-heartbeats"
        />{' '}
        Show heartbeats (idle ticks, renewals)
      </label>
      <div class="scroll tall">
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th>seq</th>
              <th>Time</th>
              <th>Stream</th>
              <th>Event</th>
              <th>Actor</th>
              <th>Via</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td class="nowrap">{new Date(e.occurred_at).toLocaleTimeString()}</td>
                <td>{e.stream}</td>
                <td>{e.type}</td>
                <td>{e.metadata.actor}</td>
                <td>{e.metadata.via}</td>
                <td>{e.metadata.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
