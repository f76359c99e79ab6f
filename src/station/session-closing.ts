/**
 * A session's last milestone, 'closed': after its 'ended', when nothing of it is left on the EVSE. The
 * cable left (trigger EVDeparted; at once when it was out at the end) or another session took the EVSE
 * (that session's opening trigger). A fact that comes before the 'ended' report is kept until then, so
 * 'closed' always follows 'ended'.
 */
import type { Session, SessionEvent, SessionTrigger } from './api.js';

interface Unclosed {
  s: Session;
  reported: boolean;
  closedBy?: { trigger: SessionTrigger; at: number };
}

export class Closings {
  /** Ended sessions (by id) waiting for their 'closed' milestone. */
  private readonly unclosed = new Map<string, Unclosed>();

  constructor(private readonly tell: (e: SessionEvent) => void) {}

  /** A session ended (its 'ended' is not reported yet); `plugged`: the cable is still in. */
  ended(s: Session, plugged: boolean, at: number): void {
    this.unclosed.set(s.id, { s, reported: false, ...(plugged ? {} : { closedBy: { trigger: 'EVDeparted' as const, at } }) });
  }

  /** The session's 'ended' was reported: a close that came first follows it now. */
  reported(s: Session): void {
    const c = this.unclosed.get(s.id);
    if (!c || c.reported) return;
    c.reported = true;
    if (c.closedBy) this.tellClosed(s.id);
  }

  /** The cable left the EVSE, or another session took it: its ended sessions are closed. */
  closeBy(evseId: number, trigger: SessionTrigger, at: number): void {
    for (const [id, c] of [...this.unclosed]) {
      if (c.s.evseId !== evseId) continue;
      c.closedBy ??= { trigger, at };
      if (c.reported) this.tellClosed(id);
    }
  }

  private tellClosed(sessionId: string): void {
    const c = this.unclosed.get(sessionId);
    if (!c?.closedBy) return;
    this.unclosed.delete(sessionId);
    const { trigger, at } = c.closedBy;
    this.tell({ type: 'closed', trigger, at, session: { ...structuredClone(c.s), chargingState: 'Idle' } });
  }
}
