/**
 * Every file the daemon makes in its state directory goes through here, so that none of them is
 * readable by other users whatever the umask: the database holds the basic-auth password and the
 * security keys, the message log holds the CSMS traffic, the control socket lets its user plug
 * virtual EVs. Outside systemd (UMask=0027 there) a shell's umask 022 would make them world-readable.
 *
 * New files are 0600 and directories 0700. A file or directory that already exists keeps at most
 * 0640 / 0750 (an operator may have given the group read access on purpose); bits for others are
 * taken away.
 */
import { chmodSync, closeSync, fchmodSync, fstatSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
/** The widest mode kept on a file that already exists. */
const FILE_MAX = 0o640;
const DIR_MAX = 0o750;

/** Narrow `mode` to `max`; undefined when it is narrow enough already. */
function narrowed(mode: number, max: number): number | undefined {
  const bits = mode & 0o7777;
  return (bits & ~max) === 0 ? undefined : bits & max;
}

/**
 * Create the directory (and missing parents) 0700. With narrowExisting (the state directory, which
 * the daemon owns) an existing one is narrowed to at most 0750; without it (a directory that may be
 * shared, e.g. the parent of a database file a test names) it is left as it is.
 */
export function ensurePrivateDir(dir: string, opts: { narrowExisting?: boolean } = {}): void {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // mkdir's mode is masked by the umask (never widened), so a new directory is at most 0700; set it
  // exactly anyway, and narrow one that was there before.
  if (first !== undefined) chmodSync(dir, PRIVATE_DIR_MODE);
  else if (opts.narrowExisting) {
    const mode = narrowed(statSync(dir).mode, DIR_MAX);
    if (mode !== undefined) chmodSync(dir, mode);
  }
}

/** Narrow an existing file to at most 0640; a missing file is no error. */
export function makePrivate(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const m = narrowed(mode, FILE_MAX);
  if (m !== undefined) chmodSync(path, m);
}

/** openSync with a private mode: a new file is 0600, an existing one is narrowed to at most 0640. */
export function openPrivate(path: string, flags: string): number {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    const m = narrowed(fstatSync(fd).mode, FILE_MAX);
    if (m !== undefined) fchmodSync(fd, m);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Make sure the file exists and is private, without changing its content (e.g. before SQLite opens it). */
export function createPrivateFile(path: string): void {
  closeSync(openPrivate(path, 'a'));
}

/** writeFileSync for a private file. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  const fd = openPrivate(path, 'w');
  try {
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}
