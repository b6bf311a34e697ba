import { ACTION_STATUSES, ActionStatus } from '../actions/actions.decider.js';
import { leaseStatus, leaseTtlSeconds, shownTtl } from '../lease/lease.decider.js';
import type { ScopedPause } from '../control/scoped-pause.sql.js';

/**
 * What health says, as a pure function of its inputs, so the live endpoint
 * (read models) and the replayed one (`?at=`, folded from the log) judge alike.
 * Thresholds are the runbook's: last tick < 60 s active (or paused), 60–300 s
 * slow, > 300 s dead, no tick ever: never.
 */
export type WorkerState = 'active' | 'paused' | 'slow' | 'dead' | 'never';

/** A worker process's liveness row as health needs it (workers.service.ts WorkerView). */
export type PresenceInput = Readonly<{
  id: string;
  status: 'active' | 'standby' | 'stopping' | 'dead' | 'left';
  alive: boolean;
  epoch: number | null;
  last_seen_at_utc: string;
  seen_age_seconds: number;
}>;

export type HealthInputs = Readonly<{
  now: Date;
  lastTick: {
    started_at: string;
    finished_at: string;
    status: string;
    worker: string;
    epoch: number;
    notes: string;
  } | null;
  lease: { owner: string; epoch: number; expires_at: string } | null;
  flags: { paused: boolean; killed: boolean; proof_mode: boolean; version: number };
  ackVersion: number;
  ackDelayMs: number | null;
  counts: Record<string, number>;
  lastEventSeq: number;
  controlChangedAt: string | null;
  /** Active scoped pauses (live health only; a replay `?at=` leaves it out). */
  scopedPauses?: readonly ScopedPause[];
  /** Presence rows (aol_workers); undefined when not known (a replay: presence is not in the log). */
  workers?: readonly PresenceInput[];
  /** The earliest next fire times of active schedules (live health only; src/schedules/). */
  scheduleFires?: readonly Readonly<{ schedule_id: string; next_fire: string }>[];
}>;

export type HealthEnv = Readonly<{
  production: boolean;
  dangerousUiOps: boolean;
  tokensConfigured: boolean;
  /** Whether this process has AOL_SIGNING_KEY (signs checkpoints); undefined: not asked. */
  checkpointsSigned?: boolean;
  /** AOL_EXPECT_STANDBY: warn when the active worker has no live standby. */
  expectStandby?: boolean;
}>;
export type Warning = Readonly<{ code: string; message: string }>;

/** The queue counts' keys: the action statuses, lower case (as aol_queue_counts and /health/aol name them). */
export const STATUSES = ACTION_STATUSES.map((s) => s.toLowerCase() as Lowercase<ActionStatus>);

/** A schedule fire time this far behind the database clock means nobody is firing. */
export const SCHEDULE_OVERDUE_SECONDS = 30;

export function workerState(
  lastTick: HealthInputs['lastTick'],
  now: Date,
): { state: WorkerState; age: number | null } {
  if (!lastTick) return { state: 'never', age: null };
  const age = Math.max(0, (now.getTime() - new Date(lastTick.finished_at).getTime()) / 1000);
  if (age > 300) return { state: 'dead', age };
  if (age >= 60) return { state: 'slow', age };
  return { state: lastTick.status === 'PAUSED' ? 'paused' : 'active', age };
}

