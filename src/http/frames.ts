/**
 * Reads the OCPP-J frames the link reports and keeps what an operator asks about: the last 200 frames
 * (direction, type, action, a status word; never payloads, so nothing secret), the answer and latency of
 * every call, the boot status, the OCPP transaction id per EVSE and the firmware / log job status.
 * Only the head of a frame is parsed; the payload only of the few actions read here, and only when small.
 */

export type FrameType = 'call' | 'result' | 'error' | 'other';

export interface FrameEntry {
  /** Epoch ms. */
  t: number;
  dir: 'in' | 'out';
  type: FrameType;
  messageId: string;
  /** The CALL's action; for answers, the action of the CALL they answer (when seen). */
  action?: string;
  /** CALLERROR code, or a result's "status" field (BootNotification Accepted …). */
  note?: string;
  bytes: number;
}

export interface CallOutcome {
  /** 'sent' = the station called the CSMS; 'received' = the CSMS called the station. */
  direction: 'sent' | 'received';
  action: string;
  result: 'ok' | 'error' | 'unanswered';
  /** Seconds from CALL to answer (answered calls only). */
  seconds?: number;
}

export interface JobStatus {
  status: string;
  at: number;
}

export interface FrameListener {
  frame(entry: FrameEntry): void;
  call(direction: 'sent' | 'received', action: string): void;
  outcome(o: CallOutcome): void;
}

const KEEP = 200;
/** Payloads read for their fields only below this size. */
const SMALL = 64 * 1024;
/** A call without an answer after this long is counted unanswered and forgotten. */
const UNANSWERED_MS = 5 * 60_000;
const HEAD = /^\s*\[\s*([2-4])\s*,\s*"((?:[^"\\]|\\.){0,64})"\s*(?:,\s*"([A-Za-z0-9]{1,64})")?/;

/** Actions whose payloads are read (status words, transaction ids). */
const READ_CALL = new Set(['StartTransaction', 'StopTransaction', 'TransactionEvent', 'FirmwareStatusNotification', 'DiagnosticsStatusNotification', 'LogStatusNotification']);
const READ_RESULT = new Set(['BootNotification', 'StartTransaction']);

interface Pending {
  action: string;
  at: number;
  /** Hi-res start for the latency. */
  hr: number;
  /** StartTransaction: the connector it is for. */
  evseId?: number;
}

export class FrameTracker {
  private readonly ring: FrameEntry[] = [];
  private readonly pendingOut = new Map<string, Pending>();
  private readonly pendingIn = new Map<string, Pending>();
  private readonly listeners = new Set<FrameListener>();
  boot: { status: string; at: number; intervalS?: number } | undefined;
  readonly transactionIds = new Map<number, string>();
  firmware: JobStatus | undefined;
  log: JobStatus | undefined;

  constructor(private readonly now: () => number) {}

  subscribe(l: FrameListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  frames(): FrameEntry[] {
    return this.ring.slice();
  }

  /** The link closed: calls still waiting will never be answered on it. */
  connectionLost(): void {
    for (const [map, direction] of [[this.pendingOut, 'sent'], [this.pendingIn, 'received']] as const) {
      for (const p of map.values()) this.tell((l) => l.outcome({ direction, action: p.action, result: 'unanswered' }));
      map.clear();
    }
  }

  add(dir: 'in' | 'out', text: string): void {
    const m = HEAD.exec(text.length > 256 ? text.slice(0, 256) : text);
    const t = this.now();
    const entry: FrameEntry = { t, dir, type: 'other', messageId: '', bytes: Buffer.byteLength(text) };
    if (m) {
      entry.messageId = m[2]!;
      const kind = m[1];
      if (kind === '2') this.onCall(entry, m[3], text);
      else this.onAnswer(entry, kind === '3' ? 'result' : 'error', text);
    }
    this.ring.push(entry);
    if (this.ring.length > KEEP) this.ring.shift();
    this.expire(t);
    this.tell((l) => l.frame(entry));
  }

  private onCall(entry: FrameEntry, action: string | undefined, text: string): void {
    entry.type = 'call';
    if (action) entry.action = action;
    const act = action ?? '?';
    const p: Pending = { action: act, at: entry.t, hr: performance.now() };
    const payload = action && READ_CALL.has(action) ? this.payload(text, 3) : undefined;
    if (payload && entry.dir === 'out') this.readCall(act, payload, p, entry);
    (entry.dir === 'out' ? this.pendingOut : this.pendingIn).set(entry.messageId, p);
    this.tell((l) => l.call(entry.dir === 'out' ? 'sent' : 'received', act));
  }

  private onAnswer(entry: FrameEntry, type: 'result' | 'error', text: string): void {
    entry.type = type;
    // An answer coming in answers our call; one going out answers the CSMS's.
    const map = entry.dir === 'in' ? this.pendingOut : this.pendingIn;
    const p = map.get(entry.messageId);
    if (p) {
      map.delete(entry.messageId);
      entry.action = p.action;
    }
    if (type === 'error') {
      const code = /^\s*\[\s*4\s*,\s*"(?:[^"\\]|\\.)*"\s*,\s*"([A-Za-z]{1,40})"/.exec(text.slice(0, 256));
      if (code) entry.note = code[1];
    } else if (p && READ_RESULT.has(p.action) && entry.dir === 'in') {
      const payload = this.payload(text, 2);
      if (payload) this.readResult(p, payload, entry);
    }
    if (p) {
      this.tell((l) =>
        l.outcome({
          direction: entry.dir === 'in' ? 'sent' : 'received',
          action: p.action,
          result: type === 'result' ? 'ok' : 'error',
          seconds: (performance.now() - p.hr) / 1000,
        }),
      );
    }
  }

