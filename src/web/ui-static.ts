import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import serveStatic from 'serve-static';

/**
 * The operator UI's static files (dist/ui, built by Vite), served at `/`.
 * The build does not change while the process runs, so the paths it holds
 * are read once at start: a request for anything else (every API route, every
 * probe of /health/aol) goes straight on, instead of serve-static's fs.stat
 * of a file that is not there — one failed statx per API request, ~5 % of
 * GET /health/aol's CPU (docs/benchmarks.md §4).
 */
export function uiStatic(dir: string): (req: Request, res: Response, next: NextFunction) => void {
  const serve = serveStatic(dir, { index: 'index.html', maxAge: '1h' });
  const paths = new Set([
    '/',
    ...filesUnder(dir).map((f) => `/${relative(dir, f).split(sep).join('/')}`),
  ]);
  return (req, res, next) => (paths.has(req.path) ? serve(req, res, next) : next());
}

function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // not built (npm run build makes it): nothing to serve
  }
  return entries.flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}
