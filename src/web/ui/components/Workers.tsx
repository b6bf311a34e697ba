import type { Health } from '../types';

const STATUS_CLASS: Record<string, string> = {
  active: 'ok',
  standby: 'ok',
  stopping: 'warn',
  dead: 'bad',
};

/**
 * Worker presence from /health/aol: every worker process (active, standby,
 * stopping) and those judged dead (no refresh within their TTL, database
 * time), so an operator sees whether a failover has somewhere to go.
 */
export function Workers({ health }: { health: Health }) {
  const workers = health.workers ?? [];
  return (
    <section class="card workers" aria-labelledby="workers-h">
      <h2 id="workers-h">
        Workers{' '}
        <span class="muted" data-testid="standbys">
          {health.standbys === null ? '' : `${health.standbys} standby`}
        </span>
      </h2>
      {workers.length === 0 ? (
        <p class="muted" data-testid="workers-empty">
          No worker process seen.
        </p>
      ) : (
        <table data-testid="workers">
          <thead>
            <tr>
              <th>Process</th>
              <th>Status</th>
              <th>Epoch</th>
              <th>Last seen</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={w.id} data-testid={`worker-${w.id}`}>
                <td>{w.id}</td>
                <td>
                  <span class={`badge ${STATUS_CLASS[w.status] ?? 'warn'}`}>{w.status}</span>
                </td>
                <td>{w.epoch ?? '—'}</td>
                <td>{w.seen_age_seconds} s ago</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
