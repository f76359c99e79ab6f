/**
 * What the station's display shows, decided once for both OCPP versions: the state of each EVSE (idle,
 * authorized, charging with energy/power/time/cost, done with the final cost, faulted), the tariff or
 * personal message the CSMS gave at authorization, and the CSMS's display messages by priority. The
 * display driver (hal/) only fits, pages and maps the lines this model composes.
 *
 * Order of precedence: an AlwaysFront message > a fault or out-of-order screen > InFront messages >
 * the state screen, cycled with the NormalCycle messages (2.0.1 MessagePriorityEnumType; a 1.6 adapter
 * feeds the same messages from California Pricing).
 */
import type { Clock, TimerHandle } from '../../base/clock.js';
import type { Display, HalFault } from '../../hal/types.js';
import type { Logger } from '../../base/logger.js';
import { layout } from '../../hal/display-text.js';
import type { TypedEmitter } from '../../base/emitter.js';
import type { ConnectorState, MeterSample, Session, SessionEvent, StationEvents } from './api.js';

export type MessagePriority = 'AlwaysFront' | 'InFront' | 'NormalCycle';
/** 2.0.1 MessageStateEnumType: the station state in which a message is shown. */
export type MessageState = 'Charging' | 'Faulted' | 'Idle' | 'Unavailable';

/** A message from the CSMS, as the display model needs it (the adapter keeps the protocol's record). */
export interface ScreenMessage {
  id: number;
  priority: MessagePriority;
  /** Plain text (the adapter converts or refuses formats it cannot show). */
  text: string;
  state?: MessageState;
  /** Epoch ms; absent: from now / until cleared. */
  startAt?: number;
  endAt?: number;
  /** Shown only while this session runs (2.0.1 transactionId). */
  sessionId?: string;
  /** RFC 5646 tag; of messages alike but for their language, the driver's (else English) is shown. */
  language?: string;
}

export interface Cost {
  amount: number;
  currency: string;
}

/** Milliseconds a NormalCycle page (and each page the display needs for it) stays. */
export const CYCLE_MS = 5000;
/** The end screen (final energy and cost) stays this long after the cable is out. */
export const END_SCREEN_MS = 60_000;
const FLASH_MS = 5000;
const PAGE_MS = 3000;

interface EvseView {
  status?: ConnectorState;
  session?: Session;
  sample?: MeterSample;
  /** The last ended session and when its end screen may go. */
  ended?: { session: Session; until: number };
  faults: HalFault[];
}

export interface DisplayModelDeps {
  events: TypedEmitter<StationEvents>;
  clock: Clock;
  log: Logger;
  evseIds: number[];
  display?: Display;
}

export class DisplayModel {
  private readonly views = new Map<number, EvseView>();
  private readonly stationFaults: HalFault[] = [];
  private messages: ScreenMessage[] = [];
  private readonly costs = new Map<string, Cost & { final: boolean }>();
  private readonly sessionTexts = new Map<string, string>();
  private idleText: string | undefined;
  private tariffFallback: string | undefined;
  private tariffsShown = true;
  private readonly finalNotes = new Map<string, string>();
  private flashLines: { lines: string[]; until: number } | undefined;
  private cycleIndex = 0;
  private timer: TimerHandle | undefined;
  private shown: string[] | undefined;
  private running = false;

  private readonly onStatus = (s: ConnectorState): void => {
    this.view(s.evseId).status = s;
    this.update();
  };
  private readonly onSession = (e: SessionEvent): void => {
    const v = this.view(e.session.evseId);
    if (e.type === 'closed') {
      this.onClosed(e);
      return;
    }
    if (e.type === 'ended') {
      // A late 'ended' of an older session must not hide the one now running.
      if (!v.session || v.session.id === e.session.id) {
        v.session = undefined;
        v.ended = { session: e.session, until: Number.POSITIVE_INFINITY };
      }
    } else if (e.type === 'started' || v.session?.id === e.session.id || !v.session) {
      v.session = e.session;
      if (e.type === 'started') v.ended = undefined;
    }
    this.update();
  };
  /** The cable left (or another session took the EVSE): the end screen goes after its time. */
  private readonly onClosed = (e: SessionEvent): void => {
    const v = this.view(e.session.evseId);
    if (v.ended?.session.id === e.session.id) v.ended.until = this.clock.now() + END_SCREEN_MS;
    this.update();
  };
  private readonly onMeter = (m: MeterSample): void => {
    this.view(m.evseId).sample = m;
    this.update();
  };
  private readonly onFault = (evseId: number, f: HalFault): void => {
    const list = evseId === 0 ? this.stationFaults : this.view(evseId).faults;
    if (!list.some((x) => x.kind === f.kind)) list.push(f);
    this.update();
  };
  private readonly onFaultCleared = (evseId: number, kind: HalFault['kind']): void => {
    const list = evseId === 0 ? this.stationFaults : this.view(evseId).faults;
    const i = list.findIndex((x) => x.kind === kind);
    if (i >= 0) list.splice(i, 1);
    this.update();
  };

