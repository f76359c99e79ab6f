/**
 * One adapter shape for every OCPP version: an adapter is a list of blocks (boot, availability,
 * remote, transactions, …) over one AdapterKit. A block is given a BlockContext and registers its
 * own CSMS handlers (through the registration gate) and its own station/link subscriptions (through
 * the kit's Subscriptions, so the adapter's stop removes them); it logs under its own namespace
 * (`ocpp:v16:tx`). The adapter's index.ts is then only the list of blocks and this wiring.
 */
import type { Clock } from '../../../base/clock.js';
import type { Logger } from '../../../base/logger.js';
import type { StationConfig } from '../../config/types.js';
import type { StationApi, StationEvents } from '../../station/api.js';
import type { Db } from '../../store/db.js';
import type { AdapterDeps } from '../adapter.js';
import type { LinkEvents } from '../link.js';
import { typedLink, type ActionOf, type MessageMap, type TypedHandler, type TypedLink } from '../messages/typed-link.js';
import { CsmsTime } from './csms-time.js';
import { DeferredWork, type DeferredFn } from './deferred.js';
import { RegistrationGate, type GateOptions } from './registration-gate.js';
import { Subscriptions } from './subscriptions.js';

export interface BlockContext<M extends MessageMap<M>, Before extends string = never> {
  readonly link: TypedLink<M>;
  readonly station: StationApi;
  readonly db: Db;
  readonly clock: Clock;
  readonly config: StationConfig;
  /** This block's logger (`ocpp:<version>:<block>`). */
  readonly log: Logger;
  readonly csmsTime: CsmsTime;
  readonly gate: RegistrationGate<M, Before>;
  readonly subs: Subscriptions;
  /** Answer a CSMS-initiated action; the gate answers first while not Accepted. */
  handle<A extends ActionOf<M>>(action: A, handler: TypedHandler<M, A>): void;
  /** Run after the present call's response (../kit/deferred.ts); failures logged under this block. */
  defer(fn: DeferredFn, what?: string): void;
  /** Subscribe to the station for the adapter's lifetime. */
  onStation<K extends keyof StationEvents & string>(event: K, fn: (...args: StationEvents[K]) => void): void;
  /** Subscribe to the link for the adapter's lifetime. */
  onLink<K extends keyof LinkEvents & string>(event: K, fn: (...args: LinkEvents[K]) => void): void;
}

/** A block: a name (its log namespace) and what it registers. Its return may say how it stops. */
export interface Block<C> {
  readonly name: string;
  register(ctx: C): void | Promise<void>;
}

export interface KitOptions<M extends MessageMap<M>, Before extends string> {
  /** Log namespace of the adapter, e.g. `ocpp:v16`. */
  namespace: string;
  gate: GateOptions<M, Before>;
}

export class AdapterKit<M extends MessageMap<M>, Before extends string = never> {
  readonly link: TypedLink<M>;
  readonly csmsTime: CsmsTime;
  readonly gate: RegistrationGate<M, Before>;
  readonly subs = new Subscriptions();
  /** The adapter's own logger; blocks get children of it. */
  readonly log: Logger;
  private readonly contexts = new Map<string, BlockContext<M, Before>>();

  constructor(
    readonly deps: AdapterDeps,
    opts: KitOptions<M, Before>,
  ) {
    this.link = typedLink<M>(deps.link);
    this.csmsTime = new CsmsTime(deps.clock);
    this.gate = new RegistrationGate<M, Before>(opts.gate);
    this.log = deps.log.child(opts.namespace);
  }

  /** The context of one block, logging as `<namespace>:<name>`; the same object for the same name. */
  context(name: string): BlockContext<M, Before> {
    const { deps, link, gate, subs } = this;
    const known = this.contexts.get(name);
    if (known) return known;
    const log = this.log.child(name);
    const deferred = new DeferredWork(log);
    const ctx: BlockContext<M, Before> = {
      link,
      station: deps.station,
      db: deps.db,
      clock: deps.clock,
      config: deps.config,
      log,
      csmsTime: this.csmsTime,
      gate,
      subs,
      handle: (action, handler) => link.handle(action, gate.guard(action, handler)),
      // Work deferred before a stop and due after it is dropped (the adapter is no longer serving).
      defer: (fn, what) => deferred.after(() => (subs.stopped ? undefined : fn()), what),
      onStation: (event, fn) => subs.on(deps.station, event, fn),
      onLink: (event, fn) => subs.on(deps.link, event, fn),
    };
    this.contexts.set(name, ctx);
    return ctx;
  }

  /**
   * Register each block, in order, with its own context (built by `extend` from the kit's). A block
   * whose registration is async (e.g. it must reconfigure the link before the first connection) is
   * awaited before the next one registers.
   */
  async register<C>(blocks: readonly Block<C>[], extend: (base: BlockContext<M, Before>, block: string) => C): Promise<void> {
    for (const b of blocks) await b.register(extend(this.context(b.name), b.name));
  }

  /** Detach every subscription; the blocks' deferred work not started yet is dropped. */
  stop(): void {
    this.subs.stop((err) => this.log.error('a clean-up at stop failed', { error: String(err) }));
  }

  /** Before a second start: subscriptions work again. */
  restart(): void {
    this.subs.restart();
  }
}
