/**
 * What both card-reader drivers share: the port with its port-lost fault, and the suppression of
 * repeats. Readers report a card again and again while it lies on them; one tap must be one token.
 * A read of the same id within holdMs of the last sighting is swallowed (and extends the hold),
 * measured on the injected clock.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { HalDeps, HalFault, IdReader, IdReaderEvents, IdTokenKind } from '../types.js';
import { FaultTracker } from '../fault-tracker.js';
import { ManagedPort } from './port.js';

export interface ReaderPortOptions {
  port: string;
  baudRate: number;
  holdMs: number;
  kind: IdTokenKind;
}

export abstract class SerialReader extends TypedEmitter<IdReaderEvents> implements IdReader {
  private lastId: string | undefined;
  private lastAt = 0;
  protected readonly faults = new FaultTracker(
    (f) => this.emit('fault', f),
    (k) => this.emit('fault-cleared', k),
  );

  constructor(
    readonly options: ReaderPortOptions,
    protected readonly deps: HalDeps,
    protected readonly port: ManagedPort,
  ) {
    super(deps.log);
    port.on('lost', (reason) => this.faults.raise({ kind: 'port-lost', severity: 'low', detail: `card reader ${options.port}: ${reason}` }));
    port.on('open', () => this.faults.clear('port-lost'));
  }

  get activeFaults(): HalFault[] {
    return this.faults.list();
  }

  async start(): Promise<void> {
    await this.port.start();
  }

  /** Report a normalised id unless it is the card still held on the reader. */
  protected seen(id: string): void {
    const now = this.deps.clock.now();
    const repeat = id === this.lastId && now - this.lastAt < this.options.holdMs;
    this.lastId = id;
    this.lastAt = now;
    if (repeat) return;
    this.emit('token', { id, kind: this.options.kind });
  }

  async close(): Promise<void> {
    await this.port.close();
  }
}
