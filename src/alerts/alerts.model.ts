import type { HealthInputs, HealthReport } from '../health/health.model.js';

/**
 * The built-in notifier's alerts: the same names and conditions as
 * deploy/prometheus/aol.rules.yml (a test checks the names match), judged from
 * the same health inputs /health/aol uses. Pure: the sender supplies the
 * inputs and remembers since when each condition holds.
 */
export type AlertName =
  | 'AolWorkerDown'
  | 'AolWorkerSlow'
  | 'AolWorkerDead'
  | 'AolLeaseExpired'
  | 'AolControlNotAcknowledged'
  | 'AolDlqGrowing'
  | 'AolProofModeOffInProduction'
  | 'AolNoStandby'
  | 'AolVerifyFailing'
  | 'AolProjectionLag';

export type Severity = 'critical' | 'warning';

export type AlertInputs = Readonly<{
  inputs: HealthInputs;
  health: HealthReport;
  /** DLQ depth now minus its least value over the last 15 minutes (0 with no history). */
  dlqGrowth: number;
  verifyOk: boolean | undefined;
  lagEvents: number;
  /** The failover window: a worker gap shorter than the lease TTL is a takeover, not an outage. */
  leaseTtlSeconds: number;
}>;

type Def = Readonly<{
  name: AlertName;
  severity: Severity;
  /** How long the condition must hold before the alert fires (Prometheus `for:`). */
  forSeconds: (i: AlertInputs) => number;
  /** The summary when it holds, else undefined. */
  check: (i: AlertInputs) => string | undefined;
}>;

const warned = (i: AlertInputs, code: string) =>
  i.health.warnings.find((w) => w.code === code)?.message;
const now0 = () => 0;

export const ALERTS: readonly Def[] = [
  {
    name: 'AolWorkerDown',
    severity: 'critical',
    forSeconds: (i) => i.leaseTtlSeconds,
    check: (i) =>
      i.inputs.workers &&
      !i.inputs.flags.killed &&
      !i.inputs.workers.some((w) => w.status === 'active')
        ? 'no active worker: no process holds the lease and refreshes its presence'
        : undefined,
  },
  {
    name: 'AolWorkerSlow',
    severity: 'warning',
    forSeconds: now0,
    check: (i) => (i.health.worker_state === 'slow' ? warned(i, 'WORKER_SLOW') : undefined),
  },
  {
    name: 'AolWorkerDead',
    severity: 'critical',
    forSeconds: now0,
    check: (i) => (i.health.worker_state === 'dead' ? warned(i, 'WORKER_DEAD') : undefined),
  },
  {
    name: 'AolLeaseExpired',
    severity: 'warning',
    forSeconds: (i) => i.leaseTtlSeconds,
    check: (i) => warned(i, 'LEASE_EXPIRED'),
  },
  {
    name: 'AolControlNotAcknowledged',
    severity: 'critical',
    forSeconds: now0,
    check: (i) => warned(i, 'CONTROL_NOT_ACKNOWLEDGED'),
  },
  {
    name: 'AolDlqGrowing',
    severity: 'warning',
    forSeconds: now0,
    check: (i) =>
      i.dlqGrowth > 0
        ? `the DLQ grew by ${i.dlqGrowth} in the last 15 minutes (now ${i.health.queue_counts.dlq})`
        : undefined,
  },
  {
    name: 'AolProofModeOffInProduction',
    severity: 'critical',
    forSeconds: now0,
    check: (i) => warned(i, 'PROOF_MODE_OFF_IN_PRODUCTION'),
  },
  {
    name: 'AolNoStandby',
    severity: 'warning',
    forSeconds: now0,
    check: (i) => warned(i, 'NO_STANDBY'),
  },
  {
    name: 'AolVerifyFailing',
    severity: 'critical',
    forSeconds: now0,
    check: (i) =>
      i.verifyOk === false
        ? 'the event log hash chain does not verify (aol events verify)'
        : undefined,
  },
  {
    name: 'AolProjectionLag',
    severity: 'warning',
    forSeconds: () => 300,
    check: (i) =>
      i.lagEvents > 100
        ? `this API process has not observed the last ${i.lagEvents} events`
        : undefined,
  },
];

export type Condition = Readonly<{ name: AlertName; severity: Severity; summary: string }>;

/**
 * The alerts that should be firing now. `since` remembers when each condition
 * started to hold (updated in place: the caller's memory between rounds);
 * an alert fires once its condition has held for its `for` time.
 */
export function firingAlerts(
  i: AlertInputs,
  since: Map<AlertName, number>,
  nowMs: number,
): Condition[] {
  const out: Condition[] = [];
  for (const a of ALERTS) {
    const summary = a.check(i);
    if (summary === undefined) {
      since.delete(a.name);
      continue;
    }
    const from = since.get(a.name) ?? nowMs;
    since.set(a.name, from);
    if (nowMs - from >= a.forSeconds(i) * 1000)
      out.push({ name: a.name, severity: a.severity, summary });
  }
  return out;
}

export type Recorded = Readonly<{ firing: boolean; incident_id: string; version: number }>;

/** What to send: alerts that fire and are not recorded as firing, and recorded ones that stopped. */
export function transitions(
  firing: readonly Condition[],
  recorded: ReadonlyMap<string, Recorded>,
): { fire: Condition[]; resolve: AlertName[] } {
  const names = new Set(firing.map((c) => c.name));
  return {
    fire: firing.filter((c) => !recorded.get(c.name)?.firing),
    resolve: [...recorded.entries()]
      .filter(([n, r]) => r.firing && !names.has(n as AlertName))
      .map(([n]) => n as AlertName),
  };
}
