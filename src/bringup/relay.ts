/**
 * `ocpp-station relay toggle --board PROFILE --evse N [--yes] [--hold S]`
 * Closes the contactor of one EVSE of a board profile for --hold seconds and opens it again,
 * printing the mirror contact after each step and any fault (welded, stuck open). Asks for
 * confirmation first: this switches mains power.
 */
import { loadBoardProfile } from '../../hal/profile.js';
import { buildPart, driverContext } from '../../hal/registry.js';
import type { HalFault } from '../../hal/types.js';
import { packageConfigDir } from '../config/paths.js';
import { intArg, processIo, runCommand, sleep, stderrLog, UsageError, type BringupIo } from './common.js';

const USAGE = `usage: ocpp-station relay toggle --board PROFILE --evse N [--yes] [--hold S] [--verbose]
  PROFILE is a name in config/boards/ or a path to a profile file.`;

const OPTIONS = {
  board: { type: 'string' },
  evse: { type: 'string' },
  yes: { type: 'boolean', default: false },
  hold: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export async function main(argv: string[], io: BringupIo = processIo()): Promise<number> {
  return runCommand(argv, io, USAGE, OPTIONS, async (v) => {
    if (!v.board) throw new UsageError('--board is required');
    const evseId = intArg(v.evse, 'evse', 1);
    const profile = loadBoardProfile(v.board, packageConfigDir());
    const evse = profile.evses.find((e) => e.id === evseId);
    if (!evse) throw new UsageError(`board ${profile.name} has no EVSE ${evseId} (has ${profile.evses.map((e) => e.id).join(', ')})`);
    const { driver, ...options } = evse.contactor;
    if (!v.yes) {
      const answer = await io.ask(`Close the contactor of EVSE ${evseId} on board "${profile.name}" (driver ${driver}) for a moment? This switches mains power. Type yes: `);
      if (answer.trim().toLowerCase() !== 'yes') {
        io.err('not confirmed; nothing switched');
        return 1;
      }
    }
    const ctx = driverContext({ clock: io.clock, log: stderrLog(io, v.verbose), part: 'contactor', board: profile, evse, seams: io.deps });
    const relay = await buildPart('contactor', evse.contactor, ctx, `board ${profile.name} EVSE ${evseId} contactor`);
    const faults: HalFault[] = [];
    relay.on('fault', (f) => {
      faults.push(f);
      io.out(`fault ${f.kind} (${f.severity}) ${f.detail ?? ''}`);
    });
    const fb = (): string => (relay.feedback === undefined ? 'no feedback input' : relay.feedback ? 'feedback: closed' : 'feedback: open');
    const settle = typeof options.settleMs === 'number' ? options.settleMs : 300;
    try {
      io.out(`closing … `);
      await relay.set(true);
      await sleep(io.clock, settle + 50);
      io.out(`commanded closed, ${fb()}`);
      await sleep(io.clock, intArg(v.hold, 'hold', 2) * 1000);
    } finally {
      await relay.set(false);
      await sleep(io.clock, settle + 50);
      io.out(`commanded open, ${fb()}`);
      await ctx.close();
    }
    return faults.length > 0 ? 1 : 0;
  });
}