  constructor(private readonly deps: DisplayModelDeps) {
    for (const id of deps.evseIds) this.views.set(id, { faults: [] });
  }

  private get clock(): Clock {
    return this.deps.clock;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const ev = this.deps.events;
    ev.on('status', this.onStatus);
    ev.on('session', this.onSession);
    ev.on('meter', this.onMeter);
    ev.on('fault-raised', this.onFault);
    ev.on('fault-cleared', this.onFaultCleared);
    this.update();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    const ev = this.deps.events;
    ev.off('status', this.onStatus);
    ev.off('session', this.onSession);
    ev.off('meter', this.onMeter);
    ev.off('fault-raised', this.onFault);
    ev.off('fault-cleared', this.onFaultCleared);
    this.clock.clear(this.timer);
    this.timer = undefined;
  }

  /** The CSMS's messages (all of them; the model picks what is due now). */
  setMessages(messages: ScreenMessage[]): void {
    this.messages = messages.slice();
    this.update();
  }

  /** The idle screen's second line: a default price / tariff fallback text; undefined: none. */
  setIdleText(text: string | undefined): void {
    this.idleText = text;
    this.update();
  }

  /** Shown for a session without a tariff text of its own (2.0.1 TariffFallbackMessage); undefined or '': none. */
  setTariffFallback(text: string | undefined): void {
    this.tariffFallback = text || undefined;
    this.update();
  }

  /** Whether tariff texts (personal messages, user prices, fallbacks) are shown (2.0.1 TariffCostCtrlr.Enabled/Tariff). */
  showTariffs(on: boolean): void {
    this.tariffsShown = on;
    this.update();
  }

  /** Shown on the end screen of a session whose cost will not come (2.0.1 TotalCostFallbackMessage). */
  setFinalNote(sessionId: string, text: string): void {
    this.finalNotes.set(sessionId, text);
    this.update();
  }

  /** Tariff text or personal message for a session (replaces the one from its authorization). */
  setSessionText(sessionId: string, text: string): void {
    this.sessionTexts.set(sessionId, text);
    this.update();
  }

  /** Running cost (final=false) or final cost of a session. */
  setCost(sessionId: string, cost: Cost, final = false): void {
    this.costs.set(sessionId, { ...cost, final });
    this.update();
  }

  /** Lines shown for a short while above everything but AlwaysFront (a refused card, a tariff at authorization). */
  flash(lines: string[], ms = FLASH_MS): void {
    this.flashLines = { lines, until: this.clock.now() + ms };
    this.update();
  }

  /** The logical lines the display shows now. */
  screen(): string[] {
    return this.compose().lines;
  }

  private view(evseId: number): EvseView {
    let v = this.views.get(evseId);
    if (!v) this.views.set(evseId, (v = { faults: [] }));
    return v;
  }

