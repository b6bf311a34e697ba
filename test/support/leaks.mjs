// Plain ESM: used by global teardown (outside Jest's module system) and by a test.
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Processes whose environment carries `AOL_TEST_RUN_ID=<runId>`: everything a
 * test run spawned (API, workers, CLI, PostgreSQL and its backends) inherits
 * it. Jest's own workers carry it too and are left out, as is this process.
 * Linux only (/proc); elsewhere the check finds nothing and says so.
 */
export function processesOfRun(runId) {
  const marker = `AOL_TEST_RUN_ID=${runId}`;
  let pids;
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const found = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(marker)) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (/jest-worker|processChild\.js|jest\.js/.test(cmd)) continue;
      found.push({ pid: Number(pid), cmd });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Kill every leaked process of the run; returns what was found. */
export function killLeaks(runId) {
  const leaks = processesOfRun(runId);
  for (const p of leaks) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return leaks;
}
