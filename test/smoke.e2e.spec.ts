import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { createTestDb } from './support/db.js';
import { ROOT, spawnNode, startApiProcess, startWorker } from './support/processes.js';

const SMOKE = join(ROOT, 'dist-tools', 'tools', 'smoke.js');

describe('npm run smoke (the on-deploy checklist) against a locally started system', () => {
  it('passes every check with an API and a worker, leaving the flags as it found them', async () => {
    const t = await createTestDb('smoke');
    const api = await startApiProcess(t.url, {
      AOL_API_TOKENS: 'ops:operator:smoke-operator-token-123',
    });
    const w = startWorker(t.url);
    try {
      const p = spawnNode(
        SMOKE,
        ['--url', api.url, '--token', 'smoke-operator-token-123', '--timeout', '30'],
        {},
      );
      expect(await p.exited).toBe(0);
      for (const check of [
        'GET /health answers 200',
        'GET /health/aol answers',
        'a worker holds the lease',
        'pause is acknowledged',
        'resume is acknowledged',
      ]) {
        expect(p.output()).toMatch(new RegExp(`✅ ${check}`));
      }
      expect(p.output()).toMatch(/all 5 checks passed/);
      expect((await t.db.query('SELECT paused FROM aol_control_flags')).rows[0].paused).toBe(false);
      expect(p.output()).not.toContain('smoke-operator-token-123');
    } finally {
      await w.stop();
      await api.stop();
      await t.db.close();
    }
  });

  it('fails (exit 1) and says which check when no worker runs', async () => {
    const t = await createTestDb('smoke_noworker');
    const api = await startApiProcess(t.url);
    try {
      const p = spawnNode(SMOKE, ['--url', api.url, '--timeout', '2'], {});
      expect(await p.exited).toBe(1);
      expect(p.output()).toMatch(/❌ a worker holds the lease within 2 s/);
      expect(p.output()).toMatch(/checks FAILED/);
    } finally {
      await api.stop();
      await t.db.close();
    }
  });
});
