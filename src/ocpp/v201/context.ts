/**
 * What a block of the 2.0.1 adapter is given: the shared adapter kit (../kit: registration gate of
 * B01–B03, subscriptions that detach at stop, work deferred after the response, the CSMS's time) seen
 * through the block's own context (its logger is `ocpp:v201:<block>`), the 2.0.1 device model and
 * stores, and the two ways out (a direct CALL, gated by the registration state, and the durable outbox).
 */
import type { AdapterDeps } from '../adapter.js';
import type { AdapterKit, BlockContext, BlockedAnswers } from '../kit/index.js';
import type { LinkEvents } from '../link.js';
import type { TypedHandler, TypedLink } from '../messages/typed-link.js';
import type { V201Action, V201Messages } from '../messages/v201.js';
import type { StationEvents } from '../../station/api.js';
import type { DeviceModel } from './device-model.js';
import type { V201DeviceModelRepo } from '../../store/v201-device-model.js';
import type { V201TransactionRepo } from '../../store/v201-transactions.js';

/** The registration state: 'None' before any BootNotification answer. */
export type Registration = 'None' | 'Pending' | 'Accepted' | 'Rejected';
export type V201Kit = AdapterKit<V201Messages, 'None'>;

/** Actions the station may send while not Accepted when the CSMS asked for them (B02.FR.02). */
export type SendOptions = { triggered?: boolean };

/** B02.FR.05: while Pending (or before the first answer) a remote start or stop is Rejected, not carried out. */
export const BLOCKED_WHILE_PENDING: BlockedAnswers<V201Messages> = {
  RequestStartTransaction: { status: 'Rejected' },
  RequestStopTransaction: { status: 'Rejected' },
};

/** What every block of one adapter shares. */
export interface V201Shared {
  readonly deps: AdapterDeps;
  readonly kit: V201Kit;
  readonly dm: DeviceModel;
  readonly dmRepo: V201DeviceModelRepo;
  readonly txRepo: V201TransactionRepo;
  /** Has a currentTime of the CSMS been learned in this run (before it, timestamps are station time)? */
  readonly csmsClock: { known: boolean };
}

export class V201Context {
  private readonly block: BlockContext<V201Messages, 'None'>;

  constructor(
    private readonly shared: V201Shared,
    /** The block's name: its log namespace (`ocpp:v201:<name>`). */
    readonly name: string,
  ) {
    this.block = shared.kit.context(name);
  }

  /** The context of another block of the same adapter. */
  forBlock(name: string): V201Context {
    return new V201Context(this.shared, name);
  }

  get deps(): AdapterDeps {
    return this.shared.deps;
  }
  get dm(): DeviceModel {
    return this.shared.dm;
  }
  get dmRepo(): V201DeviceModelRepo {
    return this.shared.dmRepo;
  }
  get txRepo(): V201TransactionRepo {
    return this.shared.txRepo;
  }
  /** The link typed by the 2.0.1 messages. */
  get link(): TypedLink<V201Messages> {
    return this.block.link;
  }
  get station() {
    return this.block.station;
  }
  get clock() {
    return this.block.clock;
  }
  get log() {
    return this.block.log;
  }
  /** Has the CSMS's time been learned in this run? Until then iso() gives station time (offset 0). */
  get csmsTimeKnown(): boolean {
    return this.shared.csmsClock.known;
  }

  /** B01.FR.06: learn the CSMS's time from a currentTime it sent (BootNotification, Heartbeat). */
  learnCsmsTime(currentTime: string): void {
    if (this.block.csmsTime.learn(currentTime)) this.shared.csmsClock.known = true;
  }

  /** A timestamp made in station time (a queued message), as the CSMS's time now. */
  rebaseIso(stationIso: string): string {
    return this.block.csmsTime.rebaseIso(stationIso);
  }

  get registration(): Registration {
    return this.shared.kit.gate.state;
  }
  set registration(state: Registration) {
    this.shared.kit.gate.set(state);
  }

  /** Set by the adapter's stop(): station events after it are not turned into messages. */
  get stopped(): boolean {
    return this.shared.kit.subs.stopped;
  }

  /** Subscribe to a station event for the adapter's lifetime (removed at stop). */
  onStation<K extends keyof StationEvents & string>(event: K, fn: (...args: StationEvents[K]) => void): void {
    this.block.onStation(event, fn);
  }

  /** Subscribe to a link event for the adapter's lifetime (removed at stop). */
  onLink<K extends keyof LinkEvents & string>(event: K, fn: (...args: LinkEvents[K]) => void): void {
    this.block.onLink(event, fn);
  }

  /** Station time (default: now) as the CSMS's time (B01.FR.06: the offset its currentTime gave). */
  iso(ms: number = this.clock.now()): string {
    return this.block.csmsTime.iso(ms);
  }

  /** A time the CSMS sent, as station time (epoch ms; NaN when it does not parse). */
  fromIso(iso: string): number {
    return this.block.csmsTime.fromIso(iso);
  }

  /** May a non-boot CALL go out now? B01.FR.08, B02.FR.02, B03.FR.02. */
  maySend(action: V201Action, opts: SendOptions = {}): boolean {
    return this.link.connected && this.block.gate.maySend(action, opts);
  }

  /** A direct CALL; resolves undefined when it may not be sent now or fails (logged). */
  async send<A extends V201Action>(
    action: A,
    payload: V201Messages[A]['request'],
    opts: SendOptions = {},
  ): Promise<V201Messages[A]['response'] | undefined> {
    if (!this.maySend(action, opts)) {
      this.log.debug('v201: not sent now', { action, registration: this.registration });
      return undefined;
    }
    try {
      return await this.link.call(action, payload);
    } catch (err) {
      this.log.warn('v201: call failed', { action, error: String(err) });
      return undefined;
    }
  }

  /**
   * Register a CSMS-initiated action. While Rejected every call gets CALLERROR SecurityError
   * (B03.FR.08); while not Accepted the actions of BLOCKED_WHILE_PENDING get their answer (B02.FR.05).
   */
  handle<A extends V201Action>(action: A, handler: TypedHandler<V201Messages, A>): void {
    this.block.handle(action, handler);
  }

  /** Run after the current CALL's response went out (F06.FR.04), not on the station clock. */
  afterResponse(fn: () => Promise<void> | void): void {
    this.block.defer(fn);
  }
}
