/**
 * Memory of the idle daemon: dist/src/cli.js run on the simulated board with 2 EVSEs and no CSMS
 * reachable (it keeps reconnecting), for 60 s (BENCH_IDLE_SECONDS to change), RSS read from
 * /proc/PID/status every few seconds.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageConfigDir } from '../src/config/paths.js';

function status(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A port nobody listens on: taken from the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export default async function idleRss(): Promise<void> {
  const seconds = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const sim = JSON.parse(readFileSync(join(packageConfigDir(), 'boards', 'sim.json'), 'utf8')) as { evses: Record<string, unknown>[] };
  const config = join(dir, 'station.json');
  writeFileSync(
    config,
    JSON.stringify({
      station: { identity: 'BENCH-IDLE' },
      ocpp: { version: '1.6', csmsUrl: `ws://127.0.0.1:${await closedPort()}/ocpp` },
      hal: { board: 'sim', overrides: { evses: [{ ...sim.evses[0], id: 2 }] } },
      stateDir: join(dir, 'state'),
      log: { level: 'warn' },
    }),
  );
  const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.js');
  const proc = spawn(process.execPath, [cli, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NOTIFY_SOCKET: '' } });
  const exited = new Promise<number | null>((r) => proc.on('exit', r));
  const pid = proc.pid!;
  const readings: string[] = [];
  try {
    const step = Math.max(1, Math.min(10, Math.floor(seconds / 6)));
    for (let t = step; t <= seconds; t += step) {
      await new Promise((r) => setTimeout(r, step * 1000));
      const rss = status(pid, 'VmRSS');
      if (rss === undefined) throw new Error('the daemon exited early');
      readings.push(`${t}s ${rss.toFixed(1)}`);
    }
    console.log(`idle daemon (sim board, 2 EVSEs, CSMS unreachable), RSS MiB at: ${readings.join(', ')}`);
    console.log(`after ${seconds} s: VmRSS ${status(pid, 'VmRSS')?.toFixed(1)} MiB, peak VmHWM ${status(pid, 'VmHWM')?.toFixed(1)} MiB`);
  } finally {
    proc.kill('SIGTERM');
    const code = await exited;
    console.log(`daemon exit code after SIGTERM: ${code}`);
    rmSync(dir, { recursive: true, force: true });
  }
}
