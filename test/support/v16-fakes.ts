/**
 * Fakes for unit tests of the 1.6 adapter: an OcppLink with an in-memory outbox that keeps order
 * and waits for each answer like the real one, and a StationApi whose state the test sets and whose
 * commands it records. Integration tests use the real link, station and CSMS instead.
 */
import { TypedEmitter } from '../../base/emitter.js';
import type { HalFault } from '../../hal/types.js';
import { silentLogger, type Logger } from '../../base/logger.js';
import type { StationConfig } from '../../src/config/types.js';
import type { CallHandler, LinkEvents, OcppLink, OcppProtocol, OutboxMessage } from '../../src/ocpp/link.js';
import type {
  AuthInfo,
  AuthSettings,
  AvailabilityResult,
  ConnectorState,
  CsmsGateway,
  IdToken,
  LocalListEntry,
  MeterSample,
  RequestStartOptions,
  Reservation,
  ReservationResult,
  ResetKind,
  SampleContext,
  Session,
  SessionEvent,
  SessionEventType,
  SessionTrigger,
  StationApi,
  StationEvents,
  StopReason,
  UnlockResult,
} from '../../src/station/api.js';

export const quietLog: Logger = silentLogger;

/** A session on EVSE 1, connector 1, plugged in but not charging yet; over sets what a test needs. */
export const session = (over: Partial<Session> = {}): Session => ({
  id: 'S1',
  evseId: 1,
  connectorId: 1,
  startedAt: Date.UTC(2026, 0, 1, 8),
  powerPathClosed: false,
  chargingState: 'EVConnected',
  ...over,
});

export interface Sent {
  action: string;
  payload: Record<string, unknown>;
  queued: boolean;
}

type Responder = (payload: Record<string, unknown>) => unknown;

let nextTid = 100;
const defaults: Record<string, Responder> = {
  BootNotification: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }),
  Heartbeat: () => ({ currentTime: new Date().toISOString() }),
  Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
  StartTransaction: () => ({ transactionId: ++nextTid, idTagInfo: { status: 'Accepted' } }),
  StopTransaction: () => ({}),
};

/** An OcppLink without a socket: every CALL the adapter makes is answered by `responders`. */
export class FakeLink extends TypedEmitter<LinkEvents> implements OcppLink {
  readonly protocol: OcppProtocol | undefined = 'ocpp1.6';
  connected = false;
  ready = false;
  readonly sent: Sent[] = [];
  readonly handlers = new Map<string, CallHandler>();
  readonly responders = new Map<string, Responder>();
  private readonly queue: OutboxMessage[] = [];
  private readonly results = new Map<string, (m: OutboxMessage, r: unknown) => void>();
  private readonly preparers = new Map<string, (m: OutboxMessage) => Record<string, unknown>>();
  private nextId = 1;
  private draining = false;

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  open(): void {
    this.connected = true;
    this.emit('open', 'ocpp1.6');
  }

  close(): void {
    this.connected = false;
    this.emit('close', 1006, 'test');
  }

  private respond(action: string, payload: Record<string, unknown>): unknown {
    const r = this.responders.get(action) ?? defaults[action];
    return r ? r(payload) : {};
  }

  async call<T = unknown>(action: string, payload: object): Promise<T> {
    if (!this.connected) throw new Error('not connected');
    this.sent.push({ action, payload: payload as Record<string, unknown>, queued: false });
    await Promise.resolve();
    return this.respond(action, payload as Record<string, unknown>) as T;
  }

  enqueue(action: string, payload: Record<string, unknown>, opts?: { txKey?: string }): number {
    const m: OutboxMessage = { id: this.nextId++, action, payload, attempts: 0, createdAt: 0 };
    if (opts?.txKey !== undefined) m.txKey = opts.txKey;
    this.queue.push(m);
    queueMicrotask(() => void this.drain());
    return m.id;
  }

  onQueuedResult(action: string, fn: (message: OutboxMessage, response: unknown) => void): void {
    this.results.set(action, fn);
  }

  setQueuedPreparer(action: string, fn: (message: OutboxMessage) => Record<string, unknown>): void {
    this.preparers.set(action, fn);
  }

  handle(action: string, handler: CallHandler): void {
    this.handlers.set(action, handler);
  }

