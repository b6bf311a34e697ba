import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export type Proc = {
  child: ChildProcess;
  /** What it wrote to stdout and stderr so far ('' when not captured). */
  output: () => string;
  exited: Promise<number | null>;
  /** Signal it (or its whole process group) and wait for it to exit. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

export type SpawnOptions = Readonly<{
  cwd?: string;
  /** A process group of its own, so a test can signal the group as a terminal would. */
  detached?: boolean;
  /** stop() signals the whole process group (needs detached). */
  group?: boolean;
  uid?: number;
  gid?: number;
  /** Keep stdout+stderr in memory for output() (default true). */
  capture?: boolean;
  /** Also append stdout+stderr to this file. */
  logFile?: string;
}>;

/**
 * The one process spawner of the tests (test/support/processes.ts adds the
 * run marker and leak tracking) and the chaos suite (its fleet logs to files).
 */
export function spawnProcess(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: SpawnOptions = {},
): Proc {
  const child = spawn(command, [...args], {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached,
    uid: opts.uid,
    gid: opts.gid,
  });
  let out = '';
  if (opts.capture !== false) {
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
  }
  if (opts.logFile) {
    const file = createWriteStream(opts.logFile, { flags: 'a' });
    child.stdout!.pipe(file);
    child.stderr!.pipe(file);
  } else if (opts.capture === false) {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null)
        process.kill(opts.group ? -child.pid! : child.pid!, signal);
      return exited;
    },
  };
}

/** Spawn a node script with this process's node. */
export function spawnNode(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: SpawnOptions = {},
): Proc {
  return spawnProcess(process.execPath, [script, ...args], env, opts);
}
