import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { logFormat } from '../src/common/log.js';
import { CLI } from './support/processes.js';

const tty = { fd: 1, isTTY: true };
const pipe = { fd: 1, isTTY: false };

describe('log format: readable for a person, JSON for a machine', () => {
  it('pretty at a terminal, JSON when piped or in production, AOL_LOG_FORMAT decides when set', () => {
    expect(logFormat(tty, {})).toBe('pretty');
    expect(logFormat(pipe, {})).toBe('json');
    expect(logFormat(tty, { NODE_ENV: 'production' })).toBe('json');
    expect(logFormat(pipe, { AOL_LOG_FORMAT: 'pretty' })).toBe('pretty');
    expect(logFormat(tty, { AOL_LOG_FORMAT: 'JSON', NODE_ENV: 'development' })).toBe('json');
    expect(() => logFormat(tty, { AOL_LOG_FORMAT: 'xml' })).toThrow(
      /AOL_LOG_FORMAT must be json or pretty, got "xml"/,
    );
  });

  // util-linux `script` gives the CLI a real terminal.
  (existsSync('/usr/bin/script') ? it : it.skip)(
    'a CLI diagnostic is a plain line at a terminal and one JSON object when piped',
    () => {
      const env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AOL_TEST_RUN_ID: process.env.AOL_TEST_RUN_ID,
      };
      const cmd = `${process.execPath} ${CLI} pause --reason x`;
      const atTty = spawnSync('/usr/bin/script', ['-qec', cmd, '/dev/null'], {
        env,
        encoding: 'utf8',
        cwd: '/',
      });
      expect(atTty.stdout.trim()).toMatch(/^aol: DATABASE_URL is not set/);
      const piped = spawnSync(process.execPath, [CLI, 'pause', '--reason', 'x'], {
        env,
        encoding: 'utf8',
        cwd: '/',
      });
      // the worker's lines at a terminal: coloured, the worker id in the line, no JSON
      const worker = spawnSync(
        '/usr/bin/script',
        ['-qec', `${process.execPath} ${CLI} worker --max-ticks=1`, '/dev/null'],
        {
          env: {
            ...env,
            DATABASE_URL: 'postgresql://a:b@127.0.0.1:1/x',
            DB_STARTUP_RETRY_SECS: '0.3',
          },
          encoding: 'utf8',
          cwd: '/',
        },
      );
      const esc = String.fromCharCode(27); // coloured: ANSI escapes around the level
      expect(worker.stdout).toContain(`${esc}[33mWARN${esc}[39m (worker)`);
      expect(worker.stdout).toMatch(/\(worker\): .*\[\d+\] database not reachable yet/);
      expect(worker.stdout).not.toContain('{"level"');
      expect(piped.status).toBe(64);
      expect(JSON.parse(piped.stderr.trim())).toMatchObject({
        level: 50,
        name: 'cli',
        msg: expect.stringMatching(/^aol: DATABASE_URL is not set/),
      });
    },
  );
});
