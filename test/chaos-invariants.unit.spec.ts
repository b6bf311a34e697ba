import { describe, expect, it } from '@jest/globals';
import {
  checkAcks,
  checkControl,
  checkDeliveries,
  checkLease,
  checkLog,
  checkNoLoss,
  Ev,
  FinalAction,
} from '../tools/chaos/invariants.js';
import type { Delivery } from '../tools/chaos/receiver.js';

/** Each chaos invariant, fed the violation it exists to detect. */
let seq = 0;
const at = (ms: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, 0, ms)).toISOString();
const ev = (
  stream: string,
  type: string,
  data: Record<string, unknown> = {},
  metadata: Record<string, unknown> = { via: 'worker', actor: 'w:1' },
  version = 1,
  ms = seq * 10,
): Ev => ({
  seq: ++seq,
  stream,
  stream_version: version,
  type,
  data,
  metadata,
  occurred_at: at(ms),
});
const actions: FinalAction[] = [
  { id: 1, idempotency_key: 'k1', status: 'SUCCESS', not_before_utc: at(0), last_error: null },
];
const delivery = (ms: number, status = 200): Delivery => ({
  key: 'k1',
  path: '/ok/1',
  at: Date.parse(at(ms)),
  status,
});

function goodRun(): Ev[] {
  seq = 0;
  return [
    ev('control', 'ProofModeEnabled', {}, { via: 'sql', actor: 'm' }, 1),
    ev('control', 'ProofModeDisabled', {}, { via: 'sql', actor: 'op' }, 2),
    ev('lease', 'LeaseAcquired', { owner: 'w:1', epoch: 1 }),
    ev('control', 'ControlAcknowledged', { control_version: 2, epoch: 1, delay_ms: 2 }),
    ev('action:1', 'ActionEnqueued', { id: 1 }, { via: 'api', actor: 'op' }),
    ev('action:1', 'ActionStarted', { attempt: 1, epoch: 1, proof_mode: false }),
    ev('action:1', 'ActionSucceeded', { attempt: 1 }),
  ];
}

