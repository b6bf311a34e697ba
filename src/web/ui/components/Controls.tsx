import { api, config } from '../api';
import { roleBlock } from '../roles';
import type { Control, Health, Me } from '../types';
import type { Ask } from './ReasonDialog';

type Props = {
  health: Health;
  control: Control | null;
  me: Me | null;
  down: boolean;
  ask: (a: Ask) => void;
  after: () => void;
};

/** Flags with their controls. Proof off and force release exist only with AICMO_ENABLE_DANGEROUS_UI_OPS=1. */
export function Controls({ health, control, me, down, ask, after }: Props) {
  const f = health.flags;
  const button = (
    label: string,
    need: 'operator' | 'admin',
    unavailable: string | null,
    a: Ask,
    cls = '',
  ) => {
    const why = down
      ? 'the backend is unreachable: read-only'
      : (roleBlock(me, need) ?? unavailable);
    return (
      <button
        type="button"
        class={cls}
        disabled={!!why}
        title={why ?? a.title}
        aria-label={label}
        onClick={() => ask(a)}
      >
        {label}
      </button>
    );
  };
  const post = (path: string, body: object) => async (reason: string) => {
    await api(path, {
      method: path === '/control/proof-mode' ? 'PUT' : 'POST',
      body: { ...body, reason },
    });
    after();
  };
  const pending = control?.pending_request;
  return (
    <section class="card" aria-labelledby="flags-h">
      <h2 id="flags-h">Control flags</h2>
      <ul class="flags">
        <li data-testid="flag-paused" class={f.paused ? 'warn' : 'ok'}>
          paused: {String(f.paused)}
        </li>
        <li data-testid="flag-killed" class={f.killed ? 'bad' : 'ok'}>
          killed: {String(f.killed)}
        </li>
        <li data-testid="flag-proof" class={f.proof_mode ? 'ok' : 'warn'}>
          proof mode: {f.proof_mode ? 'on' : 'off (real actions)'}
        </li>
      </ul>
      <div class="buttons">
        {button('Pause', 'operator', f.paused ? 'already paused' : null, {
          title: 'Pause',
          run: post('/control/pause', {}),
        })}
        {button('Resume', 'operator', f.paused ? null : 'not paused', {
          title: 'Resume',
          run: post('/control/resume', {}),
        })}
        {button(
          'Kill',
          'operator',
          f.killed ? 'already killed' : null,
          {
            title: 'Kill',
            danger: true,
            confirm:
              'Stop the worker: it finishes the running action, releases the lease and exits',
            run: post('/control/kill', {}),
          },
          'btn-danger',
        )}
        {button('Revive', 'operator', f.killed ? null : 'not killed', {
          title: 'Revive',
          run: post('/control/revive', {}),
        })}
        {button('Proof on', 'operator', f.proof_mode ? 'proof mode is on' : null, {
          title: 'Proof on',
          run: post('/control/proof-mode', { enabled: true }),
        })}
        {config.dangerousUiOps &&
          button(
            'Proof off',
            'admin',
            f.proof_mode ? null : 'proof mode is off',
            {
              title: 'Proof off',
              danger: true,
              confirm: 'Actions will make real outbound calls',
              run: post('/control/proof-mode', { enabled: false }),
            },
            'btn-danger',
          )}
        {config.dangerousUiOps &&
          button(
            'Force-release lease',
            'admin',
            health.lease.status === 'none' ? 'nobody holds the lease' : null,
            {
              title: 'Force-release lease',
              danger: true,
              confirm: 'Only if the holder is confirmed dead',
              run: post('/lease/release', { force: true }),
            },
            'btn-danger',
          )}
      </div>
      {(control?.scoped_pauses ?? []).map((p) => (
        <div class="pending" role="status" data-testid="scoped-pause" key={p.pause_id}>
          Scoped pause: <strong>{p.action_types?.join(', ') ?? 'all action types'}</strong> held{' '}
          {p.until ? `until ${new Date(p.until).toLocaleTimeString()}` : 'until resumed'}
          {p.reason ? ` (“${p.reason}”, ${p.started_by})` : ` (${p.started_by})`}.
          {button('End pause', 'operator', null, {
            title: 'End scoped pause',
            run: post('/control/resume', { pause_id: p.pause_id }),
          })}
        </div>
      ))}
      {pending && (
        <div class="pending" role="status" data-testid="pending-request">
          Proof-off requested by <strong>{pending.requested_by}</strong>
          {pending.reason ? ` (“${pending.reason}”)` : ''}, expires{' '}
          {new Date(pending.expires_at).toLocaleTimeString()}.
          {config.dangerousUiOps &&
            button(
              'Approve',
              'admin',
              me?.name === pending.requested_by ? 'four-eyes: the requester cannot approve' : null,
              {
                title: 'Approve proof off',
                danger: true,
                run: async (reason) => {
                  await api(`/control/proof-mode/approve/${pending.request_id}`, {
                    method: 'POST',
                    body: { reason },
                  });
                  after();
                },
              },
              'btn-danger',
            )}
        </div>
      )}
    </section>
  );
}