  private update(): void {
    if (!this.running) return;
    const { lines, nextChangeAt } = this.compose();
    if (!this.shown || this.shown.join('\n') !== lines.join('\n')) {
      this.shown = lines;
      this.deps.display?.show(lines).catch((err: unknown) => this.deps.log.warn('display write failed', { error: String(err) }));
    }
    this.clock.clear(this.timer);
    this.timer = undefined;
    if (nextChangeAt !== undefined) {
      const ms = Math.max(1, nextChangeAt - this.clock.now());
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.cycleIndex++;
        this.update();
      }, ms);
    }
  }

  private stationState(): MessageState {
    const vs = [...this.views.values()];
    if (vs.some((v) => v.status?.status === 'Faulted') || this.stationFaults.length > 0) return 'Faulted';
    if (vs.some((v) => v.status && ['Charging', 'SuspendedEV', 'SuspendedEVSE'].includes(v.status.status))) return 'Charging';
    if (vs.length > 0 && vs.every((v) => v.status?.status === 'Unavailable')) return 'Unavailable';
    return 'Idle';
  }

  /** Messages due now, and the next time one starts or ends. */
  private dueMessages(now: number): { due: ScreenMessage[]; boundary?: number } {
    const state = this.stationState();
    const running = new Set([...this.views.values()].flatMap((v) => (v.session ? [v.session.id] : [])));
    let boundary: number | undefined;
    const due = this.messages.filter((m) => {
      if (m.startAt !== undefined && m.startAt > now) boundary = Math.min(boundary ?? m.startAt, m.startAt);
      if (m.endAt !== undefined && m.endAt > now) boundary = Math.min(boundary ?? m.endAt, m.endAt);
      if (m.startAt !== undefined && m.startAt > now) return false;
      if (m.endAt !== undefined && m.endAt <= now) return false;
      if (m.state !== undefined && m.state !== state) return false;
      if (m.sessionId !== undefined && !running.has(m.sessionId)) return false;
      return true;
    });
    const picked = this.pickLanguages(due);
    return boundary === undefined ? { due: picked } : { due: picked, boundary };
  }

  /**
   * O01.FR.08/09: messages that differ only in language are one message in several languages: show the
   * one in the driver's language (from the running session's authorization), else English, else the first.
   */
  private pickLanguages(due: ScreenMessage[]): ScreenMessage[] {
    const wanted = [...this.views.values()].map((v) => v.session?.auth?.language).find((l) => l !== undefined);
    const primary = (l: string | undefined) => l?.toLowerCase().split('-')[0];
    const groups = new Map<string, ScreenMessage[]>();
    for (const m of due) {
      const key = [m.priority, m.state, m.startAt, m.endAt, m.sessionId, m.language === undefined ? m.id : ''].join('|');
      groups.set(key, [...(groups.get(key) ?? []), m]);
    }
    const out = new Set<ScreenMessage>();
    for (const g of groups.values()) {
      const choice =
        g.find((m) => wanted !== undefined && m.language?.toLowerCase() === wanted.toLowerCase()) ??
        g.find((m) => wanted !== undefined && primary(m.language) === primary(wanted)) ??
        g.find((m) => primary(m.language) === 'en') ??
        g[0]!;
      out.add(choice);
    }
    return due.filter((m) => out.has(m));
  }

  private compose(): { lines: string[]; nextChangeAt?: number } {
    const now = this.clock.now();
    const { due, boundary } = this.dueMessages(now);
    const at = (t: number | undefined): number | undefined => (boundary === undefined ? t : t === undefined ? boundary : Math.min(t, boundary));
    // 2.0.1: only the newest AlwaysFront message is shown; no station message may cover it.
    const front = due.filter((m) => m.priority === 'AlwaysFront').at(-1);
    if (front) return withNext([front.text], at(undefined));
    if (this.flashLines && this.flashLines.until > now) return withNext(this.flashLines.lines, at(this.flashLines.until));
    this.flashLines = undefined;
    const fault = this.faultScreen();
    if (fault) return withNext(fault, at(undefined));
    const inFront = due.filter((m) => m.priority === 'InFront');
    const cycled = inFront.length > 0 ? inFront.map((m) => [m.text]) : [...this.stateScreens(now), ...due.filter((m) => m.priority === 'NormalCycle').map((m) => [m.text])];
    let endsAt: number | undefined;
    for (const v of this.views.values()) if (v.ended && Number.isFinite(v.ended.until)) endsAt = Math.min(endsAt ?? v.ended.until, v.ended.until);
    if (cycled.length === 1) return withNext(cycled[0]!, at(endsAt));
    const i = this.cycleIndex % cycled.length;
    const lines = cycled[i]!;
    const d = this.deps.display;
    const pages = layout(lines, d?.cols ?? 20, d?.rows ?? 4).length;
    const dwell = Math.max(CYCLE_MS, pages * PAGE_MS);
    const next = Math.min(now + dwell, endsAt ?? Number.POSITIVE_INFINITY);
    return withNext(lines, at(next));
  }

  private faultScreen(): string[] | undefined {
    if (this.stationFaults.length > 0) return ['Out of order', faultText(this.stationFaults[0]!)];
    const vs = [...this.views.entries()];
    const bad = vs.filter(([, v]) => v.status?.status === 'Faulted' || v.faults.some((f) => f.severity === 'high'));
    if (bad.length === 0 || bad.length < vs.length) return undefined; // an EVSE still serves: its screen wins
    const [id, v] = bad[0]!;
    const f = v.faults[0];
    return ['Out of order', f ? faultText(f) : (v.status?.info ?? v.status?.fault?.kind ?? 'Fault'), ...(vs.length > 1 ? [`EVSE ${id}`] : [])];
  }

  /** One screen per EVSE doing something; the idle screen when none is. */
  private stateScreens(now: number): string[][] {
    const multi = this.views.size > 1;
    const screens: string[][] = [];
    for (const [id, v] of this.views) {
      const s = this.evseScreen(v, now);
      if (s) screens.push(multi ? s.map((l, i) => (i === 0 ? `${id}: ${l}` : l)) : s);
    }
    if (screens.length > 0) return screens;
    const vs = [...this.views.values()];
    if (vs.length > 0 && vs.every((v) => v.status?.status === 'Unavailable')) return [['Not available']];
    return [['Ready to charge', this.idleText ?? 'Tap card to start']];
  }

  private evseScreen(v: EvseView, now: number): string[] | undefined {
    const s = v.session;
    if (s) {
      const text = this.tariffsShown ? (this.sessionTexts.get(s.id) ?? s.auth?.personalMessage ?? this.tariffFallback) : undefined;
      const cost = this.costs.get(s.id);
      if (s.authorizedAt === undefined) return ['Cable connected', 'Tap card to start'];
      const status = v.status?.status;
      const charging = s.powerPathClosed || status === 'Charging' || status === 'SuspendedEV' || status === 'SuspendedEVSE';
      if (!charging) return ['Authorized', text ?? 'Plug in the cable'];
      const head = status === 'SuspendedEV' ? 'Paused by EV' : status === 'SuspendedEVSE' ? 'Paused' : `Charging ${kw(v.sample?.reading.powerW ?? 0)}`;
      const lines = [head, `${kwh(energyWh(s, v.sample))} ${duration(now - (s.authorizedAt ?? s.startedAt))}`];
      if (cost) lines.push(`Cost ${money(cost)}`);
      if (text) lines.push(text);
      return lines;
    }
    const e = v.ended;
    if (e && e.until > now) {
      const cost = this.costs.get(e.session.id);
      const wh = e.session.meterStopWh !== undefined && e.session.meterStartWh !== undefined ? e.session.meterStopWh - e.session.meterStartWh : undefined;
      const lines = ['Charging done', `${wh !== undefined ? kwh(wh) : ''} ${duration((e.session.endedAt ?? now) - (e.session.authorizedAt ?? e.session.startedAt))}`.trim()];
      const note = this.finalNotes.get(e.session.id);
      if (cost) lines.push(`${cost.final ? 'Total' : 'Cost'} ${money(cost)}`);
      if (note) lines.push(note);
      if (!Number.isFinite(e.until)) lines.push('Unplug the cable');
      return lines;
    }
    if (e) v.ended = undefined;
    if (v.status?.status === 'Reserved') return ['Reserved'];
    return undefined;
  }
}

