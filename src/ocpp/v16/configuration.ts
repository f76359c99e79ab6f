/**
 * The live 1.6 configuration (1.6's counterpart of 2.0.1's device model): key definitions
 * (config-keys.ts) over values in SQLite. Its block serves GetConfiguration / ChangeConfiguration
 * (spec 5.8, 5.3) and applies the link's keys (retry policy, ping interval, message timeout); the
 * blocks whose keys change station behaviour (authorization, transactions, boot, data-transfer)
 * subscribe to onChange themselves.
 */
import type { Db } from '../../store/db.js';
import type { V16Block, V16Context } from './context.js';
import { V16ConfigRepo } from '../../store/v16-config.js';
import { KEY_DEFS, keyDef, normaliseValue, type KeyContext, type KeyDef } from './config-keys.js';

export type ChangeStatus = 'Accepted' | 'Rejected' | 'RebootRequired' | 'NotSupported';

export interface KeyValue {
  key: string;
  readonly: boolean;
  value?: string;
}

export class V16Configuration {
  private readonly repo: V16ConfigRepo;
  private readonly values = new Map<string, string>();
  private readonly listeners: ((key: string, value: string) => void)[] = [];
  /** Keys marked rebootRequired that the running system can nevertheless apply at once. */
  private readonly live = new Set<string>();

  /**
   * seed: config.ocpp.v16.configuration; a seeded value is written only when the key has no stored
   * value yet (first start), so later ChangeConfiguration results survive restarts. Invalid seeds are
   * reported through `warn` and ignored.
   */
  constructor(
    db: Db,
    private readonly ctx: KeyContext,
    seed: Record<string, string>,
    now: number,
    warn: (msg: string) => void = () => {},
  ) {
    this.repo = new V16ConfigRepo(db);
    const stored = this.repo.all();
    // A fact of the station (e.g. of its hardware) is never taken from storage: the board may have changed.
    for (const def of KEY_DEFS) this.values.set(def.key, (def.fact ? undefined : stored.get(def.key)) ?? def.default(ctx));
    for (const [name, raw] of Object.entries(seed)) {
      const def = keyDef(name);
      if (!def) {
        warn(`config.ocpp.v16.configuration: unknown key ${name} ignored`);
        continue;
      }
      if (def.fact) {
        warn(`config.ocpp.v16.configuration: ${def.key} is a fact of the station, not a setting: ignored`);
        continue;
      }
      const value = normaliseValue(def, raw, ctx, this.maxItems(def));
      if (value === undefined) {
        warn(`config.ocpp.v16.configuration: invalid value for ${def.key} ignored`);
        continue;
      }
      if (this.repo.seed(def.key, value, now)) this.values.set(def.key, value);
    }
  }

  /** The link can apply these at run time after all (e.g. it has setRetryPolicy). */
  markLive(...keys: string[]): void {
    for (const k of keys) this.live.add(k);
  }

