import { Gauge } from 'prom-client';
import type { HealthInputs, HealthReport } from '../health/health.model.js';
import type { VerifyStatus } from '../events/verify-monitor.js';

const WORKER_STATES = ['active', 'standby', 'stopping', 'dead'] as const;

const gauge = (name: string, help: string, labelNames: string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [] });

/**
 * The level gauges, read from the read models at scrape time (one health read
 * per scrape). Their names are what deploy/prometheus/aol.rules.yml and
 * deploy/grafana/aol.json use; test/alerting.e2e.spec.ts checks every name
 * those files use is exported here. Booleans are 0/1 gauges, ages in seconds.
 */
export function levelGauges(verifyEnabled: boolean) {
  const g = {
    queue: gauge('aol_queue_depth', 'Actions by status (projected counters)', ['status']),
    leaseHeld: gauge('aol_lease_held', '1 when a live lease is held'),
    leaseExpired: gauge(
      'aol_lease_expired',
      '1 when the lease row has expired: its holder died without releasing it',
    ),
    leaseEpoch: gauge('aol_lease_epoch', 'Fencing epoch of the current lease (0: none)'),
    tickAge: gauge('aol_last_tick_age_seconds', 'Age of the last recorded tick (-1: never)'),
    lag: gauge('aol_subscriber_lag_events', 'Events in the log this process has not yet observed'),
    head: gauge('aol_last_event_seq', 'seq of the newest event'),
    ok: gauge('aol_scrape_ok', '1 when the read models could be read for this scrape'),
    workers: gauge(
      'aol_workers',
      'Worker processes by presence status (dead: no refresh within its TTL, database time; last 24 h)',
      ['state'],
    ),
    paused: gauge('aol_paused', '1 when the pause flag is set'),
    killed: gauge('aol_killed', '1 when the kill flag is set'),
    proof: gauge('aol_proof_mode', '1 when the proof-mode flag is on'),
    production: gauge('aol_production', '1 when this API process runs with NODE_ENV=production'),
    unacked: gauge(
      'aol_control_unacknowledged_seconds',
      'Age of the current control change while a live lease holder has not acknowledged it (0: acknowledged or no holder)',
    ),
    verifyOk: gauge('aol_events_verify_ok', '1 when the last hash-chain verification passed'),
    verifyAt: gauge(
      'aol_events_verify_last_run_timestamp_seconds',
      'When the last hash-chain verification finished (Unix time)',
    ),
  };
  const all = Object.values(g).filter(
    (m) => verifyEnabled || (m !== g.verifyOk && m !== g.verifyAt),
  );
  const set = (
    i: HealthInputs,
    h: HealthReport,
    lagEvents: number,
    verify: VerifyStatus | undefined,
  ) => {
    for (const [s, n] of Object.entries(i.counts)) g.queue.set({ status: s }, n);
    g.leaseHeld.set(h.lease.status === 'valid' ? 1 : 0);
    g.leaseExpired.set(h.lease.status === 'expired' ? 1 : 0);
    g.leaseEpoch.set(h.lease.epoch ?? 0);
    g.tickAge.set(h.last_tick_age_seconds ?? -1);
    g.head.set(h.last_event_seq);
    g.lag.set(lagEvents);
    for (const s of WORKER_STATES)
      g.workers.set({ state: s }, i.workers?.filter((w) => w.status === s).length ?? 0);
    g.paused.set(h.flags.paused ? 1 : 0);
    g.killed.set(h.flags.killed ? 1 : 0);
    g.proof.set(h.flags.proof_mode ? 1 : 0);
    g.unacked.set(
      !h.control_acknowledged && h.lease.status === 'valid' && i.controlChangedAt
        ? Math.max(0, (i.now.getTime() - new Date(i.controlChangedAt).getTime()) / 1000)
        : 0,
    );
    if (verify) {
      g.verifyOk.set(verify.ok ? 1 : 0);
      g.verifyAt.set(verify.finished_at.getTime() / 1000);
    }
  };
  return { ...g, all, set, production: g.production };
}
