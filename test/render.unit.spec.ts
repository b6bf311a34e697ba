import { describe, expect, it } from '@jest/globals';
import { readBlueprint, RenderService, serviceVars } from './support/render.js';

const SPEC_VARS = [
  'DATABASE_URL',
  'PORT',
  'DB_STARTUP_RETRY_SECS',
  'AOL_TICK_INTERVAL_SECONDS',
  'AOL_MAX_ACTIONS_PER_TICK',
  'AOL_MAX_TICK_SECONDS',
  'AOL_MAX_RETRIES',
  'AOL_RETRY_BASE_SECONDS',
  'AOL_RETRY_MAX_SECONDS',
  'AOL_PROOF_MODE',
  'AOL_LEASE_TTL_SECONDS',
  'AOL_ARTIFACT_DIR',
  'AOL_API_TOKENS',
  'AOL_CORS_ORIGINS',
  'AICMO_BACKEND_URL',
  'AICMO_ENABLE_DANGEROUS_UI_OPS',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'SMTP_URL',
  'NODE_ENV',
];

describe('render.yaml (Render Blueprint, SPEC section 2)', () => {
  const doc = readBlueprint();
  const byType = (t: string) => doc.services.filter((s) => s.type === t);
  const vars = (s: RenderService) => serviceVars(doc, s);

  it('declares the web service: build, migrations before deploy, the API, health check /health', () => {
    const [web] = byType('web');
    expect(web).toMatchObject({
      buildCommand: 'npm ci --include=dev && npm run build && npm prune --omit=dev',
      preDeployCommand: 'node dist/cli.js migrate',
      startCommand: 'node dist/main.js',
      healthCheckPath: '/health',
    });
  });

  it('declares the background worker and the */5 cron fallback with --max-ticks=1', () => {
    expect(byType('worker')).toEqual([
      expect.objectContaining({ startCommand: 'node dist/cli.js worker' }),
    ]);
    expect(byType('cron')).toEqual([
      expect.objectContaining({
        schedule: '*/5 * * * *',
        startCommand: 'node dist/cli.js worker --max-ticks=1',
      }),
    ]);
  });

  it('every service has every variable of SPEC section 7, with safe defaults', () => {
    for (const s of doc.services) {
      const v = vars(s);
      for (const name of SPEC_VARS.filter((n) => n !== 'PORT' || s.type === 'web'))
        expect([s.name, name, v.has(name)]).toEqual([s.name, name, true]);
      expect(v.get('AOL_PROOF_MODE')).toBe('true');
      expect(v.get('AICMO_ENABLE_DANGEROUS_UI_OPS')).toBe('0');
      expect(v.get('NODE_ENV')).toBe('production');
    }
    const secrets = doc.envVarGroups[0].envVars.filter((e) =>
      ['DATABASE_URL', 'AOL_API_TOKENS', 'OPENAI_API_KEY', 'SMTP_URL'].includes(e.key),
    );
    expect(secrets.every((e) => e.sync === false && e.value === undefined)).toBe(true);
  });
});
