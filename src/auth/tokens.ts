import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../config/config.js';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export const hasRole = (have: Role, need: Role): boolean => RANK[have] >= RANK[need];

export type Principal = Readonly<{ name: string; role: Role }>;
type Entry = Readonly<{ name: string; role: Role; digest: Buffer }>;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * The API tokens of AOL_API_TOKENS: `name:role:token,...`. A token may be given
 * in stored form as `sha256:<64 hex>` (the digest of the token) so the plain
 * token need not sit in the environment. Only digests are kept in memory, and
 * a presented token is checked against every entry with timingSafeEqual, so
 * neither a match nor its position leaks through timing.
 */
export class TokenTable {
  private readonly entries: Entry[];

  constructor(spec: string | undefined) {
    this.entries = (spec ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item, i) => {
        const first = item.indexOf(':');
        const second = item.indexOf(':', first + 1);
        if (first < 1 || second < 0)
          throw new ConfigError(`AOL_API_TOKENS entry ${i + 1} must be name:role:token`);
        const name = item.slice(0, first);
        if (!/^[\w.@-]{1,64}$/.test(name))
          throw new ConfigError(
            `AOL_API_TOKENS entry ${i + 1}: the name must be 1-64 letters, digits or . _ @ -`,
          );
        const role = item.slice(first + 1, second) as Role;
        const token = item.slice(second + 1);
        if (!ROLES.includes(role))
          throw new ConfigError(
            `AOL_API_TOKENS entry ${i + 1} (${name}): role must be viewer, operator or admin`,
          );
        const stored = /^sha256:([0-9a-f]{64})$/i.exec(token);
        if (!stored && token.length < 16)
          throw new ConfigError(
            `AOL_API_TOKENS entry ${i + 1} (${name}): token must be at least 16 characters`,
          );
        return { name, role, digest: stored ? Buffer.from(stored[1], 'hex') : sha256(token) };
      });
    const names = new Set(this.entries.map((e) => e.name));
    if (names.size !== this.entries.length)
      throw new ConfigError('AOL_API_TOKENS: token names must be unique');
  }

  get configured(): boolean {
    return this.entries.length > 0;
  }

  /** The principal a presented token belongs to, or undefined. */
  verify(token: string): Principal | undefined {
    const d = sha256(token);
    let found: Entry | undefined;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest) && !found) found = e;
    return found && { name: found.name, role: found.role };
  }
}
