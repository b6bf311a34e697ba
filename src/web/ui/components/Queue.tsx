import { useState } from 'preact/hooks';
import { api, apiText } from '../api';
import { roleBlock } from '../roles';
import type { Action, Health, LogLine, Me } from '../types';
import type { Ask } from './ReasonDialog';

const ORDER = ['pending', 'running', 'retry', 'success', 'failed', 'dlq', 'unknown', 'cancelled'];

export function QueueCounts({ health }: { health: Health }) {
  return (
    <section class="card" aria-labelledby="queue-h">
      <h2 id="queue-h">Action queue</h2>
      <ul class="counts">
        {ORDER.map((s) => (
          <li
            key={s}
            data-testid={`count-${s}`}
            class={(s === 'dlq' || s === 'unknown') && health.queue_counts[s] > 0 ? 'warn' : ''}
          >
            <span>{s}</span>
            <strong>{health.queue_counts[s] ?? 0}</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}

type DlqProps = {
  dlq: Action[];
  me: Me | null;
  down: boolean;
  ask: (a: Ask) => void;
  after: () => void;
};

/** The DLQ with retry/cancel per row and for all. */
export function DlqTable({ dlq, me, down, ask, after }: DlqProps) {
  const why = down ? 'the backend is unreachable: read-only' : roleBlock(me, 'operator');
  const act = async (path: string) => {
    await api(path, { method: 'POST', body: {} });
    after();
  };
  return (
    <section class="card wide" aria-labelledby="dlq-h">
      <h2 id="dlq-h">Dead-letter queue ({dlq.length})</h2>
      {dlq.length === 0 ? (
        <p class="muted">empty</p>
      ) : (
        <>
          <div class="buttons">
            <button
              type="button"
              disabled={!!why}
              title={why ?? 'requeue every DLQ action'}
              onClick={() =>
                ask({
                  title: 'Retry all',
                  run: async (reason) => {
                    await api('/dlq/retry', { method: 'POST', body: { reason } });
                    after();
                  },
                })
              }
            >
              Retry all
            </button>
            <button
              type="button"
              disabled={!!why}
              title={why ?? 'cancel every DLQ action'}
              onClick={() =>
                ask({
                  title: 'Cancel all',
                  danger: true,
                  run: async (reason) => {
                    await api('/dlq/cancel', { method: 'POST', body: { reason } });
                    after();
                  },
                })
              }
            >
              Cancel all
            </button>
          </div>
          <div class="scroll">
            <table data-testid="dlq-table">
              <thead>
                <tr>
                  <th>ID</th>
                  <th>Type</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                  <th>
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {dlq.map((a) => (
                  <tr key={a.id} data-testid={`dlq-row-${a.id}`}>
                    <td>{a.id}</td>
                    <td>{a.action_type}</td>
                    <td>{a.attempts}</td>
                    <td class="err">{a.last_error}</td>
                    <td class="nowrap">
                      <button
                        type="button"
                        disabled={!!why}
                        title={why ?? `retry action ${a.id}`}
                        aria-label={`Retry action ${a.id}`}
                        onClick={() => void act(`/actions/${a.id}/retry`)}
                      >
                        Retry
                      </button>{' '}
                      <button
                        type="button"
                        disabled={!!why}
                        title={why ?? `cancel action ${a.id}`}
                        aria-label={`Cancel action ${a.id}`}
                        onClick={() => void act(`/actions/${a.id}/cancel`)}
                      >
                        Cancel
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

/** Recent actions; a row opens its execution log and its proof artifact. */
export function RecentActions({ actions }: { actions: Action[] }) {
  const [open, setOpen] = useState<number | null>(null);
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [artifact, setArtifact] = useState<string | null>(null);
  const toggle = async (id: number) => {
    if (open === id) return setOpen(null);
    setOpen(id);
    setArtifact(null);
    const a = await api<{ logs: LogLine[] }>(`/actions/${id}`).catch(() => ({ logs: [] }));
    setLogs(a.logs);
  };
  const showArtifact = async (id: number) => {
    const r = await apiText(`/actions/${id}/artifact`).catch((e: Error) => ({
      text: e.message,
      type: '',
    }));
    setArtifact(r.text);
  };
  return (
    <section class="card wide" aria-labelledby="recent-h">
      <h2 id="recent-h">Recent actions</h2>
      <div class="scroll">
        <table data-testid="recent-table">
          <thead>
            <tr>
              <th>ID</th>
              <th>Type</th>
              <th>Status</th>
              <th>Attempts</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <>
                <tr key={a.id}>
                  <td>
                    <button
                      type="button"
                      class="link"
                      aria-expanded={open === a.id}
                      onClick={() => void toggle(a.id)}
                    >
                      {a.id}
                    </button>
                  </td>
                  <td>{a.action_type}</td>
                  <td>
                    <span class={`status s-${a.status.toLowerCase()}`}>{a.status}</span>
                  </td>
                  <td>{a.attempts}</td>
                  <td>{new Date(a.created_at_utc).toLocaleTimeString()}</td>
                </tr>
                {open === a.id && (
                  <tr key={`${a.id}-logs`} class="logs">
                    <td colSpan={5}>
                      <ol>
                        {logs.map((l) => (
                          <li key={l.seq} class={`lvl-${l.level.toLowerCase()}`}>
                            <time>{new Date(l.ts_utc).toLocaleTimeString()}</time> {l.level}{' '}
                            {l.message}
                            {l.artifact_ref && (
                              <>
                                {' '}
                                <button
                                  type="button"
                                  class="link"
                                  onClick={() => void showArtifact(a.id)}
                                >
                                  proof artifact
                                </button>{' '}
                                <code title="SHA-256">{l.artifact_sha256?.slice(0, 12)}…</code>
                              </>
                            )}
                          </li>
                        ))}
                      </ol>
                      {artifact !== null && <pre class="artifact">{artifact}</pre>}
                    </td>
                  </tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
