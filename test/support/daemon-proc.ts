/**
 * The daemon as a child process (dist/src/cli.js run …) for the first-run tests and the browser test:
 * its stdout is collected, and `waitForLine` finds a log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { buildRoot } from './paths.js';

export interface DaemonProc {
  proc: ChildProcess;
  output(): string;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export function startDaemon(args: string[]): DaemonProc {
  const cli = join(buildRoot(), 'src', 'cli.js');
  const env = { ...process.env, NOTIFY_SOCKET: '', JOURNAL_STREAM: '', INVOCATION_ID: '' };
  const proc = spawn(process.execPath, [cli, 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer): void => {
    out += b.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return {
    proc,
    output: () => out,
    waitForLine(re, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${re} in:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => check());
        check();
      });
    },
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
