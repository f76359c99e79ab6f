/**
 * `npm run csms`: the in-process test CSMS as a standalone process on 127.0.0.1, printing every OCPP
 * message, so that `npm start` (whose example config points at ws://127.0.0.1:9000/ocpp) has a peer.
 * Strict schema validation both ways; answers every station call with a valid default.
 *
 *   npm run csms                         # both subprotocols, port 9000
 *   npm run csms -- --port 9100 --protocol ocpp2.0.1
 */
import { parseArgs } from 'node:util';
import { startCsms } from './csms.js';
import { formatCsmsEntry } from './format.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9000' },
      protocol: { type: 'string', multiple: true },
      full: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const protocols = values.protocol ?? ['ocpp1.6', 'ocpp2.0.1'];
  for (const p of protocols) {
    if (p !== 'ocpp1.6' && p !== 'ocpp2.0.1') throw new Error(`--protocol: ocpp1.6 or ocpp2.0.1, not ${p}`);
  }
  const csms = await startCsms({ port, protocols });
  console.log(`dev CSMS listening on ${csms.url} (${protocols.join(', ')}); stations connect to ${csms.url}/IDENTITY`);
  const t0 = Date.now();
  let printed = 0;
  const timer = setInterval(() => {
    while (printed < csms.log.length) console.log(formatCsmsEntry(csms.log[printed++]!, t0, values.full ? Infinity : 110));
  }, 100);
  const stop = (): void => {
    clearInterval(timer);
    void csms.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
