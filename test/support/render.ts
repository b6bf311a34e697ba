import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './processes.js';

export type RenderService = {
  type: string;
  name: string;
  buildCommand: string;
  startCommand: string;
  preDeployCommand?: string;
  healthCheckPath?: string;
  schedule?: string;
  envVars: { fromGroup?: string; key?: string; value?: string }[];
};

export type Blueprint = {
  services: RenderService[];
  envVarGroups: { name: string; envVars: { key: string; value?: string; sync?: boolean }[] }[];
};

export function readBlueprint(root = ROOT): Blueprint {
  return parse(readFileSync(join(root, 'render.yaml'), 'utf8')) as Blueprint;
}

/** A service's variables as Render resolves them: its groups', then its own (`undefined` for secrets). */
export function serviceVars(doc: Blueprint, s: RenderService): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  for (const e of s.envVars) {
    if (e.fromGroup)
      for (const g of doc.envVarGroups.find((x) => x.name === e.fromGroup)!.envVars)
        out.set(g.key, g.value);
    else out.set(e.key!, e.value);
  }
  return out;
}

/** The literal values only (what Render sets without asking), as an environment. */
export function literalEnv(vars: Map<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of vars) if (v !== undefined) env[k] = v;
  return env;
}
