import { describe, expect, it } from '@jest/globals';
import {
  APPROVAL_WINDOW_MS,
  decideApproval,
  decideProofOffRequest,
  ProofRequest,
} from '../src/control/proof-approval.decider.js';

const now = new Date('2026-01-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const pending = (over: Partial<ProofRequest> = {}): ProofRequest => ({
  request_id: 'r1',
  requested_by: 'alice',
  expires_at: later(60_000),
  status: 'PENDING',
  ...over,
});

describe('proof-off request (given / when / then)', () => {
  it('given proof mode already off, when an admin requests proof off, then no change', () => {
    expect(decideProofOffRequest(false, undefined, 'alice', now, 'r2')).toEqual({
      kind: 'no-change',
      message: 'proof mode already off',
    });
  });

  it('given no request, when an admin requests, then one ProofModeDisableRequested for 15 minutes', () => {
    const d = decideProofOffRequest(true, undefined, 'alice', now, 'r2');
    expect(d).toEqual({
      kind: 'pending',
      request: {
        request_id: 'r2',
        requested_by: 'alice',
        expires_at: later(APPROVAL_WINDOW_MS),
        status: 'PENDING',
      },
      events: [
        {
          type: 'ProofModeDisableRequested',
          data: {
            request_id: 'r2',
            requested_by: 'alice',
            expires_at: later(APPROVAL_WINDOW_MS).toISOString(),
          },
        },
      ],
    });
  });

  it('given a live request, when anyone requests again, then the same request and no event', () => {
    const p = pending();
    expect(decideProofOffRequest(true, p, 'bob', now, 'r2')).toEqual({
      kind: 'pending',
      request: p,
      events: [],
    });
  });

  it('given a request past its window, when an admin requests, then it expires and a new one starts', () => {
    const d = decideProofOffRequest(true, pending({ expires_at: now }), 'bob', now, 'r2');
    expect(d.kind === 'pending' && d.events.map((e) => e.type)).toEqual([
      'ProofModeDisableExpired',
      'ProofModeDisableRequested',
    ]);
  });
});

describe('proof-off approval (given / when / then)', () => {
  it('given a live request by alice, when bob approves, then approved and proof mode off', () => {
    expect(decideApproval(pending(), 'bob', true, now)).toEqual({
      kind: 'approved',
      events: [
        {
          type: 'ProofModeDisableApproved',
          data: { request_id: 'r1', requested_by: 'alice', approved_by: 'bob' },
        },
        { type: 'ProofModeDisabled', data: { request_id: 'r1', requested_by: 'alice' } },
      ],
    });
  });

  it('given a live request by alice, when alice approves, then 403 four-eyes', () => {
    expect(decideApproval(pending(), 'alice', true, now)).toMatchObject({
      kind: 'refused',
      status: 403,
      events: [],
    });
  });

  it.each([
    ['no request', undefined, 404],
    ['an approved request', pending({ status: 'APPROVED' }), 409],
    ['an expired request', pending({ status: 'EXPIRED' }), 409],
  ] as const)('given %s, when bob approves, then %s is refused with %i', (_n, req, status) => {
    expect(decideApproval(req, 'bob', true, now)).toMatchObject({
      kind: 'refused',
      status,
      events: [],
    });
  });

  it('given a pending request past its window, when bob approves, then 409 and it expires', () => {
    const d = decideApproval(pending({ expires_at: now }), 'bob', true, now);
    expect(d).toMatchObject({ kind: 'refused', status: 409 });
    expect(d.events.map((e) => e.type)).toEqual(['ProofModeDisableExpired']);
  });

  it('given proof mode already off, when bob approves, then 409 and nothing recorded', () => {
    expect(decideApproval(pending(), 'bob', false, now)).toMatchObject({
      kind: 'refused',
      status: 409,
      events: [],
    });
  });
});
