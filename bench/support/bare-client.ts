/**
 * The anchor of the anchored benches: a bare ocpp-rpc client (strict mode, one call in flight), the
 * least any OCPP 1.6 station built on this library must do. Run as a child process:
 *   node dist/bench/support/bare-client.js boot URL            connect, BootNotification, exit
 *   node dist/bench/support/bare-client.js steady URL EVSES S   MeterValues per EVSE every second for S s,
 *                                                             then prints {"cpuUs": …, "calls": …}
 * and in-process (drain()) for the outbox drain.
 */
import { RPCClient } from 'ocpp-rpc';
import { meterValues } from './anchor.js';

interface Client {
  connect(): Promise<unknown>;
  call(method: string, params: unknown): Promise<unknown>;
  close(opts?: { force?: boolean }): Promise<unknown>;
}

export function bareClient(url: string, identity: string): Client {
  return new RPCClient({
    endpoint: url,
    identity,
    protocols: ['ocpp1.6'],
    strictMode: true,
    reconnect: false,
    callConcurrency: 1,
    pingIntervalMs: 0,
    // The rest left at ocpp-rpc's defaults (a bare client); its typings want every option.
  } as ConstructorParameters<typeof RPCClient>[0]) as unknown as Client;
}

const boot = { chargePointVendor: 'ocpp-station', chargePointModel: 'sim-2' };

/** Connect and send `count` MeterValues one after the other; resolves with the seconds from connect to the last answer. */
export async function drain(url: string, count: number): Promise<number> {
  const client = bareClient(url, 'BARE-DRAIN');
  const t0 = process.hrtime.bigint();
  await client.connect();
  for (let i = 0; i < count; i++) await client.call('MeterValues', meterValues(1, 1, i));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  await client.close({ force: true });
  return s;
}

async function main(): Promise<void> {
  const [mode, url, evsesArg, secondsArg] = process.argv.slice(2);
  if (mode === 'boot') {
    const client = bareClient(url!, 'BARE-BOOT');
    await client.connect();
    await client.call('BootNotification', boot);
    await client.close({ force: true });
    process.exit(0);
  }
  if (mode === 'steady') {
    const evses = Number(evsesArg);
    const seconds = Number(secondsArg);
    const client = bareClient(url!, 'BARE-STEADY');
    await client.connect();
    await client.call('BootNotification', boot);
    let calls = 0;
    let n = 0;
    // One timer per EVSE, as a station samples each EVSE on its own clock; calls wait their turn.
    let chain: Promise<unknown> = Promise.resolve();
    const timers = Array.from({ length: evses }, (_, i) =>
      setInterval(() => {
        chain = chain.then(() => client.call('MeterValues', meterValues(i + 1, i + 1, n++))).then(() => calls++);
      }, 1000),
    );
    await new Promise((r) => setTimeout(r, 2000)); // warm-up
    const c0 = calls;
    const cpu0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const done = calls - c0;
    for (const t of timers) clearInterval(t);
    process.stdout.write(JSON.stringify({ cpuUs: cpu.user + cpu.system, calls: done }) + '\n');
    await client.close({ force: true });
    process.exit(0);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
