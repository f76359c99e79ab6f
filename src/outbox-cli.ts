/**
 * `ocpp-station outbox list|show|replay|drop`: the dead letters of the OCPP outbox (messages the CSMS
 * refused with a CALLERROR as often as the retry rule allows, src/ocpp/outbox.ts), for an operator.
 *
 * Works on a stopped station and on a running one alike: it opens the station's SQLite database
 * itself (WAL, so the daemon's reads and writes go on; busy_timeout waits for a daemon write in
 * progress; every change is one short transaction). After a replay it tells a running daemon over
 * its control socket to look at the queue now; a stopped station sends the messages after its next
 * accepted BootNotification.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DaemonUnreachableError, sendControlRequest } from './control/client.js';
import { CONTROL_SOCKET_NAME, OUTBOX_KICK } from './control/protocol.js';
import { openDatabase } from './store/db.js';
import { OutboxStore, type DeadRow } from './store/outbox.js';

const USAGE = `Usage: ocpp-station outbox <command> [options]

Commands:
  list                 the dead letters (and how many messages are queued)
  show ID              one dead letter with its payload
  replay ID…|all       put dead letters back into the queue, at their old place, attempts from 0
  drop ID…|all         delete dead letters for good

Options:
  --config PATH        config file (its stateDir holds station.db)
  --state-dir DIR      the state directory directly (wins over --config)
  --json               machine-readable output
  -h, --help           this text
`;

export class OutboxCliError extends Error {}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function stateDirOf(values: { config?: string; 'state-dir'?: string }): Promise<string> | string {
  if (values['state-dir'] !== undefined) return values['state-dir'];
  return import('./config/load.js').then(({ loadConfig }) => loadConfig(values.config).stateDir);
}

function ids(args: string[], store: OutboxStore): number[] {
  if (args.length === 0) throw new OutboxCliError('name the dead letters: IDs (see: ocpp-station outbox list) or "all"');
  if (args.length === 1 && args[0] === 'all') return store.dead().map((d) => d.id);
  return args.map((a) => {
    if (!/^\d+$/.test(a)) throw new OutboxCliError(`"${a}" is not a dead-letter id (a whole number) or "all"`);
    const id = Number(a);
    if (!store.getDead(id)) throw new OutboxCliError(`no dead letter with id ${id}`);
    return id;
  });
}

function line(d: DeadRow): string {
  const error = d.error.length > 100 ? `${d.error.slice(0, 97)}...` : d.error;
  return `${d.id}\t${d.action}\t${d.txKey ?? '-'}\t${d.attempts}\t${iso(d.diedAt)}\t${error}`;
}

/** Tell a running daemon to look at its queue; a stopped one picks the rows up when it next boots. */
async function kickDaemon(stateDir: string): Promise<string> {
  try {
    const answer = await sendControlRequest(join(stateDir, CONTROL_SOCKET_NAME), { cmd: OUTBOX_KICK }, 3000);
    return answer.ok ? 'the running daemon sends them now' : `the daemon did not take the hint (${answer.error}); it sends them when it next connects`;
  } catch (err) {
    if (err instanceof DaemonUnreachableError) return 'the station sends them after its next accepted BootNotification';
    return `the daemon could not be told (${(err as Error).message}); it sends them when it next connects`;
  }
}

export async function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'state-dir': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`ocpp-station outbox: ${(err as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    out(USAGE);
    return command === undefined && !parsed.values.help ? 64 : 0;
  }
  if (!['list', 'show', 'replay', 'drop'].includes(command)) {
    process.stderr.write(`ocpp-station outbox: unknown command ${command}\n\n${USAGE}`);
    return 64;
  }
  const json = parsed.values.json === true;
  try {
    const stateDir = await stateDirOf(parsed.values);
    const dbPath = join(stateDir, 'station.db');
    // Never create a database for a station that has none (a typo in --state-dir must not look fine).
    if (!existsSync(dbPath)) throw new OutboxCliError(`no station database at ${dbPath}`);
    const db = openDatabase(dbPath);
    try {
      const store = new OutboxStore(db);
      switch (command) {
        case 'list': {
          if (rest.length) throw new OutboxCliError('list takes no arguments');
          const dead = store.dead();
          if (json) out(JSON.stringify({ queued: store.count(), dead }) + '\n');
          else {
            out(`${dead.length} dead letter(s), ${store.count()} message(s) queued\n`);
            if (dead.length) out(['id\taction\ttxKey\tattempts\tdiedAt\terror', ...dead.map(line)].join('\n') + '\n');
          }
          return 0;
        }
        case 'show': {
          if (rest.length !== 1) throw new OutboxCliError('usage: ocpp-station outbox show ID');
          const [id] = ids(rest, store);
          const d = store.getDead(id!)!;
          out(json ? JSON.stringify(d) + '\n' : `${JSON.stringify({ ...d, createdAt: iso(d.createdAt), diedAt: iso(d.diedAt) }, null, 2)}\n`);
          return 0;
        }
        case 'replay': {
          const n = store.revive(ids(rest, store));
          db.close();
          const how = n > 0 ? await kickDaemon(stateDir) : '';
          out(json ? JSON.stringify({ replayed: n }) + '\n' : `${n} dead letter(s) queued again${how ? `; ${how}` : ''}\n`);
          return 0;
        }
        case 'drop': {
          const n = store.dropDead(ids(rest, store));
          out(json ? JSON.stringify({ dropped: n }) + '\n' : `${n} dead letter(s) deleted\n`);
          return 0;
        }
      }
      return 64;
    } finally {
      if (db.open) db.close();
    }
  } catch (err) {
    process.stderr.write(`ocpp-station outbox: ${(err as Error).message}\n`);
    return 1;
  }
}
