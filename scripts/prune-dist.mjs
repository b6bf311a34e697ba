// Before the product's build: remove what earlier builds left in dist/ from
// code that has since moved out of src/ (the chaos suite and the smoke check
// now live in tools/ and build to dist-tools/), so dist/ ships only the product.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
for (const p of ['chaos', 'smoke.js', 'smoke.js.map', 'smoke.d.ts'])
  rmSync(join(dist, p), { recursive: true, force: true });
