import { useState } from 'preact/hooks';
import type { AolEvent } from '../types';

const STREAMS = ['all', 'control', 'lease', 'tick', 'action'];

/** The audit log, streaming in through SSE, filterable by stream. */
export function AuditLog({ events }: { events: AolEvent[] }) {
  const [stream, setStream] = useState('all');
  const shown = events
    .filter(
      (e) =>
        stream === 'all' ||
        (stream === 'action' ? e.stream.startsWith('action:') : e.stream === stream),
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
