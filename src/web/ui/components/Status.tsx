import type { Control, Health } from '../types';

const STATE_CLASS: Record<string, string> = {
  active: 'ok',
  paused: 'warn',
  slow: 'warn',
  dead: 'bad',
  never: 'bad',
};

function age(seconds: number | null, since: number): string {
  if (seconds === null) return 'never';
  const s = Math.max(0, Math.round(seconds + since));
  return s < 120 ? `${s} s ago` : `${Math.floor(s / 60)} min ${s % 60} s ago`;
}

/** Worker state with last tick age and lease TTL, both counting live between refreshes. */
export function Status({
  health,
  control,
  elapsed,
}: {
  health: Health;
  control: Control | null;
  elapsed: number;
}) {
  const l = health.lease;
  const ttl = l.ttl_seconds === null ? null : Math.max(0, l.ttl_seconds - elapsed);
  const ack = control ?? null;
  return (
    <section class="card status" aria-labelledby="status-h">
      <h2 id="status-h">Worker</h2>
      <p
        class={`badge ${health.flags.killed ? 'bad' : STATE_CLASS[health.worker_state]}`}
        data-testid="worker-state"
      >
        {health.flags.killed ? 'killed' : health.worker_state}
      </p>
      <dl>
        <dt>Last tick</dt>
        <dd data-testid="last-tick-age">
          {age(health.last_tick_age_seconds, elapsed)}{' '}
          {health.last_tick_status && <span class="muted">({health.last_tick_status})</span>}
        </dd>
        <dt>Lease</dt>
        <dd data-testid="lease">
          {l.status === 'none' ? (
            'none'
          ) : (
            <>
              <span class={l.status === 'valid' ? '' : 'bad-text'}>{l.owner}</span> · epoch{' '}
              {l.epoch} · <span data-testid="lease-ttl">TTL {ttl?.toFixed(0)} s</span>
              {l.status === 'expired' && <strong class="bad-text"> (expired)</strong>}
            </>
          )}
        </dd>
        <dt>Last change</dt>
        <dd data-testid="ack">
          {ack === null
            ? '—'
            : ack.acknowledged
              ? `v${ack.version} acknowledged by ${ack.acknowledgment?.worker ?? 'the worker'}${ack.acknowledgment?.delay_ms != null ? ` in ${ack.acknowledgment.delay_ms} ms` : ''}`
              : `v${ack.version} waiting for the worker to acknowledge…`}
        </dd>
      </dl>
      {health.warnings.length > 0 && (
        <ul class="warnings" aria-label="warnings">
          {health.warnings.map((w) => (
            <li key={w.code}>
              <strong>{w.code}</strong> {w.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
