import { ControlEvent } from '../events/event.types.js';

/**
 * Four-eyes for turning proof mode off in production, as pure decisions:
 * one admin requests, a different admin approves within 15 minutes.
 * Turning proof mode on never needs approval.
 */
export const APPROVAL_WINDOW_MS = 15 * 60 * 1000;

export type ProofRequest = Readonly<{
  request_id: string;
  requested_by: string;
  expires_at: Date;
  status: 'PENDING' | 'APPROVED' | 'EXPIRED';
}>;

export type RequestDecision =
  | { kind: 'no-change'; message: string }
  | { kind: 'pending'; request: ProofRequest; events: ControlEvent[] };

export function decideProofOffRequest(
  proofMode: boolean,
  pending: ProofRequest | undefined,
  requester: string,
  now: Date,
  newId: string,
): RequestDecision {
  if (!proofMode) return { kind: 'no-change', message: 'proof mode already off' };
  const events: ControlEvent[] = [];
  if (pending && pending.expires_at > now) return { kind: 'pending', request: pending, events };
  if (pending)
    events.push({
      type: 'ProofModeDisableExpired',
      data: { request_id: pending.request_id, requested_by: pending.requested_by },
    });
  const request: ProofRequest = {
    request_id: newId,
    requested_by: requester,
    expires_at: new Date(now.getTime() + APPROVAL_WINDOW_MS),
    status: 'PENDING',
  };
  events.push({
    type: 'ProofModeDisableRequested',
    data: {
      request_id: newId,
      requested_by: requester,
      expires_at: request.expires_at.toISOString(),
    },
  });
  return { kind: 'pending', request, events };
}

export type ApprovalDecision =
  | { kind: 'approved'; events: ControlEvent[] }
  | { kind: 'refused'; status: 403 | 404 | 409; message: string; events: ControlEvent[] };

export function decideApproval(
  request: ProofRequest | undefined,
  approver: string,
  proofMode: boolean,
  now: Date,
): ApprovalDecision {
  if (!request)
    return { kind: 'refused', status: 404, message: 'no such proof-off request', events: [] };
  if (request.status === 'APPROVED')
    return {
      kind: 'refused',
      status: 409,
      message: 'this request was already approved',
      events: [],
    };
  if (request.status === 'EXPIRED')
    return {
      kind: 'refused',
      status: 409,
      message: 'this request has expired; request again',
      events: [],
    };
  if (request.expires_at <= now) {
    return {
      kind: 'refused',
      status: 409,
      message: 'this request has expired (approval window 15 minutes); request again',
      events: [
        {
          type: 'ProofModeDisableExpired',
          data: { request_id: request.request_id, requested_by: request.requested_by },
        },
      ],
    };
  }
  if (request.requested_by === approver) {
    return {
      kind: 'refused',
      status: 403,
      message: 'four-eyes: the requester cannot approve their own request',
      events: [],
    };
  }
  if (!proofMode)
    return { kind: 'refused', status: 409, message: 'proof mode is already off', events: [] };
  const ids = { request_id: request.request_id, requested_by: request.requested_by };
  return {
    kind: 'approved',
    events: [
      { type: 'ProofModeDisableApproved', data: { ...ids, approved_by: approver } },
      { type: 'ProofModeDisabled', data: ids },
    ],
  };
}
