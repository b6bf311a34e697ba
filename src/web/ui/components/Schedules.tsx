import type { Schedule } from '../types';

const SHOWN = 3;

/** Recurring schedules with their next fire times (database clock, shown in the browser's zone). */
export function Schedules({ schedules }: { schedules: Schedule[] }) {
  return (
    <section class="card wide" aria-labelledby="schedules-h">
      <h2 id="schedules-h">Schedules</h2>
      {schedules.length === 0 ? (
        <p class="muted">No schedules (aol schedules add, POST /schedules).</p>
      ) : (
        <div class="scroll">
          <table data-testid="schedules-table">
            <thead>
              <tr>
                <th>Schedule</th>
                <th>Cron</th>
                <th>Type</th>
                <th>Status</th>
                <th>Next fire times</th>
                <th>Fired</th>
                <th>Missed</th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.schedule_id} data-testid="schedule-row">
                  <td>
                    <code title={s.schedule_id}>{s.schedule_id.slice(0, 8)}</code>
                  </td>
                  <td>
                    <code>{s.cron}</code> {s.time_zone}
                  </td>
                  <td>{s.action_type}</td>
                  <td>
                    <span class={`status s-${s.status.toLowerCase()}`}>{s.status}</span>
                  </td>
                  <td data-testid="next-fires">
                    {s.next_fires.length === 0
                      ? '—'
                      : s.next_fires.slice(0, SHOWN).map((f) => (
                          <time key={f} dateTime={f} title={f}>
                            {new Date(f).toLocaleString()}{' '}
                          </time>
                        ))}
                  </td>
                  <td>{s.fired}</td>
                  <td>
                    {s.missed}
                    {s.missed_fires === 'catch_up' ? ` (catch up ≤ ${s.catch_up_max})` : ' (skip)'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
