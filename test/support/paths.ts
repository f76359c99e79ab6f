import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from wherever the compiled tests run (dist/ or .build/NAME/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ocpp-station') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

/** The directory holding compiled output that this file was compiled into (dist/ or .build/NAME/). */
export function buildRoot(): string {
  return dirname(dirname(dirname(fileURLToPath(import.meta.url))));
}
