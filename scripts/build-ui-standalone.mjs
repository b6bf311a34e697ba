// The operator UI as a standalone static bundle for a separate deployment
// (e.g. a static site), pointed at the API by AICMO_BACKEND_URL. The API must
// list the UI's origin in AOL_CORS_ORIGINS.
import { cpSync, rmSync, writeFileSync, existsSync } from 'node:fs';

const backendUrl = (process.env.AICMO_BACKEND_URL ?? '').trim();
if (!/^https?:\/\/\S+$/.test(backendUrl)) {
  console.error('AICMO_BACKEND_URL must be set to the API base URL, e.g. https://aol-api.example.com');
  process.exit(64);
}
if (!existsSync('dist/ui/index.html')) {
  console.error('dist/ui is missing: run npm run build first');
  process.exit(1);
}
const dangerous = process.env.AICMO_ENABLE_DANGEROUS_UI_OPS === '1';
rmSync('dist/ui-standalone', { recursive: true, force: true });
cpSync('dist/ui', 'dist/ui-standalone', { recursive: true });
const cfg = { backendUrl: backendUrl.replace(/\/+$/, ''), dangerousUiOps: dangerous, production: process.env.NODE_ENV === 'production' };
writeFileSync('dist/ui-standalone/config.js', `window.AOL_CONFIG = ${JSON.stringify(cfg)};\n`);
console.log(`dist/ui-standalone: the operator UI, calling ${cfg.backendUrl}${dangerous ? ' (dangerous operations shown)' : ''}`);
