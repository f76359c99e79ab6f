/**
 * systemd notifications (sd_notify): READY=1, WATCHDOG=1, STOPPING=1, STATUS=….
 *
 * The protocol is one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET. Node has no unix
 * datagram sockets, so the message is handed to systemd's own `systemd-notify` tool (present wherever
 * systemd is) rather than to a native add-on. The tool is a child process, so the unit needs
 * NotifyAccess=all; `--pid` names this process as the service's main PID. Without NOTIFY_SOCKET (not
 * under systemd, or Type≠notify) every call is a no-op, and a failing tool is logged, never fatal.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../base/logger.js';

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** The tool to run; tests point it elsewhere. */
  command?: string;
  log?: Logger;
}

/** The command line that sends `fields` (e.g. { READY: '1', STATUS: 'online' }). */
export function notifyArgs(fields: Record<string, string>, pid: number): string[] {
  return [`--pid=${pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)];
}

/** Milliseconds between watchdog pings (half of WATCHDOG_USEC), or undefined when no watchdog is asked for. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  // WATCHDOG_PID, when set, names the process the watchdog is meant for.
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SdNotify {
  private readonly env: NodeJS.ProcessEnv;
  private readonly pid: number;
  private readonly command: string;
  private readonly log: Logger | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private warned = false;
  /** Sends run one after another so that systemd sees them in the order they were made. */
  private queue: Promise<void> = Promise.resolve();

  constructor(opts: SdNotifyOptions = {}) {
    this.env = opts.env ?? process.env;
    this.pid = opts.pid ?? process.pid;
    this.command = opts.command ?? 'systemd-notify';
    this.log = opts.log;
  }

  /** True when a service manager listens. */
  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  /** Resolves once sent (or at once when disabled); never rejects. */
  send(fields: Record<string, string>): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    this.queue = this.queue.then(() => this.exec(fields));
    return this.queue;
  }

  private exec(fields: Record<string, string>): Promise<void> {
    return new Promise((resolve) => {
      execFile(this.command, notifyArgs(fields, this.pid), { env: this.env, timeout: 5000 }, (err) => {
        if (err && !this.warned) {
          this.warned = true; // once: a missing tool would otherwise log every watchdog tick
          this.log?.warn('sd_notify failed', { command: this.command, err: err.message });
        }
        resolve();
      });
    });
  }

  ready(status?: string): Promise<void> {
    return this.send(status ? { READY: '1', STATUS: status } : { READY: '1' });
  }

  status(text: string): Promise<void> {
    return this.send({ STATUS: text });
  }

  stopping(status?: string): Promise<void> {
    this.stopWatchdog();
    return this.send(status ? { STOPPING: '1', STATUS: status } : { STOPPING: '1' });
  }

  /**
   * Ping the watchdog at half the interval systemd asked for. A plain timer on purpose: it stalls exactly
   * when the event loop stalls, which is what the watchdog is there to catch.
   */
  startWatchdog(): boolean {
    const ms = watchdogIntervalMs(this.env, this.pid);
    if (!this.enabled || ms === undefined || this.watchdog) return false;
    this.watchdog = setInterval(() => void this.send({ WATCHDOG: '1' }), ms);
    this.watchdog.unref();
    return true;
  }

  stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
