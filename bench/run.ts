/**
 * Runs every other bench in this directory (compiled: dist/bench/*.js), in name order. Each exports
 * `default async function(): Promise<void>` and prints its own figures. Figures only, no pass/fail.
 *   npm run bench                      all of them
 *   node dist/bench/run.js contactor   only those whose name contains "contactor"
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Bench = { default: () => Promise<void> };

const here = dirname(fileURLToPath(import.meta.url));
const self = basename(fileURLToPath(import.meta.url));
const filter = process.argv[2];

const files = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== self && (!filter || f.includes(filter)))
  .sort();

for (const file of files) {
  console.log(`\n== ${file.replace(/\.js$/, '')} ==`);
  const started = process.hrtime.bigint();
  const mod = (await import(pathToFileURL(join(here, file)).href)) as Bench;
  await mod.default();
  console.log(`(${file}: ${Number((process.hrtime.bigint() - started) / 1_000_000n)} ms)`);
}
