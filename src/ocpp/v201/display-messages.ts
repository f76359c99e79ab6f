/**
 * O01–O06 of the 2.0.1 adapter: SetDisplayMessage (plain and for a transaction, replacing by id),
 * GetDisplayMessages → NotifyDisplayMessages, ClearDisplayMessage, and the DisplayMessageCtrlr variables.
 * Messages are kept in SQLite (O01.FR.10) and handed to the station's display model, which decides what
 * is on the screen (priorities, cycle, start/end time, state, transaction, language).
 *
 * Formats: ASCII and UTF8 are shown; HTML and URI are answered NotSupportedMessageFormat (O01.FR.03,
 * O02.FR.05): a character display can render neither. Content is limited to 512 characters by the
 * schema; longer than the display is fine (it is wrapped and paged).
 */
import type { ScreenMessage } from '../../station/display-model.js';
import { displayMessageDelete, displayMessagePut, displayMessagesAll } from '../../store/display-messages.js';
import type {
  GetDisplayMessagesRequest,
  GetDisplayMessagesResponse,
  MessageFormatEnumType,
  MessageInfoType,
  MessagePriorityEnumType,
  MessageStateEnumType,
  SetDisplayMessageResponse,
} from '../messages/v201.js';
import type { V201Context } from './context.js';
import type { VariableDef } from './device-model-data.js';

type Priority = MessagePriorityEnumType;
type State = MessageStateEnumType;
export type MessageInfo = MessageInfoType;

const FORMATS: MessageFormatEnumType[] = ['ASCII', 'UTF8'];
const PRIORITIES: Priority[] = ['AlwaysFront', 'InFront', 'NormalCycle'];
const STATES: State[] = ['Charging', 'Faulted', 'Idle', 'Unavailable'];
/** Messages stored at most (DisplayMessageCtrlr.DisplayMessages maxLimit). */
export const MAX_DISPLAY_MESSAGES = 20;
/** MessageInfo entries per NotifyDisplayMessagesRequest (O03.FR.03: split, tbc on all but the last). */
export const NOTIFY_CHUNK = 10;

export function displayMessageVariables(): VariableDef[] {
  const c = 'DisplayMessageCtrlr';
  const ro = (variable: string, dataType: VariableDef['dataType'], value: string, extra: Partial<VariableDef> = {}): VariableDef => ({
    component: c,
    variable,
    dataType,
    mutability: 'ReadOnly',
    persistent: true,
    constant: true,
    defaults: { Actual: value },
    controller: true,
    ...extra,
  });
  return [
    ro('Available', 'boolean', 'true'),
    { component: c, variable: 'Enabled', dataType: 'boolean', mutability: 'ReadWrite', persistent: true, defaults: { Actual: 'true' }, controller: true },
    // Actual is live (the count now); maxLimit is what O01.FR.11 checks against.
    { ...ro('DisplayMessages', 'integer', '0', { maxLimit: MAX_DISPLAY_MESSAGES }), constant: false },
    ro('SupportedFormats', 'MemberList', FORMATS.join(','), { valuesList: 'ASCII,HTML,URI,UTF8' }),
    ro('SupportedPriorities', 'MemberList', PRIORITIES.join(','), { valuesList: PRIORITIES.join(',') }),
    ro('PersonalMessageSize', 'integer', '512'),
  ];
}

