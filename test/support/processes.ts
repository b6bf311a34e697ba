import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { freePort } from '../../src/db/embedded.js';
import { Proc, spawnProcess } from '../../tools/support/spawn.js';
import { waitFor } from './db.js';

export const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const MAIN = join(ROOT, 'dist', 'main.js');

export type { Proc } from '../../tools/support/spawn.js';

/**
 * Every process a test spawns carries the run's marker in its environment
 * (AOL_TEST_RUN_ID, set by global setup) and is registered here. A jest worker
 * that exits kills what is still registered; global teardown then looks for
 * any process carrying the marker and fails the run if one outlived it
 * (test/support/leaks.mjs).
 */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

function tracked(p: Proc): Proc {
  track(p.child);
  return p;
}

/** The environment every spawned process gets: PATH, HOME, the run marker, then `env`. */
export function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AOL_TEST_RUN_ID: process.env.AOL_TEST_RUN_ID,
    ...env,
  };
}

/** Spawn a node script of ours, capturing stdout+stderr. */
export function spawnNode(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
  cwd = ROOT,
  opts: { detached?: boolean; uid?: number; gid?: number } = {},
): Proc {
  // detached: a process group of its own, so a test can send the group a
  // Ctrl-C (process.kill(-pid, 'SIGINT')) as a terminal would.
  return tracked(
    spawnProcess(process.execPath, [script, ...args], childEnv(env), { cwd, ...opts }),
  );
}

export type RunResult = { code: number | null; stdout: string; stderr: string };

/** Run the CLI to completion. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  input?: string,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = track(
      spawn(process.execPath, [CLI, ...args], {
        cwd: ROOT,
        env: childEnv(env),
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin!.end(input);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Start `node dist/main.js` on a free port and wait until /health answers. */
export async function startApiProcess(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<Proc & { url: string }> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = spawnNode(MAIN, [], { DATABASE_URL: databaseUrl, ...env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`API exited early: ${proc.output()}`);
      return (await fetch(`${url}/health`)).ok;
    },
    30000,
    'API /health',
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  });
  return { ...proc, url };
}

export type WorkerProc = Proc & { pid: number; id: () => string };

/** Start `node dist/cli.js worker` with short intervals unless overridden. */
export function startWorker(
  databaseUrl: string,
  env: Record<string, string> = {},
  args: string[] = [],
): WorkerProc {
  const proc = spawnNode(CLI, ['worker', ...args], {
    DATABASE_URL: databaseUrl,
    AOL_TICK_INTERVAL_SECONDS: '0.3',
    AOL_LEASE_TTL_SECONDS: '2',
    AOL_RETRY_BASE_SECONDS: '0.1',
    AOL_MAX_TICK_SECONDS: '10',
    ...env,
  });
  return { ...proc, pid: proc.child.pid!, id: () => `${hostname()}:${proc.child.pid}` };
}

/** Run a shell command line (as Render runs a Blueprint command), tracked like every spawn. */
export function spawnShell(
  command: string,
  env: Record<string, string | undefined>,
  cwd: string,
): Proc {
  // A simple command is exec'd (the shell becomes it: its exit code is the
  // command's); a command line runs in a process group of its own, and
  // stop() signals the whole group.
  const simple = !/[;&|<>()$`\\]/.test(command);
  return tracked(
    spawnProcess('/bin/sh', ['-c', simple ? `exec ${command}` : command], childEnv(env), {
      cwd,
      detached: true,
      group: !simple,
    }),
  );
}
