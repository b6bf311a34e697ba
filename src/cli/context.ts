import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig, Config } from '../config/config.js';
import { Db, Queryable } from '../db/db.js';
import { Actor } from '../common/actor.js';
import { parseBoundedInt } from '../common/bounded.js';

export class UsageError extends Error {}

/** A numeric option from 1 to `max`: anything else is a usage error (exit 64), never a database error. */
export function usageInt(v: string, name: string, max: bigint): number {
  try {
    return parseBoundedInt(v, name, { min: 1, max });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}, not "${v}"`);
  }
}

/** DATABASE_URL, else the URL `npm start` left in ./.aol/database-url. */
export function cliConfig(): Config {
  const config = loadConfig();
  if (config.databaseUrl) return config;
  const file = '.aol/database-url';
  if (existsSync(file)) return { ...config, databaseUrl: readFileSync(file, 'utf8').trim() };
  throw new ConfigError(
    'DATABASE_URL is not set (and no ./.aol/database-url from a running `npm start`)',
  );
}

export function openDb(config: Config): Db {
  return new Db(config.databaseUrl!, { max: 4, applicationName: 'aol-cli' });
}

/**
 * The CLI's actor: the database login role it authenticated as
 * (session_user; SPEC §5), always via cli. A --actor value is only a label
 * stored beside it (metadata.label); the database enforces the same for every
 * role other than the service (migrations/0010).
 */
export async function cliActor(db: Queryable, label: string | undefined): Promise<Actor> {
  const l = label?.trim();
  // One line in every log and table: no newline or other control character.
  if (l && (l.length > 100 || /[\p{Cc}\p{Cf}\u2028\u2029]/u.test(l)))
    throw new UsageError('--actor must be at most 100 characters, without control characters');
  const { rows } = await db.query<{ u: string }>('SELECT session_user::text AS u');
  return { name: rows[0].u, via: 'cli', ...(l && l !== rows[0].u ? { label: l } : {}) };
}

/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
export function progress(label: string): {
  update: (done: number, total: number) => void;
  done: () => void;
} {
  if (!process.stderr.isTTY) return { update: () => undefined, done: () => undefined };
  let lastDraw = 0;
  return {
    update: (done, total) => {
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const pct = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '.');
      process.stderr.write(`\r${label} [${bar}] ${Math.round(pct * 100)}% ${done}/${total}`);
    },
    done: () => process.stderr.write('\n'),
  };
}
