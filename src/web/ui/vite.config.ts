import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

/**
 * The operator UI: Preact + uPlot, built to static files. `npm run build`
 * puts them in dist/web (served by the API at /). For a separate deployment,
 * `AICMO_BACKEND_URL=https://api.example.com npm run build:ui-standalone`
 * writes dist/ui-standalone with the API's URL in its config.js.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../../../dist/ui', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
  },
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  logLevel: 'warn',
});