describe('chaos invariants detect what they are for', () => {
  it('a clean run passes every check', () => {
    const events = goodRun();
    const d = [delivery(65)];
    expect(checkDeliveries(events, d, actions).ok).toBe(true);
    expect(checkNoLoss(['k1'], actions, Date.now()).ok).toBe(true);
    expect(checkLease(events).ok).toBe(true);
    expect(checkControl(events, d, actions).ok).toBe(true);
    expect(checkLog({ ok: true, checked: 7, first_bad_seq: null }, { equal: true }).ok).toBe(true);
    expect(checkAcks(events, []).ok).toBe(true);
  });

  it('1: a receiver told a delivery happened twice fails; a recovery repeat with the same key is allowed', () => {
    const events = goodRun();
    const twice = checkDeliveries(events, [delivery(65), delivery(66)], actions);
    expect(twice.ok).toBe(false);
    expect(twice.problems[0]).toMatch(/key k1 delivered 2 times/);
    const recovered = [
      ...events.slice(0, 6),
      ev('action:1', 'ActionRetryScheduled', { recovered: true }),
      ev('action:1', 'ActionStarted', { attempt: 1, epoch: 1, proof_mode: false }),
      ev('action:1', 'ActionSucceeded', {}),
    ];
    expect(checkDeliveries(recovered, [delivery(65), delivery(85)], actions).ok).toBe(true);
    const never = checkDeliveries(events, [], actions);
    expect(never.problems[0]).toMatch(/SUCCESS in real mode but was never delivered/);
  });

  it('2: an enqueued action that is missing or stuck fails', () => {
    expect(checkNoLoss(['k1', 'k2'], actions, Date.now()).problems[0]).toMatch(/k2 has no action/);
    const stuck: FinalAction[] = [{ ...actions[0], status: 'RUNNING' }];
    expect(checkNoLoss(['k1'], stuck, Date.now()).ok).toBe(false);
    const later: FinalAction[] = [
      {
        ...actions[0],
        status: 'PENDING',
        not_before_utc: new Date(Date.now() + 60_000).toISOString(),
      },
    ];
    expect(checkNoLoss(['k1'], later, Date.now()).ok).toBe(true);
  });

  it('3: a forged overlap of two holders, a skipped epoch, and a stale-epoch write all fail', () => {
    const events = goodRun();
    const overlap = checkLease([
      ...events,
      ev('lease', 'LeaseAcquired', { owner: 'w:2', epoch: 2 }, { via: 'worker', actor: 'w:2' }),
    ]);
    expect(overlap.problems[0]).toMatch(/acquired by w:2 while epoch 1 \(w:1\) was still held/);
    const skip = checkLease([
      ...events,
      ev('lease', 'LeaseReleased', { owner: 'w:1', epoch: 1 }),
      ev('lease', 'LeaseAcquired', { owner: 'w:2', epoch: 3 }, { via: 'worker', actor: 'w:2' }),
    ]);
    expect(skip.problems[0]).toMatch(/epoch 3 follows 1/);
    const stale = checkLease([
      ...events,
      ev('lease', 'LeaseExpired', { owner: 'w:1', epoch: 1 }),
      ev('lease', 'LeaseAcquired', { owner: 'w:2', epoch: 2 }, { via: 'worker', actor: 'w:2' }),
      ev('action:1', 'ActionSucceeded', { attempt: 1 }),
    ]);
    expect(stale.problems[0]).toMatch(/ActionSucceeded by w:1 while the holder is w:2 epoch 2/);
  });

  it('4: a start while paused, a real start under proof mode, and a delivery from a proof attempt all fail', () => {
    const base = goodRun().slice(0, 5);
    const paused = checkControl(
      [
        ...base,
        ev('control', 'ControlPaused', {}, { via: 'sql', actor: 'op' }, 3),
        ev('action:1', 'ActionStarted', { proof_mode: false, epoch: 1 }),
      ],
      [],
      actions,
    );
    expect(paused.problems[0]).toMatch(/started while paused/);
    const proof = checkControl(
      [
        ...base,
        ev('control', 'ProofModeEnabled', {}, { via: 'sql', actor: 'op' }, 3),
        ev('action:1', 'ActionStarted', { proof_mode: false, epoch: 1 }),
      ],
      [],
      actions,
    );
    expect(proof.problems[0]).toMatch(/real mode while proof mode was on/);
    const fromProof = checkControl(
      [
        ...base,
        ev('control', 'ProofModeEnabled', {}, { via: 'sql', actor: 'op' }, 3),
        ev('action:1', 'ActionStarted', { proof_mode: true, epoch: 1 }, undefined, 1, 100),
      ],
      [delivery(200)],
      actions,
    );
    expect(fromProof.problems[0]).toMatch(/came from a proof-mode attempt/);
  });

  it('5: a broken chain or a rebuild that differs fails', () => {
    expect(
      checkLog({ ok: false, checked: 3, first_bad_seq: 4 }, { equal: true }).problems[0],
    ).toMatch(/seq 4/);
    expect(
      checkLog({ ok: true, checked: 3, first_bad_seq: null }, { equal: false, diff: 'aol_actions' })
        .problems[0],
    ).toMatch(/aol_actions/);
  });

  it('6: a change nobody acknowledged fails; delays and failovers are measured', () => {
    const events = goodRun();
    const unacked = checkAcks(
      [...events, ev('control', 'ControlPaused', {}, { via: 'api', actor: 'op' }, 3)],
      [],
    );
    expect(unacked.problems[0]).toMatch(/ControlPaused \(version 3.*never acknowledged/);
    // only changes made while a worker held the lease count towards the delay figures
    const ok = checkAcks(
      [
        ...events,
        ev('control', 'ControlPaused', {}, { via: 'api', actor: 'op' }, 3),
        ev('control', 'ControlAcknowledged', { control_version: 3, delay_ms: 3 }),
      ],
      [Date.parse(at(0))],
    );
    expect(ok.ok).toBe(true);
    expect(ok.delays).toEqual([3]);
    expect(ok.failovers).toEqual([20]);
  });

  it('incomplete events are reported, not crashed on nor passed', () => {
    const events = goodRun();
    // an acquisition without an epoch breaks the chain
    const noEpoch = checkLease([
      ...events,
      ev('lease', 'LeaseReleased', { owner: 'w:1', epoch: 1 }),
      ev('lease', 'LeaseAcquired', { owner: 'w:2' }, { via: 'worker', actor: 'w:2' }),
    ]);
    expect(noEpoch.problems).toEqual([
      expect.stringMatching(/epoch undefined follows 1/),
      expect.stringMatching(/LeaseAcquired without an owner and an epoch/),
    ]);
    // a worker write with no actor is nobody's
    const noActor = checkLease([...events, ev('action:1', 'ActionFailed', {}, { via: 'worker' })]);
    expect(noActor.problems[0]).toMatch(/ActionFailed by undefined while the holder is w:1/);
    // an acknowledgement without a version acknowledges nothing, and measures no delay
    const noVersion = checkAcks(
      [
        ...events,
        ev('control', 'ControlPaused', {}, { via: 'api', actor: 'op' }, 3),
        ev('control', 'ControlAcknowledged', { delay_ms: 3 }),
      ],
      [],
    );
    expect(noVersion.problems[0]).toMatch(/ControlPaused \(version 3.*never acknowledged/);
    expect(noVersion.delays).toEqual([]);
    // a start whose proof_mode is not a boolean counts as a real-mode start under proof mode
    const odd = checkControl(
      [
        ...events.slice(0, 5),
        ev('control', 'ProofModeEnabled', {}, { via: 'sql', actor: 'op' }, 3),
        ev('action:1', 'ActionStarted', { proof_mode: 'no' }),
      ],
      [],
      actions,
    );
    expect(odd.problems[0]).toMatch(/real mode while proof mode was on/);
  });
});
