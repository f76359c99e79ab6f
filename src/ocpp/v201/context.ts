/**
 * What the parts of the 2.0.1 adapter share: its dependencies, the device model, the registration
 * state of B01–B03, and the two ways out (a direct CALL, gated by that state, and the durable outbox).
 */
import { createRPCError } from 'ocpp-rpc';
import type { AdapterDeps } from '../adapter.js';
import type { LinkEvents } from '../link.js';
import { typedLink, type TypedHandler, type TypedLink } from '../messages/typed-link.js';
import type { V201Action, V201Messages } from '../messages/v201.js';
import type { StationEvents } from '../../station/api.js';
import type { DeviceModel } from './device-model.js';
import type { V201DeviceModelRepo } from '../../store/v201-device-model.js';
import type { V201TransactionRepo } from '../../store/v201-transactions.js';

export type Registration = 'None' | 'Pending' | 'Accepted' | 'Rejected';

/** Actions the station may send while not Accepted when the CSMS asked for them (B02.FR.02). */
export type SendOptions = { triggered?: boolean };

export class V201Context {
  registration: Registration = 'None';
  /** Set by stop(): station events after it are not turned into messages. */
  stopped = false;
  private readonly detachers: (() => void)[] = [];
  /** The link typed by the 2.0.1 messages. */
  readonly link: TypedLink<V201Messages>;

  constructor(
    readonly deps: AdapterDeps,
    readonly dm: DeviceModel,
    readonly dmRepo: V201DeviceModelRepo,
    readonly txRepo: V201TransactionRepo,
  ) {
    this.link = typedLink<V201Messages>(deps.link);
  }

  get station() {
    return this.deps.station;
  }
  get clock() {
    return this.deps.clock;
  }
  get log() {
    return this.deps.log;
  }

  /** Subscribe to a station event for the adapter's lifetime (removed again by detach()). */
  onStation<K extends keyof StationEvents & string>(event: K, fn: (...args: StationEvents[K]) => void): void {
    const guarded = (...args: StationEvents[K]): void => {
      if (!this.stopped) fn(...args);
    };
    this.station.on(event, guarded);
    this.detachers.push(() => this.station.off(event, guarded));
  }

  /** Subscribe to a link event for the adapter's lifetime (removed again by detach()). */
  onLink<K extends keyof LinkEvents & string>(event: K, fn: (...args: LinkEvents[K]) => void): void {
    const guarded = (...args: LinkEvents[K]): void => {
      if (!this.stopped) fn(...args);
    };
    this.link.on(event, guarded);
    this.detachers.push(() => this.link.off(event, guarded));
  }

  detach(): void {
    this.stopped = true;
    for (const d of this.detachers.splice(0)) d();
  }

  iso(ms: number = this.clock.now()): string {
    return new Date(ms).toISOString();
  }

  /** May a non-boot CALL go out now? B01.FR.08, B02.FR.02, B03.FR.02. */
  maySend(action: V201Action, opts: SendOptions = {}): boolean {
    if (!this.link.connected) return false;
    if (action === 'BootNotification') return true;
    if (this.registration === 'Accepted') return true;
    return this.registration === 'Pending' && opts.triggered === true;
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
   * (B03.FR.08); `whileNotAccepted` answers the Pending-state override (e.g. B02.FR.05) instead.
   */
  handle<A extends V201Action>(
    action: A,
    handler: TypedHandler<V201Messages, A>,
    whileNotAccepted?: () => V201Messages[A]['response'],
  ): void {
    this.link.handle(action, (params, ctx) => {
      if (this.registration === 'Rejected') throw createRPCError('SecurityError', 'boot notification was rejected');
      if (this.registration !== 'Accepted' && whileNotAccepted) return whileNotAccepted();
      return handler(params, ctx);
    });
  }

  /** Run after the current CALL's response went out (F06.FR.04), not on the station clock. */
  afterResponse(fn: () => Promise<void> | void): void {
    setImmediate(() => {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => this.log.error('v201: deferred work failed', { error: String(err) }));
    });
  }
}
