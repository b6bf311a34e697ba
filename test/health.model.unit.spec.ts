import { describe, expect, it } from '@jest/globals';
import {
  evaluateHealth,
  HealthEnv,
  HealthInputs,
  STATUSES,
  workerState,
} from '../src/health/health.model.js';
import { ACTION_STATUSES } from '../src/actions/actions.decider.js';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const tick = (ageSeconds: number, status = 'SUCCESS'): HealthInputs['lastTick'] => ({
  started_at: ago(ageSeconds + 1),
  finished_at: ago(ageSeconds),
  status,
  worker: 'w1',
  epoch: 3,
  notes: '',
});
const inputs = (over: Partial<HealthInputs> = {}): HealthInputs => ({
  now,
  lastTick: tick(5),
  lease: { owner: 'w1', epoch: 3, expires_at: new Date(now.getTime() + 20_000).toISOString() },
  flags: { paused: false, killed: false, proof_mode: true, version: 4 },
  ackVersion: 4,
  ackDelayMs: 12,
  counts: { pending: 2, success: 5 },
  lastEventSeq: 99,
  controlChangedAt: ago(60),
  ...over,
});
const env: HealthEnv = { production: false, dangerousUiOps: false, tokensConfigured: true };
const codes = (i: HealthInputs, e = env) => evaluateHealth(i, e).warnings.map((w) => w.code);

describe('worker state from the last tick (given / when / then)', () => {
  it.each([
    ['no tick ever', null, 'never'],
    ['a tick 59 s ago', tick(59), 'active'],
    ['a PAUSED tick 10 s ago', tick(10, 'PAUSED'), 'paused'],
    ['a tick 60 s ago', tick(60), 'slow'],
    ['a tick 300 s ago', tick(300), 'slow'],
    ['a tick 301 s ago', tick(301), 'dead'],
  ] as const)('given %s, then %s', (_n, t, state) => {
    expect(workerState(t, now).state).toBe(state);
  });
});

describe('health evaluation (given / when / then)', () => {
  it('given a healthy system, then no warnings, the lease valid, every status counted', () => {
    const r = evaluateHealth(inputs(), env);
    expect(r.warnings).toEqual([]);
    expect(r.lease).toMatchObject({ owner: 'w1', status: 'valid', ttl_seconds: 20 });
    expect(Object.keys(r.queue_counts).sort()).toEqual(
      [...ACTION_STATUSES.map((s) => s.toLowerCase()), 'succeeded'].sort(),
    );
    expect(r.queue_counts).toMatchObject({ pending: 2, success: 5, succeeded: 5, dlq: 0 });
    expect(STATUSES).toHaveLength(ACTION_STATUSES.length);
  });

  it('given a lease past its expiry, then LEASE_EXPIRED and a TTL shown as 0', () => {
    const i = inputs({ lease: { owner: 'w1', epoch: 3, expires_at: ago(7) } });
    expect(codes(i)).toContain('LEASE_EXPIRED');
    expect(evaluateHealth(i, env).lease).toMatchObject({ status: 'expired', ttl_seconds: 0 });
  });

  it('given no tick for 400 s, then WORKER_DEAD; for 90 s WORKER_SLOW; never: WORKER_NEVER_RAN', () => {
    expect(codes(inputs({ lastTick: tick(400) }))).toContain('WORKER_DEAD');
    expect(codes(inputs({ lastTick: tick(90) }))).toContain('WORKER_SLOW');
    expect(codes(inputs({ lastTick: null }))).toContain('WORKER_NEVER_RAN');
  });

  it('given a change unacknowledged for over 10 s with a live lease, then CONTROL_NOT_ACKNOWLEDGED', () => {
    expect(codes(inputs({ ackVersion: 3, controlChangedAt: ago(11) }))).toContain(
      'CONTROL_NOT_ACKNOWLEDGED',
    );
    expect(codes(inputs({ ackVersion: 3, controlChangedAt: ago(5) }))).toEqual([]);
    expect(codes(inputs({ ackVersion: 3, controlChangedAt: ago(11), lease: null }))).toEqual([]);
  });

  it('given production with proof off, dangerous UI ops and no tokens, then each is warned', () => {
    const prod = { production: true, dangerousUiOps: true, tokensConfigured: false };
    expect(
      codes(
        inputs({ flags: { paused: false, killed: false, proof_mode: false, version: 4 } }),
        prod,
      ),
    ).toEqual(['PROOF_MODE_OFF_IN_PRODUCTION', 'DANGEROUS_UI_OPS_ENABLED', 'NO_API_TOKENS']);
  });

  it('given kill set and unsigned checkpoints, then WORKER_KILLED and CHECKPOINTS_UNSIGNED', () => {
    const c = codes(
      inputs({ flags: { paused: false, killed: true, proof_mode: true, version: 4 } }),
      {
        ...env,
        checkpointsSigned: false,
      },
    );
    expect(c).toEqual(['CHECKPOINTS_UNSIGNED', 'WORKER_KILLED']);
  });
});
