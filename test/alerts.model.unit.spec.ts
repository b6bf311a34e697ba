import { describe, expect, it } from '@jest/globals';
import { AlertInputs, firingAlerts, transitions } from '../src/alerts/alerts.model.js';
import { evaluateHealth, HealthInputs } from '../src/health/health.model.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();

function inputs(over: Partial<HealthInputs> = {}): HealthInputs {
  return {
    now: NOW,
    lastTick: {
      started_at: ago(2),
      finished_at: ago(1),
      status: 'SUCCESS',
      worker: 'h:1',
      epoch: 1,
      notes: '',
    },
    lease: { owner: 'h:1', epoch: 1, expires_at: ago(-20) },
    flags: { paused: false, killed: false, proof_mode: true, version: 1 },
    ackVersion: 1,
    ackDelayMs: 1,
    counts: {},
    lastEventSeq: 10,
    controlChangedAt: ago(100),
    workers: [
      {
        id: 'h:1',
        status: 'active',
        alive: true,
        epoch: 1,
        last_seen_at_utc: ago(1),
        seen_age_seconds: 1,
      },
    ],
    ...over,
  };
}

function alertInputs(
  i: HealthInputs,
  over: Partial<AlertInputs> = {},
  production = false,
): AlertInputs {
  return {
    inputs: i,
    health: evaluateHealth(i, {
      production,
      dangerousUiOps: false,
      tokensConfigured: true,
      expectStandby: true,
    }),
    dlqGrowth: 0,
    verifyOk: true,
    lagEvents: 0,
    leaseTtlSeconds: 30,
    ...over,
  };
}

const names = (a: AlertInputs, since = new Map(), at = NOW.getTime()) =>
  firingAlerts(a, since, at)
    .map((c) => c.name)
    .sort();

describe('built-in alerts: the rules file’s conditions from health inputs', () => {
  it('healthy with a standby: nothing fires', () => {
    const i = inputs();
    const withStandby = inputs({
      workers: [
        ...i.workers!,
        {
          id: 'h:2',
          status: 'standby',
          alive: true,
          epoch: null,
          last_seen_at_utc: ago(1),
          seen_age_seconds: 1,
        },
      ],
    });
    expect(names(alertInputs(withStandby))).toEqual([]);
    expect(names(alertInputs(i))).toEqual(['AolNoStandby']);
  });

  it('worker down waits one lease TTL (a failover is no outage), and not when killed', () => {
    const dead = inputs({
      workers: [
        {
          id: 'h:1',
          status: 'dead',
          alive: false,
          epoch: 1,
          last_seen_at_utc: ago(40),
          seen_age_seconds: 40,
        },
      ],
    });
    const since = new Map();
    expect(names(alertInputs(dead), since)).toEqual([]);
    expect(names(alertInputs(dead), since, NOW.getTime() + 29_000)).toEqual([]);
    expect(names(alertInputs(dead), since, NOW.getTime() + 30_000)).toEqual(['AolWorkerDown']);
    const killed = inputs({ ...dead, flags: { ...dead.flags, killed: true } });
    expect(names(alertInputs(killed), new Map(), NOW.getTime() + 60_000)).toEqual([]);
  });

  it('slow, dead, unacknowledged, dlq, proof off in production, verify, lag', () => {
    const tick = (age: number) => ({ ...inputs().lastTick!, finished_at: ago(age) });
    expect(names(alertInputs(inputs({ lastTick: tick(70) })))).toContain('AolWorkerSlow');
    expect(names(alertInputs(inputs({ lastTick: tick(400) })))).toContain('AolWorkerDead');
    expect(names(alertInputs(inputs({ ackVersion: 0 })))).toContain('AolControlNotAcknowledged');
    expect(names(alertInputs(inputs(), { dlqGrowth: 2 }))).toContain('AolDlqGrowing');
    const off = inputs({ flags: { paused: false, killed: false, proof_mode: false, version: 1 } });
    expect(names(alertInputs(off, {}, true))).toContain('AolProofModeOffInProduction');
    expect(names(alertInputs(off, {}, false))).not.toContain('AolProofModeOffInProduction');
    expect(names(alertInputs(inputs(), { verifyOk: false }))).toContain('AolVerifyFailing');
    const since = new Map();
    expect(names(alertInputs(inputs(), { lagEvents: 500 }), since)).not.toContain(
      'AolProjectionLag',
    );
    expect(
      names(alertInputs(inputs(), { lagEvents: 500 }), since, NOW.getTime() + 300_000),
    ).toContain('AolProjectionLag');
  });

  it('transitions: fire what is not recorded as firing, resolve what stopped', () => {
    const firing = [
      { name: 'AolWorkerDown' as const, severity: 'critical' as const, summary: 's' },
    ];
    const recorded = new Map([
      ['AolWorkerDown', { firing: true, incident_id: 'a', version: 1 }],
      ['AolLeaseExpired', { firing: true, incident_id: 'b', version: 2 }],
      ['AolDlqGrowing', { firing: false, incident_id: 'c', version: 3 }],
    ]);
    expect(transitions(firing, recorded)).toEqual({ fire: [], resolve: ['AolLeaseExpired'] });
    expect(transitions(firing, new Map())).toEqual({ fire: firing, resolve: [] });
  });
});
