/**
 * The version of the config file's shape (`"version"` in station.json). A file without it is
 * version 1, the shape before the key existed. When a release changes the shape, it raises
 * CONFIG_VERSION and appends the step that turns the previous shape into the new one; the loader
 * runs the steps a file needs in memory (the file on disk is left as the operator wrote it) and says
 * which it ran. A file written for a newer release is refused: an older daemon cannot know what its
 * keys mean.
 */
import type { ConfigProblem } from './validate.js';

/** The shape this release reads. */
export const CONFIG_VERSION = 1;

export type ConfigDocument = Record<string, unknown>;

/** Turns a document of version `from` into one of version `from + 1`; says what it changed. */
export interface ConfigStep {
  from: number;
  describe: string;
  apply(doc: ConfigDocument): ConfigDocument;
}

/** Steps in order, one per version raise (none yet: version 1 is still the current shape). */
export const CONFIG_STEPS: readonly ConfigStep[] = [];

export type Migrated = { ok: true; doc: ConfigDocument; from: number; notes: string[] } | { ok: false; problems: ConfigProblem[] };

/**
 * Brings a parsed config document to `current`: the result carries `"version": current`. `notes`
 * say what was done, for the log and `check-config`.
 */
export function migrateConfig(doc: ConfigDocument, current = CONFIG_VERSION, steps: readonly ConfigStep[] = CONFIG_STEPS): Migrated {
  const given = doc.version;
  if (given !== undefined && !(typeof given === 'number' && Number.isInteger(given) && given >= 1)) {
    return { ok: false, problems: [{ pointer: '/version', problem: `must be an integer >= 1 (the config file's shape version; this release reads up to ${current})` }] };
  }
  const from = given ?? 1;
  if (from > current) {
    return {
      ok: false,
      problems: [{ pointer: '/version', problem: `${from} is newer than this release reads (up to ${current}): the file was written for a newer ocpp-station` }],
    };
  }
  const notes: string[] = [];
  if (given === undefined) notes.push(`the file has no "version": read as version 1`);
  let out: ConfigDocument = { ...doc };
  for (let v = from; v < current; v++) {
    const step = steps.find((s) => s.from === v);
    if (!step) throw new Error(`no config migration step from version ${v} (CONFIG_STEPS is incomplete)`);
    out = step.apply(out);
    notes.push(`migrated from version ${v} to ${v + 1} in memory: ${step.describe}`);
  }
  out.version = current;
  return { ok: true, doc: out, from, notes };
}
