import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import {
  Edge,
  findCycle,
  folderEdges,
  layerViolations,
  relativeImports,
  toGraph,
} from './support/import-graph.js';

/**
 * The layering of src/ (docs/architecture.md, "Layers"), lowest first. A
 * folder imports only from folders in lower layers, so there is no cycle
 * between folders.
 */
const LAYERS = [
  ['common'], // pure helpers: errors, logging, actor/metadata, signing keys, DTO pieces
  ['db', 'config'], // the pool and DB error mapping; configuration from the environment
  ['auth', 'http'], // tokens and roles; the HTTP error filter
  ['events'], // the log: store, notifier, subscribe, verify, checkpoints, SSE
  ['actions', 'lease', 'workers'], // areas with their deciders, SQL and Nest faces; worker presence
  ['control'], // control (its scoped pauses name action types)
  ['schedules'], // recurring schedules: enqueue actions, read under the control flags
  ['health'],
  ['worker', 'metrics', 'history'], // history: state at a point (replay, snapshots) over the deciders and health's model
  ['cli', 'web', 'alerts'], // alerts: the built-in notifier over health and metrics
  ['(root)'], // entry points and the Nest modules that compose everything
] as const;

const SRC = join(process.cwd(), 'src');
const skipUi = (p: string) => p === join(SRC, 'web', 'ui');

describe('import layering (given / when / then)', () => {
  it('given import and export lines, when parsed, then only relative specifiers are kept', () => {
    const src = [
      "import { a } from '../events/event.types.js';",
      "import type { B } from './b.js';",
      "export { C } from '../common/c.js';",
      "import './side-effect.js';",
      "import { Injectable } from '@nestjs/common';",
      'import {\n  D,\n  E,\n} from "../db/db.js";',
      "  const { Worker } = await import('../worker/worker.js');",
    ].join('\n');
    expect(relativeImports(src)).toEqual([
      '../events/event.types.js',
      './b.js',
      '../common/c.js',
      './side-effect.js',
      '../db/db.js',
      '../worker/worker.js',
    ]);
  });

  it('given a graph with a cycle between folders, when checked, then the cycle is named', () => {
    const g = toGraph([
      { from: 'common', to: 'events' },
      { from: 'events', to: 'db' },
      { from: 'db', to: 'common' },
      { from: 'cli', to: 'events' },
    ]);
    expect(findCycle(g)).toEqual(['events', 'db', 'common', 'events']);
  });

  it('given an acyclic graph, when checked, then there is no cycle', () => {
    const g = toGraph([
      { from: 'cli', to: 'events' },
      { from: 'events', to: 'db' },
      { from: 'cli', to: 'db' },
    ]);
    expect(findCycle(g)).toBeNull();
  });

  it('given an import upwards or sideways, when checked against the layers, then it is reported', () => {
    const e = (from: string, to: string): Edge => ({ from, to, file: `${from}/x.ts`, spec: '' });
    const bad = layerViolations(
      [e('events', 'db'), e('common', 'events'), e('actions', 'lease'), e('events', 'nowhere')],
      LAYERS,
    );
    expect(bad.map((x) => `${x.from}->${x.to}`)).toEqual([
      'common->events',
      'actions->lease',
      'events->nowhere',
    ]);
  });

  describe('src/', () => {
    const edges = folderEdges(SRC, skipUi);

    it('imports only downwards through the layers', () => {
      const bad = layerViolations(edges, LAYERS).map(
        (e) => `${e.file} imports ${e.spec} (${e.from} -> ${e.to})`,
      );
      expect(bad).toEqual([]);
    });

    it('has no cycle between folders', () => {
      expect(findCycle(toGraph(edges))).toBeNull();
    });

    it('events/ imports nothing from the areas', () => {
      const areas = new Set([
        'actions',
        'lease',
        'control',
        'health',
        'worker',
        'metrics',
        'cli',
        'history',
        'workers',
        'alerts',
        'schedules',
      ]);
      const up = edges.filter((e) => e.from === 'events' && areas.has(e.to));
      expect(up).toEqual([]);
    });
  });
});