export class DisplayMessages {
  private messages = new Map<number, MessageInfo>();

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    for (const m of displayMessagesAll<MessageInfo>(this.ctx.deps.db)) this.messages.set(m.id, m);
    // A restart ends the transactions that were running: their messages go with them (O02.FR.02).
    for (const m of [...this.messages.values()]) if (m.transactionId !== undefined && !this.running(m.transactionId)) this.remove(m.id);
    this.ctx.handle('SetDisplayMessage', (p) => this.set(p.message));
    this.ctx.handle('GetDisplayMessages', (p) => this.get(p));
    this.ctx.handle('ClearDisplayMessage', (p) => {
      const found = this.remove(p.id);
      this.publish();
      return { status: found ? 'Accepted' : 'Unknown' }; // O05.FR.01 / O05.FR.02
    });
    this.ctx.onStation('session', (e) => {
      if (e.type !== 'ended') return;
      let changed = false;
      for (const m of [...this.messages.values()]) if (m.transactionId === e.session.id) changed = this.remove(m.id) || changed; // O02.FR.02
      if (changed) this.publish();
    });
    this.publish();
  }

  /** DisplayMessageCtrlr.DisplayMessages Actual. */
  count(): number {
    this.dropExpired();
    return this.messages.size;
  }

  private running(transactionId: string): boolean {
    const s = this.ctx.station.findSession(transactionId);
    return s !== undefined && s.endedAt === undefined;
  }

  private set(m: MessageInfo): SetDisplayMessageResponse {
    const rejected = (reasonCode: string, additionalInfo: string): SetDisplayMessageResponse => ({ status: 'Rejected', statusInfo: { reasonCode, additionalInfo } });
    if (!this.ctx.dm.bool('DisplayMessageCtrlr.Enabled')) return rejected('Disabled', 'DisplayMessageCtrlr.Enabled is false');
    if (!PRIORITIES.includes(m.priority)) return { status: 'NotSupportedPriority' };
    if (m.state !== undefined && !STATES.includes(m.state)) return { status: 'NotSupportedState' };
    if (!FORMATS.includes(m.message.format)) return { status: 'NotSupportedMessageFormat' }; // O01.FR.03
    if (m.transactionId !== undefined && !this.running(m.transactionId)) return { status: 'UnknownTransaction' }; // O02.FR.01
    const start = m.startDateTime !== undefined ? this.ctx.fromIso(m.startDateTime) : undefined;
    const end = m.endDateTime !== undefined ? this.ctx.fromIso(m.endDateTime) : undefined;
    if (start !== undefined && end !== undefined && end <= start) return rejected('InvalidValue', 'endDateTime is not after startDateTime');
    if (end !== undefined && end <= this.ctx.clock.now()) return rejected('InvalidValue', 'endDateTime has passed');
    if (m.display && m.display.name !== 'Display') return rejected('UnknownComponent', `this station has no display "${m.display.name}"`);
    this.dropExpired();
    // O01.FR.11: the count after this request; replacing an id (O06.FR.01) does not add one.
    if (!this.messages.has(m.id) && this.messages.size + 1 > MAX_DISPLAY_MESSAGES) return rejected('OutOfStorage', `at most ${MAX_DISPLAY_MESSAGES} messages`);
    const stored: MessageInfo = { ...m };
    // O01.FR.16 / O02.FR.18: a new AlwaysFront message replaces the one already set.
    if (m.priority === 'AlwaysFront') for (const old of [...this.messages.values()]) if (old.priority === 'AlwaysFront' && old.id !== m.id) this.remove(old.id);
    displayMessagePut(this.ctx.deps.db, m.id, stored);
    this.messages.set(m.id, stored);
    this.publish();
    return { status: 'Accepted' };
  }

  private get(req: GetDisplayMessagesRequest): GetDisplayMessagesResponse {
    this.dropExpired();
    const all = [...this.messages.values()];
    const match = all.filter(
      (m) => (req.id === undefined || req.id.includes(m.id)) && (req.priority === undefined || m.priority === req.priority) && (req.state === undefined || m.state === req.state),
    );
    // O03.FR.06 / O04.FR.02 / O04.FR.07: nothing configured or nothing matching: Unknown, no report.
    if (match.length === 0) return { status: 'Unknown' };
    this.ctx.afterResponse(async () => {
      for (let i = 0; i < match.length; i += NOTIFY_CHUNK) {
        const part = match.slice(i, i + NOTIFY_CHUNK);
        const last = i + NOTIFY_CHUNK >= match.length;
        await this.ctx.send('NotifyDisplayMessages', { requestId: req.requestId, messageInfo: part, ...(last ? {} : { tbc: true }) });
      }
    });
    return { status: 'Accepted' };
  }

  /** O01.FR.07: a message is removed after its end time. */
  private dropExpired(): void {
    const now = this.ctx.clock.now();
    for (const m of [...this.messages.values()]) if (m.endDateTime !== undefined && this.ctx.fromIso(m.endDateTime) <= now) this.remove(m.id);
  }

  private remove(id: number): boolean {
    const had = this.messages.delete(id);
    displayMessageDelete(this.ctx.deps.db, id);
    return had;
  }

  /** Hand the messages to the station's display model. */
  private publish(): void {
    const display = this.ctx.station.display;
    if (!display) return;
    display.setMessages([...this.messages.values()].map((m) => toScreen(m, (iso) => this.ctx.fromIso(iso))));
  }
}

/** The message for the station's display; its times (the CSMS's) as station time. */
function toScreen(m: MessageInfo, fromIso: (iso: string) => number): ScreenMessage {
  const s: ScreenMessage = { id: m.id, priority: m.priority, text: m.message.content };
  if (m.state) s.state = m.state;
  if (m.startDateTime) s.startAt = fromIso(m.startDateTime);
  if (m.endDateTime) s.endAt = fromIso(m.endDateTime);
  if (m.transactionId) s.sessionId = m.transactionId;
  if (m.message.language) s.language = m.message.language;
  return s;
}
