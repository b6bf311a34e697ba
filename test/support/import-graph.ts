import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The import graph between the top-level folders of src/ (docs/architecture.md,
 * "Layers"). Files directly in src/ (the entry points and Nest modules that
 * compose everything) form the folder "(root)".
 */
export type Edge = Readonly<{ from: string; to: string; file: string; spec: string }>;
export type FolderGraph = ReadonlyMap<string, ReadonlySet<string>>;

const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function tsFiles(dir: string, skip: (path: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (skip(p)) return [];
    if (e.isDirectory()) return tsFiles(p, skip);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The relative module specifiers a source text imports (statically or with `import()`) or re-exports. */
export function relativeImports(source: string): string[] {
  return [...source.matchAll(IMPORT), ...source.matchAll(DYNAMIC)]
    .map((m) => m[1])
    .filter((s) => s.startsWith('.'));
}

/** The folder a path under root belongs to, or undefined if it lies outside root. */
export function folderOf(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '(root)';
}

/** Every import of one top-level folder of `root` from another (or from outside root). */
export function folderEdges(root: string, skip: (path: string) => boolean = () => false): Edge[] {
  const edges: Edge[] = [];
  for (const file of tsFiles(root, skip)) {
    const from = folderOf(root, file)!;
    for (const spec of relativeImports(readFileSync(file, 'utf8'))) {
      const to = folderOf(root, resolve(dirname(file), spec)) ?? '(outside)';
      if (to !== from) edges.push({ from, to, file: relative(root, file), spec });
    }
  }
  return edges;
}

export function toGraph(edges: readonly Pick<Edge, 'from' | 'to'>[]): FolderGraph {
  const g = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!g.has(e.from)) g.set(e.from, new Set());
    if (!g.has(e.to)) g.set(e.to, new Set());
    g.get(e.from)!.add(e.to);
  }
  return g;
}

/** One cycle between folders (['a', 'b', 'a']), or null if the graph has none. */
export function findCycle(g: FolderGraph): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'open');
    path.push(n);
    for (const m of [...(g.get(n) ?? [])].sort()) {
      const c = visit(m);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of [...g.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

/**
 * Layers, lowest first: a folder may import only from folders in strictly
 * lower layers. Returns the edges that break that rule (an import upwards,
 * sideways within a layer, or from/to a folder no layer names).
 */
export function layerViolations(
  edges: readonly Edge[],
  layers: readonly (readonly string[])[],
  allowed: (e: Edge) => boolean = () => false,
): Edge[] {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  return edges.filter((e) => {
    if (allowed(e)) return false;
    const a = rank.get(e.from);
    const b = rank.get(e.to);
    return a === undefined || b === undefined || b >= a;
  });
}