  private readCall(action: string, payload: Record<string, unknown>, p: Pending, entry: FrameEntry): void {
    switch (action) {
      case 'StartTransaction':
        if (typeof payload.connectorId === 'number') p.evseId = payload.connectorId;
        break;
      case 'StopTransaction':
        for (const [evse, tx] of this.transactionIds) if (tx === String(payload.transactionId)) this.transactionIds.delete(evse);
        break;
      case 'TransactionEvent': {
        const info = payload.transactionInfo as { transactionId?: unknown } | undefined;
        const evse = (payload.evse as { id?: unknown } | undefined)?.id;
        const tx = typeof info?.transactionId === 'string' ? info.transactionId : undefined;
        if (payload.eventType === 'Ended') {
          for (const [e, id] of this.transactionIds) if (id === tx) this.transactionIds.delete(e);
        } else if (tx && typeof evse === 'number') this.transactionIds.set(evse, tx);
        entry.note = typeof payload.eventType === 'string' ? payload.eventType : undefined;
        break;
      }
      case 'FirmwareStatusNotification':
        if (typeof payload.status === 'string') this.firmware = { status: payload.status, at: entry.t };
        entry.note = this.firmware?.status;
        break;
      case 'DiagnosticsStatusNotification':
      case 'LogStatusNotification':
        if (typeof payload.status === 'string') this.log = { status: payload.status, at: entry.t };
        entry.note = this.log?.status;
        break;
    }
  }

  private readResult(p: Pending, payload: Record<string, unknown>, entry: FrameEntry): void {
    if (p.action === 'BootNotification' && typeof payload.status === 'string') {
      this.boot = { status: payload.status, at: entry.t, ...(typeof payload.interval === 'number' ? { intervalS: payload.interval } : {}) };
      entry.note = payload.status;
    } else if (p.action === 'StartTransaction' && p.evseId !== undefined && typeof payload.transactionId === 'number') {
      this.transactionIds.set(p.evseId, String(payload.transactionId));
      const status = (payload.idTagInfo as { status?: unknown } | undefined)?.status;
      if (typeof status === 'string') entry.note = status;
    }
  }

  /** The payload object at `index` of a small frame, else undefined. */
  private payload(text: string, index: number): Record<string, unknown> | undefined {
    if (text.length > SMALL) return undefined;
    try {
      const frame = JSON.parse(text) as unknown[];
      const p = frame[index];
      return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private expire(now: number): void {
    for (const [map, direction] of [[this.pendingOut, 'sent'], [this.pendingIn, 'received']] as const) {
      for (const [id, p] of map) {
        if (now - p.at < UNANSWERED_MS) break; // insertion order = age order
        map.delete(id);
        this.tell((l) => l.outcome({ direction, action: p.action, result: 'unanswered' }));
      }
    }
  }

  private tell(fn: (l: FrameListener) => void): void {
    for (const l of this.listeners) {
      try {
        fn(l);
      } catch {
        // A listener (metrics, page stream) must never break the link's frame path.
      }
    }
  }
}
