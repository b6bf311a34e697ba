import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';
import type { PrettyStream } from 'pino-pretty';
import { ConfigError } from './errors.js';

// Loaded on first use: most CLI commands never log, and pino + pino-pretty
// add ~100 ms to a start-up of ~170 ms.
const require = createRequire(import.meta.url);
const pino = () => require('pino') as typeof import('pino');
const pretty = () => require('pino-pretty') as (o: object) => PrettyStream;

/**
 * One logger for every process (API, worker, `npm start`, CLI diagnostics).
 * A person at a terminal gets readable coloured lines (pino-pretty); piped, in
 * production, or with `AOL_LOG_FORMAT=json`, every line is one JSON object
 * (what Render's log stream and any collector parse). The choice is made per
 * stream: `npm start | tee` gets JSON even though it was started by a person.
 *
 * Pretty printing runs synchronously in this thread (no transport worker), so
 * a line written just before `process.exit()` is never lost.
 */
export type LogFormat = 'json' | 'pretty';

/** process.stdout or process.stderr. */
type Out = Readonly<{ fd: number; isTTY?: boolean }>;

export function logFormat(
  stream: Out,
  env: Readonly<Record<string, string | undefined>> = process.env,
): LogFormat {
  const forced = env.AOL_LOG_FORMAT?.trim().toLowerCase();
  if (forced === 'json' || forced === 'pretty') return forced;
  if (forced) throw new ConfigError(`AOL_LOG_FORMAT must be json or pretty, got "${forced}"`);
  if (env.NODE_ENV === 'production') return 'json';
  return stream.isTTY ? 'pretty' : 'json';
}

/** Where a logger writes `stream`'s lines, in the format `logFormat` chose. */
export function logDestination(stream: Out = process.stdout): DestinationStream {
  return logFormat(stream) === 'pretty'
    ? pretty()({
        destination: stream.fd,
        sync: true,
        colorize: true,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname,worker',
        messageFormat: '{if worker}[{worker}] {end}{msg}',
      })
    : pino().destination({ fd: stream.fd, sync: true });
}

const cache = new Map<string, Logger>();

/** The process's logger for `name` (`api`, `worker`, `start`, `cli`), writing to `stream`. */
export function logger(name: string, stream: Out = process.stdout): Logger {
  const key = `${name}:${stream.fd}`;
  const existing = cache.get(key);
  if (existing) return existing;
  const log = pino().pino({ name, base: { pid: process.pid } }, logDestination(stream));
  cache.set(key, log);
  return log;
}

/**
 * A CLI diagnostic on stderr: the plain `aol: …` line a person reads at a
 * terminal, one JSON object when stderr is piped or in production.
 */
export function diagnostic(message: string): void {
  if (logFormat(process.stderr) === 'json') logger('cli', process.stderr).error(message);
  else process.stderr.write(`${message}\n`);
}
