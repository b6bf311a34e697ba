import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { browserCandidates, findBrowser, playwrightCache } from './support/browser.js';
import { childEnv } from './support/processes.js';
import { waitFor } from './support/db.js';
// @ts-expect-error plain ESM helper shared with global teardown
import { killLeaks, processesOfRun } from './support/leaks.mjs';

type Found = { pid: number; cmd: string }[];

/** The test harness itself: leak detection and browser discovery. */
describe('no process outlives the run', () => {
  it('a process carrying the run marker is found (even detached, re-parented) and killed', async () => {
    expect(process.env.AOL_TEST_RUN_ID).toMatch(/^[0-9a-f]{16}$/);
    expect(childEnv({}).AOL_TEST_RUN_ID).toBe(process.env.AOL_TEST_RUN_ID);
    // A marker of its own: killing by the run's marker would kill the run's
    // shared PostgreSQL and every process other test files have running.
    const runId = `${process.env.AOL_TEST_RUN_ID}-harness`;
    const child = spawn('sleep', ['120'], {
      env: { ...childEnv({}), AOL_TEST_RUN_ID: runId },
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    const exited = new Promise((r) => child.on('exit', r));
    const found = await waitFor(
      () => (processesOfRun(runId) as Found).find((p) => p.pid === child.pid),
      10000,
      'the marked process',
    );
    expect(found.cmd).toContain('sleep 120');
    const killed = killLeaks(runId) as Found;
    expect(killed.map((p) => p.pid)).toContain(child.pid);
    await exited;
    expect((processesOfRun(runId) as Found).some((p) => p.pid === child.pid)).toBe(false);
  });

  it('a process of another run (other marker) is not ours', () => {
    expect(processesOfRun('not-this-run') as Found).toEqual([]);
  });
});

describe('browser discovery', () => {
  it('CHROMIUM_PATH comes first; the usual paths, the Playwright cache and macOS follow', () => {
    const cache = mkdtempSync(join(tmpdir(), 'aol-pw-'));
    const list = browserCandidates({
      CHROMIUM_PATH: '/opt/x/chrome',
      PLAYWRIGHT_BROWSERS_PATH: cache,
    });
    expect(list[0]).toBe('/opt/x/chrome');
    expect(list).toEqual(
      expect.arrayContaining([
        '/usr/bin/chromium',
        '/usr/bin/chromium-browser',
        '/usr/bin/google-chrome',
        '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      ]),
    );
  });

  it('finds a browser in the Playwright cache, and nothing where nothing is', () => {
    const cache = mkdtempSync(join(tmpdir(), 'aol-pw-'));
    // the layout playwright-core 1.65 installs
    const exe = join(cache, 'chromium-1200', 'chrome-linux64', 'chrome');
    mkdirSync(join(exe, '..'), { recursive: true });
    writeFileSync(exe, '', { mode: 0o755 });
    const notExe = join(cache, 'plain-file');
    writeFileSync(notExe, '', { mode: 0o644 });
    const hit = findBrowser({ PLAYWRIGHT_BROWSERS_PATH: cache });
    // a system browser, when installed, is found before the cache
    expect(hit.path === exe || hit.path?.startsWith('/usr/bin/')).toBe(true);
    expect(hit.searched).toContain(exe);
    // CHROMIUM_PATH set but missing or not executable: a problem, never a silent fallback
    for (const bad of [join(cache, 'missing'), notExe])
      expect(findBrowser({ PLAYWRIGHT_BROWSERS_PATH: cache, CHROMIUM_PATH: bad })).toEqual({
        searched: expect.arrayContaining([bad, exe]),
        problem: `CHROMIUM_PATH=${bad} is not an executable file`,
      });
    expect(playwrightCache({ XDG_CACHE_HOME: '/x/cache' })).toBe(
      process.platform === 'darwin'
        ? expect.stringContaining('Library/Caches/ms-playwright')
        : '/x/cache/ms-playwright',
    );
  });
});
