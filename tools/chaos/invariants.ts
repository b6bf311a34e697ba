/**
 * The chaos suite's invariants, as pure functions of what a run recorded: the
 * event log, the receiver's deliveries, the enqueued keys, the final actions,
 * and the harness's own timeline of kills. Each returns a figure to print and
 * the problems it found; test/chaos-invariants.unit.spec.ts feeds each one a
 * forged violation and sees it fail.
 */
import type { Delivery } from './receiver.js';
import { FLAG_EVENT_TYPES } from '../../src/events/event.types.js';
import {
  isActionType,
  type ActionEvent,
  type EventType,
  type LeaseEvent,
} from '../../src/events/event.types.js';

/**
 * A row of aol_events as the harness read it. Its data is not trusted to be
 * complete (the unit test forges incomplete events, and a broken run may write
 * anything), so it is not cast to StoredEvent: the checks compare `type` with
 * names typed by the event catalogue (event.types.ts) and read each data field
 * through `num`/`str`/`bool`, which narrow at run time, so a missing or odd
 * field is reported as a problem, never a crash or a silent pass.
 */
export type Ev = Readonly<{
  seq: number;
  stream: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  occurred_at: string;
}>;

export type FinalAction = Readonly<{
  id: number;
  idempotency_key: string;
  status: string;
  not_before_utc: string;
  last_error: string | null;
}>;

export type CheckResult = { name: string; ok: boolean; figure: string; problems: string[] };

const TERMINAL = new Set(['SUCCESS', 'FAILED', 'DLQ', 'UNKNOWN', 'CANCELLED']);
/** The action events a worker writes (ActionEnqueued/Cancelled/Requeued come from operators). */
const WORKER_ACTION_EVENTS: ReadonlySet<string> = new Set<ActionEvent['type']>([
  'ActionStarted',
  'ActionSucceeded',
  'ActionRetryScheduled',
  'ActionFailed',
  'ActionDeadLettered',
  'ActionOutcomeUnknown',
]);

/** Whether an event is of one of these types (names checked against the catalogue). */
const is = (e: Ev, ...types: EventType[]): boolean => (types as string[]).includes(e.type);
/** The lease events that end a term. */
const LEASE_ENDS: ReadonlySet<string> = new Set<LeaseEvent['type']>([
  'LeaseReleased',
  'LeaseExpired',
  'LeaseForceReleased',
]);

type Data = Readonly<Record<string, unknown>>;
/** A data field if it is a number (a string, a boolean), else undefined. */
const num = (d: Data, k: string): number | undefined => {
  const v = d[k];
  return typeof v === 'number' ? v : undefined;
};
const str = (d: Data, k: string): string | undefined => {
  const v = d[k];
  return typeof v === 'string' ? v : undefined;
};
const bool = (d: Data, k: string): boolean | undefined => {
  const v = d[k];
  return typeof v === 'boolean' ? v : undefined;
};
const actor = (e: Ev): string | undefined => str(e.metadata, 'actor');

const t = (iso: string) => new Date(iso).getTime();
const idOf = (stream: string) => Number(stream.slice('action:'.length));