  /** fn hears every change of a value; returns what removes it again. */
  onChange(fn: (key: string, value: string) => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get(key: string): string {
    const v = this.values.get(key);
    if (v === undefined) throw new Error(`unknown 1.6 configuration key ${key}`);
    return v;
  }

  int(key: string): number {
    return Number(this.get(key));
  }

  bool(key: string): boolean {
    return this.get(key) === 'true';
  }

  /** GetConfiguration.conf: all keys when none are asked for; else known ones plus unknownKey. */
  read(keys: string[] | undefined): { configurationKey: KeyValue[]; unknownKey: string[] } {
    const defs: KeyDef[] = [];
    const unknownKey: string[] = [];
    if (!keys || keys.length === 0) defs.push(...KEY_DEFS);
    else
      for (const k of keys) {
        const def = keyDef(k);
        if (def) defs.push(def);
        else unknownKey.push(k);
      }
    return {
      // A write-only key (AuthorizationKey) is named without its value.
      configurationKey: defs.map((d) => (d.writeOnly ? { key: d.key, readonly: d.readonly } : { key: d.key, readonly: d.readonly, value: this.get(d.key) })),
      unknownKey,
    };
  }

  /** ChangeConfiguration (spec 5.3): NotSupported for unknown keys, Rejected for read-only or bad values. */
  change(name: string, raw: string, now: number): ChangeStatus {
    const def = keyDef(name);
    if (!def) return 'NotSupported';
    if (def.readonly) return 'Rejected';
    const value = normaliseValue(def, raw, this.ctx, this.maxItems(def));
    if (value === undefined) return 'Rejected';
    this.repo.set(def.key, value, now);
    const changed = this.values.get(def.key) !== value;
    this.values.set(def.key, value);
    if (def.rebootRequired && !this.live.has(def.key)) return 'RebootRequired';
    if (changed) for (const fn of this.listeners) fn(def.key, value);
    return 'Accepted';
  }

  /** Set a key from the station's own logic (e.g. the heartbeat interval of BootNotification.conf). */
  setInternal(key: string, value: string, now: number): void {
    if (this.values.get(key) === value) return;
    this.repo.set(key, value, now);
    this.values.set(key, value);
    for (const fn of this.listeners) fn(key, value);
  }

  private maxItems(def: KeyDef): number {
    if (def.type !== 'csl') return Infinity;
    if (!def.maxLengthKey) return Infinity;
    const v = this.values.get(def.maxLengthKey);
    // Spec 5.3: a CSL without its MaxLength key is safely assumed to hold one item.
    return v === undefined ? 1 : Number(v);
  }
}

/**
 * Settings the link takes when it is created (TransactionMessageAttempts, ...): read them before the
 * link is built so that a ChangeConfiguration answered RebootRequired takes effect after the restart.
 */
export function readV16LinkSettings(db: Db): { retryAttempts?: number; retryIntervalS?: number; pingIntervalS?: number; callTimeoutS?: number } {
  const repo = new V16ConfigRepo(db);
  const num = (k: string): number | undefined => {
    const v = repo.get(k);
    return v === undefined ? undefined : Number(v);
  };
  const out: { retryAttempts?: number; retryIntervalS?: number; pingIntervalS?: number; callTimeoutS?: number } = {};
  const a = num('TransactionMessageAttempts');
  if (a !== undefined) out.retryAttempts = a;
  const r = num('TransactionMessageRetryInterval');
  if (r !== undefined) out.retryIntervalS = r;
  const p = num('WebSocketPingInterval');
  if (p !== undefined) out.pingIntervalS = p;
  const t = num('MessageTimeout');
  if (t !== undefined) out.callTimeoutS = t;
  return out;
}

/** The link's retry policy for transaction messages (TransactionMessageAttempts / RetryInterval, 4.10). */
function applyRetryPolicy(ctx: V16Context): void {
  ctx.link.setRetryPolicy?.({ attempts: ctx.cfg.int('TransactionMessageAttempts'), intervalS: ctx.cfg.int('TransactionMessageRetryInterval') });
}

/**
 * WebSocketPingInterval / MessageTimeout answered RebootRequired when changed: this is the reboot.
 * Before the link's first connection reconfigure() only records them; later it reconnects once.
 */
function applyStoredLinkTiming(ctx: V16Context): void {
  const { link, config, log, cfg } = ctx;
  const pingIntervalS = cfg.int('WebSocketPingInterval');
  const callTimeoutS = cfg.int('MessageTimeout');
  if (!link.reconfigure || (pingIntervalS === config.ocpp.pingIntervalS && callTimeoutS === config.ocpp.callTimeoutS)) return;
  link.reconfigure({ pingIntervalS, callTimeoutS }).catch((err: unknown) => log.warn('1.6: link timing not applied', { error: String(err) }));
}

export const configurationBlock: V16Block = {
  name: 'configuration',
  register(ctx) {
    const { cfg } = ctx;
    if (ctx.link.setRetryPolicy) cfg.markLive('TransactionMessageAttempts', 'TransactionMessageRetryInterval');
    applyRetryPolicy(ctx);
    applyStoredLinkTiming(ctx);
    ctx.subs.add(
      cfg.onChange((key) => {
        if (key === 'TransactionMessageAttempts' || key === 'TransactionMessageRetryInterval') applyRetryPolicy(ctx);
      }),
    );

    ctx.handle('GetConfiguration', ({ key }) => {
      const r = cfg.read(key);
      return r.unknownKey.length > 0 ? { configurationKey: r.configurationKey, unknownKey: r.unknownKey } : { configurationKey: r.configurationKey };
    });
    ctx.handle('ChangeConfiguration', ({ key, value }) => ({ status: cfg.change(key, value, ctx.clock.now()) }));
  },
};
