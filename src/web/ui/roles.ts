import type { Me } from './types';

const RANK = { viewer: 0, operator: 1, admin: 2 } as const;
export type Need = keyof typeof RANK;

/** Why a control is disabled for this token, or null when it may be used. */
export function roleBlock(me: Me | null, need: Need): string | null {
  if (!me) return 'enter an API token to use the controls';
  return RANK[me.role] >= RANK[need]
    ? null
    : `needs the ${need} role; this token (${me.name}) is ${me.role}`;
}