function result(name: string, figure: string, problems: string[]): CheckResult {
  return { name, ok: problems.length === 0, figure, problems: problems.slice(0, 20) };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * 1. No effect delivered twice: at most one 2xx delivery per idempotency key,
 * except a repeat of an attempt a crashed/stalled worker had in flight, which
 * the worker re-sends with the same Idempotency-Key after recording the
 * recovery (ActionRetryScheduled, recovered) — a receiver honouring the key
 * deduplicates it. And every action that reached SUCCESS in real mode was
 * delivered.
 */
export function checkDeliveries(
  events: Ev[],
  deliveries: Delivery[],
  actions: FinalAction[],
): CheckResult {
  const problems: string[] = [];
  const byKey = new Map<string, Delivery[]>();
  for (const d of deliveries.filter((x) => x.status >= 200 && x.status < 300))
    byKey.set(d.key, [...(byKey.get(d.key) ?? []), d]);
  const keyOf = new Map(actions.map((a) => [a.id, a.idempotency_key]));
  const recoveries = new Map<string, number>();
  const realSuccess = new Set<string>();
  const lastStartProof = new Map<string, boolean>();
  for (const e of events) {
    if (!e.stream.startsWith('action:')) continue;
    const key = keyOf.get(idOf(e.stream));
    if (!key) continue;
    if (is(e, 'ActionRetryScheduled') && bool(e.data, 'recovered') === true)
      recoveries.set(key, (recoveries.get(key) ?? 0) + 1);
    if (is(e, 'ActionStarted')) lastStartProof.set(key, bool(e.data, 'proof_mode') === true);
    if (is(e, 'ActionSucceeded') && lastStartProof.get(key) === false) realSuccess.add(key);
  }
  let repeats = 0;
  let max = 0;
  for (const [key, list] of byKey) {
    max = Math.max(max, list.length);
    const allowed = 1 + (recoveries.get(key) ?? 0);
    if (list.length > allowed)
      problems.push(
        `key ${key} delivered ${list.length} times (${allowed - 1} recovery repeats allowed)`,
      );
    repeats += Math.max(0, Math.min(list.length, allowed) - 1);
  }
  for (const key of realSuccess)
    if (!byKey.has(key))
      problems.push(`key ${key} is SUCCESS in real mode but was never delivered`);
  return result(
    '1 no effect delivered twice',
    `${byKey.size} keys delivered, max ${max} per key, ${repeats} same-key repeat(s) after recovery, ${realSuccess.size} real-mode successes all delivered`,
    problems,
  );
}

/** 2. No action lost: every enqueued key ended terminal, or is visibly pending with a reason. */
export function checkNoLoss(enqueued: string[], actions: FinalAction[], now: number): CheckResult {
  const problems: string[] = [];
  const byKey = new Map(actions.map((a) => [a.idempotency_key, a]));
  const counts: Record<string, number> = {};
  for (const key of enqueued) {
    const a = byKey.get(key);
    if (!a) {
      problems.push(`enqueued key ${key} has no action`);
      continue;
    }
    counts[a.status] = (counts[a.status] ?? 0) + 1;
    const pendingWithReason =
      (a.status === 'PENDING' || a.status === 'RETRY') && t(a.not_before_utc) > now;
    if (!TERMINAL.has(a.status) && !pendingWithReason)
      problems.push(
        `action ${a.id} (${key}) is stuck ${a.status}${a.last_error ? `: ${a.last_error}` : ''}`,
      );
  }
  const figure = `${enqueued.length} enqueued: ${Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ')}`;
  return result('2 no action lost', figure, problems);
}

/**
 * 3. Never two lease holders: acquisitions form one chain of epochs (+1 each),
 * each ended (released, expired, force-released) before the next began; and
 * every worker write (action events, ticks, acknowledgements) was made by the
 * holder of the current epoch.
 */
export function checkLease(events: Ev[]): CheckResult {
  const problems: string[] = [];
  let holder: { owner: string; epoch: number } | null = null;
  let lastEpoch = 0;
  let epochs = 0;
  let writes = 0;
  for (const e of events) {
    if (e.stream === 'lease') {
      const owner = str(e.data, 'owner');
      const epoch = num(e.data, 'epoch');
      if (is(e, 'LeaseAcquired')) {
        if (holder)
          problems.push(
            `seq ${e.seq}: epoch ${epoch} acquired by ${owner} while epoch ${holder.epoch} (${holder.owner}) was still held`,
          );
        if (epoch !== lastEpoch + 1)
          problems.push(`seq ${e.seq}: epoch ${epoch} follows ${lastEpoch}`);
        if (owner === undefined || epoch === undefined) {
          problems.push(`seq ${e.seq}: LeaseAcquired without an owner and an epoch`);
          holder = null;
        } else {
          lastEpoch = epoch;
          holder = { owner, epoch };
        }
        epochs++;
      } else if (LEASE_ENDS.has(e.type)) {
        if (!holder || holder.epoch !== epoch)
          problems.push(
            `seq ${e.seq}: ${e.type} of epoch ${epoch}, but the held epoch is ${holder?.epoch ?? 'none'}`,
          );
        else holder = null;
      } else if (is(e, 'LeaseRenewed') && (!holder || holder.epoch !== epoch)) {
        problems.push(`seq ${e.seq}: renewal of epoch ${epoch} not held`);
      }
      continue;
    }
    if (e.metadata.via !== 'worker') continue;
    if (!(
      (isActionType(e.type) && WORKER_ACTION_EVENTS.has(e.type)) ||
      is(e, 'TickRecorded') ||
      is(e, 'ControlAcknowledged')
    ))
      continue;
    writes++;
    const epoch = num(e.data, 'epoch');
    const by = actor(e);
    if (!holder || holder.owner !== by || (epoch !== undefined && epoch !== holder.epoch)) {
      problems.push(
        `seq ${e.seq}: ${e.type} by ${String(by)}${epoch !== undefined ? ` (epoch ${epoch})` : ''} while the holder is ${holder ? `${holder.owner} epoch ${holder.epoch}` : 'nobody'}`,
      );
    }
  }
  return result(
    '3 one lease holder at a time',
    `${epochs} epochs in one chain, ${writes} worker writes all by the current holder`,
    problems,
  );
}

/**
 * 4. No action started while paused or killed, none in real mode while proof
 * mode was on; and every delivery came from a real-mode attempt (checked
 * against the control timeline in the log). Chaos workers run with
 * AOL_PROOF_MODE=false, so an attempt's mode must be exactly the flag's.
 */
export function checkControl(
  events: Ev[],
  deliveries: Delivery[],
  actions: FinalAction[],
): CheckResult {
  const problems: string[] = [];
  const flags = { paused: false, killed: false, proof: true };
  const starts = new Map<string, { at: number; proof: boolean }[]>();
  const keyOf = new Map(actions.map((a) => [a.id, a.idempotency_key]));
  let n = 0;
  for (const e of events) {
    switch (e.type) {
      case 'ControlPaused':
        flags.paused = true;
        break;
      case 'ControlResumed':
        flags.paused = false;
        break;
      case 'ControlKilled':
        flags.killed = true;
        break;
      case 'ControlRevived':
        flags.killed = false;
        break;
      case 'ProofModeEnabled':
        flags.proof = true;
        break;
      case 'ProofModeDisabled':
        flags.proof = false;
        break;
      case 'ActionStarted': {
        n++;
        const proof = bool(e.data, 'proof_mode') === true;
        if (flags.paused || flags.killed)
          problems.push(
            `seq ${e.seq}: ${e.stream} started while ${flags.killed ? 'killed' : 'paused'}`,
          );
        if (flags.proof && !proof)
          problems.push(`seq ${e.seq}: ${e.stream} started in real mode while proof mode was on`);
        const key = keyOf.get(idOf(e.stream));
        if (key) starts.set(key, [...(starts.get(key) ?? []), { at: t(e.occurred_at), proof }]);
        break;
      }
    }
  }
  let checked = 0;
  for (const d of deliveries) {
    const before = (starts.get(d.key) ?? []).filter((s) => s.at <= d.at);
    const last = before[before.length - 1];
    checked++;
    if (!last)
      problems.push(
        `delivery of ${d.key} at ${new Date(d.at).toISOString()} has no attempt started before it`,
      );
    else if (last.proof)
      problems.push(
        `delivery of ${d.key} at ${new Date(d.at).toISOString()} came from a proof-mode attempt`,
      );
  }
  return result(
    '4 control respected',
    `${n} starts, none while paused/killed or real under proof; ${checked} deliveries all from real-mode attempts`,
    problems,
  );
}

/** 5. The log verifies and rebuilding every read model gives the live tables. */
export function checkLog(
  verify: { ok: boolean; checked: number; first_bad_seq: number | null },
  rebuild: { equal: boolean; diff?: string },
): CheckResult {
  const problems: string[] = [];
  if (!verify.ok) problems.push(`hash chain broken at seq ${verify.first_bad_seq}`);
  if (!rebuild.equal) problems.push(`rebuild differs from the live tables: ${rebuild.diff ?? ''}`);
  return result(
    '5 log verifies, rebuild equals live',
    `${verify.checked} events verified; rebuild ${rebuild.equal ? 'equal' : 'DIFFERENT'}`,
    problems,
  );
}

/**
 * 6. Every control change was acknowledged by the active worker (an
 * acknowledgement of a later version covers it), with the delays and the
 * failover times (harness kill/stall → next acquisition; release → next
 * acquisition).
 */
export function checkAcks(
  events: Ev[],
  holderLost: number[],
): CheckResult & { delays: number[]; failovers: number[] } {
  const problems: string[] = [];
  const changes = events.filter((e) => e.stream === 'control' && FLAG_EVENT_TYPES.has(e.type));
  const acks = events.filter((e) => is(e, 'ControlAcknowledged'));
  // An acknowledgement without a version acknowledges nothing (0), so the change shows as unacknowledged.
  const ackedVersion = (a: Ev) => num(a.data, 'control_version') ?? 0;
  const maxAckAfter = (seq: number) =>
    Math.max(0, ...acks.filter((a) => a.seq > seq).map(ackedVersion));
  for (const c of changes)
    if (maxAckAfter(c.seq) < c.stream_version)
      problems.push(`${c.type} (version ${c.stream_version}, seq ${c.seq}) was never acknowledged`);
  // Delays of changes made while a worker held the lease (a change made with no
  // worker active is acknowledged by the next one, which measures the outage).
  let held = false;
  const activeVersions = new Set<number>();
  for (const e of events) {
    if (is(e, 'LeaseAcquired')) held = true;
    else if (LEASE_ENDS.has(e.type)) held = false;
    else if (held && e.stream === 'control' && FLAG_EVENT_TYPES.has(e.type))
      activeVersions.add(e.stream_version);
  }
  const delays = acks
    .map((a) => ({ version: num(a.data, 'control_version'), delay: num(a.data, 'delay_ms') }))
    .filter((a) => a.version !== undefined && activeVersions.has(a.version))
    .flatMap((a) => (a.delay === undefined ? [] : [a.delay]));
  const acquisitions = events.filter((e) => is(e, 'LeaseAcquired')).map((e) => t(e.occurred_at));
  const releases = events
    .filter((e) => is(e, 'LeaseReleased', 'LeaseForceReleased'))
    .map((e) => t(e.occurred_at));
  const failovers: number[] = [];
  for (const lost of [...holderLost, ...releases]) {
    const next = acquisitions.find((a) => a >= lost);
    if (next !== undefined) failovers.push(next - lost);
  }
  const fmt = (v: number[]) =>
    v.length
      ? `p50 ${percentile(v, 50).toFixed(1)} / p99 ${percentile(v, 99).toFixed(1)} / max ${Math.max(...v).toFixed(1)} ms`
      : 'none';
  const figure = `${changes.length} changes all acknowledged; ack delay (worker active) ${fmt(delays)}; failover ${failovers.length ? `p50 ${percentile(failovers, 50).toFixed(0)} / max ${Math.max(...failovers).toFixed(0)} ms over ${failovers.length}` : 'none'}`;
  return { ...result('6 every change acknowledged', figure, problems), delays, failovers };
}
