import { killLeaks } from './leaks.mjs';

/**
 * Stop the run's embedded PostgreSQL, then make sure nothing the run spawned
 * outlived it: any process still carrying the run's marker is killed and the
 * run fails, naming it (a test that leaks a process is a bug to fix).
 */
export default async function globalTeardown() {
  if (globalThis.__AOL_EMBEDDED__) await globalThis.__AOL_EMBEDDED__.stop();
  if (globalThis.__AOL_CONTAINER__) await globalThis.__AOL_CONTAINER__.stop();
  const runId = process.env.AOL_TEST_RUN_ID;
  if (!runId) return;
  // A process killed by its jest worker's exit a moment ago may still be dying.
  let leaks = [];
  for (let i = 0; i < 50; i++) {
    const { processesOfRun } = await import('./leaks.mjs');
    leaks = processesOfRun(runId);
    if (leaks.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (leaks.length === 0) {
    console.log('[test] no process of this run is left');
    return;
  }
  killLeaks(runId);
  throw new Error(
    `${leaks.length} process(es) outlived the tests that started them (killed now):\n` +
      leaks.map((p) => `  pid ${p.pid}: ${p.cmd.slice(0, 200)}`).join('\n'),
  );
}
