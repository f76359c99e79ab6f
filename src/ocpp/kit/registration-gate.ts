/**
 * Registration with the CSMS (1.6 spec 4.2, 2.0.1 B01–B03) as one object both adapters share: the
 * state the last BootNotification answer left, which CALLs the station may send in it, and how the
 * CSMS's own calls are answered in it.
 *
 * - Accepted: everything goes both ways.
 * - Pending: the station sends BootNotification and what the CSMS asked for with TriggerMessage
 *   (1.6 4.2, 2.0.1 B02.FR.02), nothing else. The CSMS may call the station; the actions listed in
 *   `blockedWhilePending` get the answer given there instead of being carried out (1.6 4.2
 *   RemoteStart/Stop; 2.0.1 B02.FR.05) — the list is data, one per version. The same holds in the
 *   states before the first answer (offline, booting).
 * - Rejected: the station sends only BootNotification (at the interval) and refuses every CSMS call
 *   with CALLERROR SecurityError (1.6 4.2, 2.0.1 B03.FR.08).
 */
import { createRPCError } from 'ocpp-rpc';
import type { CallContext } from '../link.js';
import type { ActionOf, MessageMap, ResponseOf } from '../messages/typed-link.js';

export type BootStatus = 'Accepted' | 'Pending' | 'Rejected';

/** Answers given instead of carrying out a CSMS call while not Accepted. */
export type BlockedAnswers<M extends MessageMap<M>> = { [A in ActionOf<M>]?: ResponseOf<M, A> };

export interface GateOptions<M extends MessageMap<M>, Before extends string> {
  /** State before any BootNotification answer (1.6 'offline', 2.0.1 'None'). */
  initial: Before;
  blockedWhilePending: BlockedAnswers<M>;
  /** Text of the SecurityError CALLERROR while Rejected. */
  rejectedMessage?: string;
}

export interface SendOptions {
  /** The CSMS asked for this message with TriggerMessage. */
  triggered?: boolean;
}

export class RegistrationGate<M extends MessageMap<M>, Before extends string = never> {
  private current: Before | BootStatus;
  private readonly listeners: ((state: Before | BootStatus) => void)[] = [];

  constructor(private readonly opts: GateOptions<M, Before>) {
    this.current = opts.initial;
  }

  get state(): Before | BootStatus {
    return this.current;
  }

  get accepted(): boolean {
    return this.current === 'Accepted';
  }

  /** The actions refused while not Accepted (a copy: the list is the gate's). */
  get blockedActions(): string[] {
    return Object.keys(this.opts.blockedWhilePending);
  }

  set(state: Before | BootStatus): void {
    if (state === this.current) return;
    this.current = state;
    for (const fn of this.listeners) fn(state);
  }

  /** Called on every change of state; returns what removes the listener again. */
  onChange(fn: (state: Before | BootStatus) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** May the station send this CALL now (connection aside)? */
  maySend(action: string, opts: SendOptions = {}): boolean {
    if (action === 'BootNotification') return true;
    if (this.current === 'Accepted') return true;
    return this.current === 'Pending' && opts.triggered === true;
  }

  /**
   * The answer to a CSMS call in the present state: `undefined` when the handler is to run, else the
   * blocked answer. Throws the SecurityError CALLERROR while Rejected.
   */
  check(action: string): { answer: unknown } | undefined {
    if (this.current === 'Rejected') {
      throw createRPCError('SecurityError', this.opts.rejectedMessage ?? 'the station is not accepted by the CSMS');
    }
    if (this.current === 'Accepted') return undefined;
    const blocked = (this.opts.blockedWhilePending as Record<string, unknown>)[action];
    return blocked === undefined ? undefined : { answer: blocked };
  }

  /** A handler wrapped by check(): what the link is given for a CSMS-initiated action. */
  guard<P, R>(action: string, handler: (params: P, ctx: CallContext) => R): (params: P, ctx: CallContext) => R {
    return (params, ctx) => {
      const blocked = this.check(action);
      if (blocked) return structuredClone(blocked.answer) as R;
      return handler(params, ctx);
    };
  }
}