function withNext(lines: string[], next: number | undefined): { lines: string[]; nextChangeAt?: number } {
  return next === undefined ? { lines } : { lines, nextChangeAt: next };
}

const FAULT_TEXT: Record<HalFault['kind'], string> = {
  'contactor-welded': 'Contactor fault',
  'contactor-stuck-open': 'Contactor fault',
  'lock-failure': 'Cable lock fault',
  'meter-silent': 'Meter fault',
  'rcd-trip': 'Residual current',
  'diode-failure': 'Vehicle fault',
  'pilot-error': 'Vehicle fault',
  'pilot-board-lost': 'Internal fault',
  'reader-failure': 'Card reader fault',
  overcurrent: 'Overcurrent',
  'high-temperature': 'Too hot',
  'ground-failure': 'Ground fault',
  'emergency-stop': 'Emergency stop',
  'port-lost': 'Internal fault',
  'storage-failure': 'Internal fault',
  'comm-failure': 'Internal fault',
};

function faultText(f: HalFault): string {
  return FAULT_TEXT[f.kind];
}

function energyWh(s: Session, sample: MeterSample | undefined): number {
  if (!sample || s.meterStartWh === undefined || sample.sessionId !== s.id) return 0;
  return Math.max(0, sample.reading.energyImportWh - s.meterStartWh);
}

export function kw(w: number): string {
  return `${(w / 1000).toFixed(1)} kW`;
}

export function kwh(wh: number): string {
  return `${(wh / 1000).toFixed(2)} kWh`;
}

export function duration(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}`;
}

export function money(c: Cost): string {
  return c.currency ? `${c.currency} ${c.amount.toFixed(2)}` : c.amount.toFixed(2);
}