  setReady(ready: boolean): void {
    this.ready = ready;
    if (ready) queueMicrotask(() => void this.drain());
  }

  pendingCount(): number {
    return this.queue.length;
  }

  /** The CSMS calls the station. */
  async csmsCall(action: string, params: unknown): Promise<unknown> {
    const h = this.handlers.get(action);
    if (!h) throw new Error(`NotImplemented: ${action}`);
    return h(params, { action, messageId: 'm' + this.nextId++ });
  }

  actions(): string[] {
    return this.sent.map((s) => s.action);
  }

  ofAction(action: string): Record<string, unknown>[] {
    return this.sent.filter((s) => s.action === action).map((s) => s.payload);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.connected && this.ready && this.queue.length > 0) {
        const m = this.queue[0]!;
        const prep = this.preparers.get(m.action);
        const payload = prep ? prep(m) : m.payload;
        this.sent.push({ action: m.action, payload, queued: true });
        await Promise.resolve();
        const r = this.respond(m.action, payload);
        this.queue.shift();
        this.results.get(m.action)?.(m, r);
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface StationCommand {
  name: string;
  args: unknown[];
}

/** A StationApi whose connectors and sessions the test sets; commands are recorded. */
export class FakeStation extends TypedEmitter<StationEvents> implements StationApi {
  readonly evseIds: number[];
  readonly auth: AuthSettings = {
    authorizationCacheEnabled: false,
    localAuthListEnabled: false,
    localPreAuthorize: false,
    localAuthorizeOffline: false,
    allowOfflineTxForUnknownId: false,
    authorizeRemoteTxRequests: false,
    stopTransactionOnInvalidId: false,
    stopTxOnEVSideDisconnect: false,
    unlockConnectorOnEVSideDisconnect: false,
    connectionTimeOutS: 0,
  };
  readonly connectors = new Map<number, ConnectorState>();
  readonly all = new Map<string, Session>();
  readonly commands: StationCommand[] = [];
  gateway: CsmsGateway | undefined;
  sampleInterval = -1;
  alignedInterval = -1;
  listVersion = 0;
  nextSample: MeterSample | undefined;
  results: {
    requestStart: 'Accepted' | 'Rejected';
    requestStop: boolean;
    unlock: UnlockResult;
    availability: AvailabilityResult;
    reset: 'Accepted' | 'Rejected' | 'Scheduled';
    reserve: ReservationResult;
    cancel: boolean;
    localList: 'Accepted' | 'Failed' | 'VersionMismatch';
  } = {
    requestStart: 'Accepted',
    requestStop: true,
    unlock: 'Unlocked',
    availability: 'Accepted',
    reset: 'Accepted',
    reserve: 'Accepted',
    cancel: true,
    localList: 'Accepted',
  };

  constructor(evses = 1, private readonly now: () => number = () => Date.now()) {
    super();
    this.evseIds = Array.from({ length: evses }, (_, i) => i + 1);
    for (const id of this.evseIds) this.setStatus(id, 'Available', false);
  }

  private record(name: string, ...args: unknown[]): void {
    this.commands.push({ name, args });
  }

  /** Change a connector and emit 'status' like the station does. */
  setStatus(evseId: number, status: ConnectorState['status'], emit = true, extra: Partial<ConnectorState> = {}): void {
    const s: ConnectorState = { evseId, connectorId: 1, status, at: this.now(), ...extra };
    this.connectors.set(evseId, s);
    if (emit) this.emit('status', s);
  }

  /** Update (or create) a session and emit a session event. */
  sessionEvent(type: SessionEventType, s: Session, trigger: SessionTrigger = 'Authorized'): void {
    this.all.set(s.id, { ...s });
    const ev: SessionEvent = { type, trigger, at: this.now(), session: { ...s } };
    this.emit('session', ev);
  }

  meter(sample: MeterSample): void {
    this.emit('meter', sample);
  }

  fault(evseId: number, fault: HalFault): void {
    this.emit('fault-raised', evseId, fault);
  }

  faultCleared(evseId: number, kind: HalFault['kind']): void {
    this.emit('fault-cleared', evseId, kind);
  }

  connector(evseId: number): ConnectorState {
    const c = this.connectors.get(evseId);
    if (!c) throw new Error(`no connector ${evseId}`);
    return c;
  }
  session(evseId: number): Session | undefined {
    return [...this.all.values()].find((s) => s.evseId === evseId && s.endedAt === undefined);
  }
  sessions(): Session[] {
    return [...this.all.values()];
  }
  findSession(sessionId: string): Session | undefined {
    return this.all.get(sessionId);
  }
  setCsms(gateway: CsmsGateway): void {
    this.gateway = gateway;
  }
  /** The station's choice for a token without an EVSE: here the first Available / Preparing one without an authorized session. */
  evseFor(_token: IdToken): number | undefined {
    return this.evseIds.find((e) => {
      const st = this.connector(e).status;
      return (st === 'Available' || st === 'Preparing') && !this.session(e)?.authorizedAt;
    });
  }

  async presentToken(token: IdToken, evseId?: number): Promise<AuthInfo> {
    this.record('presentToken', token, evseId);
    if (!this.gateway?.online) return { status: 'Invalid' };
    return this.gateway.authorize(token, evseId);
  }
  async requestStart(evseId: number, token: IdToken, opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'> {
    this.record('requestStart', evseId, token, opts);
    return this.results.requestStart;
  }
  requestStop(sessionId: string, reason: StopReason, trigger: SessionTrigger): boolean {
    this.record('requestStop', sessionId, reason, trigger);
    return this.results.requestStop;
  }
  deauthorize(sessionId: string, auth: AuthInfo): void {
    this.record('deauthorize', sessionId, auth);
  }
  async unlock(evseId: number): Promise<UnlockResult> {
    this.record('unlock', evseId);
    return this.results.unlock;
  }
  setAvailability(evseId: number, operative: boolean): AvailabilityResult {
    this.record('setAvailability', evseId, operative);
    return this.results.availability;
  }
  reset(kind: ResetKind, evseId?: number): 'Accepted' | 'Rejected' | 'Scheduled' {
    this.record('reset', kind, evseId);
    return this.results.reset;
  }
  reserve(r: Reservation): ReservationResult {
    this.record('reserve', r);
    return this.results.reserve;
  }
  cancelReservation(id: number): boolean {
    this.record('cancelReservation', id);
    return this.results.cancel;
  }
  setLimit(evseId: number, amps: number | undefined): void {
    this.record('setLimit', evseId, amps);
  }
  async sampleNow(evseId: number, context: SampleContext): Promise<MeterSample | undefined> {
    this.record('sampleNow', evseId, context);
    return this.nextSample ? { ...this.nextSample, evseId, context } : undefined;
  }
  setSampleInterval(seconds: number): void {
    this.sampleInterval = seconds;
  }
  setAlignedInterval(seconds: number): void {
    this.alignedInterval = seconds;
  }
  clearAuthCache(): void {
    this.record('clearAuthCache');
  }
  localListVersion(): number {
    return this.listVersion;
  }
  updateLocalList(version: number, full: boolean, entries: LocalListEntry[]): 'Accepted' | 'Failed' | 'VersionMismatch' {
    this.record('updateLocalList', version, full, entries);
    if (this.results.localList === 'Accepted') this.listVersion = version;
    return this.results.localList;
  }
}

/** A complete StationConfig for tests (the config module's defaults may differ). */
export function testConfig(overrides: { v16?: Record<string, string>; csmsUrl?: string } = {}): StationConfig {
  return {
    station: { identity: 'CP-V16', vendor: 'OpenStation', model: 'SimBoard', serialNumber: 'SN-0001', firmwareVersion: '0.1.0' },
    ocpp: {
      version: '1.6',
      csmsUrl: overrides.csmsUrl ?? 'ws://127.0.0.1:1/ocpp',
      securityProfile: 0,
      callTimeoutS: 5,
      pingIntervalS: 0,
      maxFrameBytes: 1024 * 1024,
      reconnect: { minDelayS: 1, maxDelayS: 5 },
      messageLog: { enabled: false, maxBytes: 1_000_000, files: 1 },
      outbox: { retryAttempts: 3, retryIntervalS: 10 },
      v16: { configuration: overrides.v16 ?? {} },
      v201: { variables: {} },
    },
    hal: { board: 'sim' },
    stateDir: '/tmp/v16-test',
    log: { level: 'error' },
    scenarios: {},
  };
}