export function evaluateHealth(i: HealthInputs, env: HealthEnv) {
  const { state, age } = workerState(i.lastTick, i.now);
  const ttl = leaseTtlSeconds(i.lease?.expires_at ?? null, i.now);
  const lease = leaseStatus(i.lease !== null, ttl);
  const counts = Object.fromEntries(STATUSES.map((s) => [s, i.counts[s] ?? 0])) as Record<
    Lowercase<ActionStatus>,
    number
  >;
  const acknowledged = i.ackVersion >= i.flags.version;
  const warnings: Warning[] = [];
  const warn = (code: string, message: string) => warnings.push({ code, message });
  if (env.production && !i.flags.proof_mode)
    warn(
      'PROOF_MODE_OFF_IN_PRODUCTION',
      'proof mode is off in production: actions make real outbound calls',
    );
  if (env.checkpointsSigned === false)
    warn(
      'CHECKPOINTS_UNSIGNED',
      'AOL_SIGNING_KEY is not set: no signed checkpoints, so a database owner could rewrite or cut the log undetected (docs/checkpoints.md)',
    );
  if (lease === 'expired')
    warn(
      'LEASE_EXPIRED',
      `the lease of ${i.lease!.owner} expired ${Math.round(-ttl!)} s ago: its worker crashed without cleanup`,
    );
  if (state === 'dead')
    warn('WORKER_DEAD', `no tick for ${Math.round(age!)} s: the worker is likely stuck or dead`);
  if (state === 'slow')
    warn('WORKER_SLOW', `no tick for ${Math.round(age!)} s: the worker may be slow`);
  if (state === 'never') warn('WORKER_NEVER_RAN', 'no worker has recorded a tick yet');
  if (i.flags.killed)
    warn('WORKER_KILLED', 'kill is set: workers exit and stay stopped until revive');
  if (
    !acknowledged &&
    i.lease &&
    lease === 'valid' &&
    i.controlChangedAt &&
    i.now.getTime() - new Date(i.controlChangedAt).getTime() > 10_000
  ) {
    warn(
      'CONTROL_NOT_ACKNOWLEDGED',
      `control version ${i.flags.version} is not acknowledged by the active worker after 10 s`,
    );
  }
  for (const p of i.scopedPauses ?? [])
    if (p.until && new Date(p.until).getTime() < i.now.getTime() - 10_000)
      warn(
        'SCOPED_PAUSE_OVERDUE',
        `scoped pause ${p.pause_id} passed its deadline ${p.until} but has not ended: no active worker has claimed since`,
      );
  const live = i.workers?.filter((w) => w.alive);
  const standbys = live?.filter((w) => w.status === 'standby').length ?? null;
  if (i.workers && i.workers.length > 0 && live!.length === 0 && !i.flags.killed)
    warn(
      'NO_LIVE_WORKER',
      'no worker process is alive: none has refreshed its presence within its TTL',
    );
  if (env.expectStandby && live?.some((w) => w.status === 'active') && standbys === 0)
    warn(
      'NO_STANDBY',
      'the active worker has no standby (AOL_EXPECT_STANDBY=true): a failover has nowhere to go',
    );
  for (const f of i.scheduleFires ?? [])
    if (new Date(f.next_fire).getTime() < i.now.getTime() - SCHEDULE_OVERDUE_SECONDS * 1000)
      warn(
        'SCHEDULE_OVERDUE',
        `schedule ${f.schedule_id} was due at ${f.next_fire} and has not fired: no API process is running the scheduler (AOL_SCHEDULER_INTERVAL_SECONDS)`,
      );
  if (env.production && env.dangerousUiOps)
    warn(
      'DANGEROUS_UI_OPS_ENABLED',
      'AICMO_ENABLE_DANGEROUS_UI_OPS=1 in production: the UI offers proof off and lease force release',
    );
  if (env.production && !env.tokensConfigured)
    warn('NO_API_TOKENS', 'no AOL_API_TOKENS in production: every write is refused');
  return {
    last_tick_at: i.lastTick?.finished_at ?? null,
    last_tick_status: i.lastTick?.status ?? null,
    last_tick_age_seconds: age === null ? null : Math.round(age * 10) / 10,
    last_tick: i.lastTick,
    worker_state: state,
    lease: {
      owner: i.lease?.owner ?? null,
      epoch: i.lease?.epoch ?? null,
      expires_at: i.lease?.expires_at ?? null,
      ttl_seconds: shownTtl(ttl),
      status: lease,
    },
    lease_owner: i.lease?.owner ?? null,
    flags: { paused: i.flags.paused, killed: i.flags.killed, proof_mode: i.flags.proof_mode },
    scoped_pauses: i.scopedPauses ?? [],
    control_version: i.flags.version,
    control_acknowledged: acknowledged,
    acknowledgment_delay_ms: i.ackDelayMs,
    queue_counts: { ...counts, succeeded: counts.success },
    last_event_seq: i.lastEventSeq,
    workers: i.workers?.filter((w) => w.status !== 'left') ?? null,
    standbys,
    server_time_utc: i.now.toISOString(),
    warnings,
  };
}

export type HealthReport = ReturnType<typeof evaluateHealth>;
