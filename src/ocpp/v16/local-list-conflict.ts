/**
 * LocalListConflict (spec 3.5.2, 7.6): the Central System's idTagInfo (Authorize.conf,
 * StartTransaction.conf, StopTransaction.conf) says something else about an idTag than the Local
 * Authorization List does. The station keeps its list as it is (only SendLocalList changes it,
 * 3.5.2) and tells the Central System with a StatusNotification of connector 0 whose errorCode is
 * LocalListConflict; the status is connector 0's present one.
 *
 * A conflict is a different validity: the list entry's status (Expired once its expiryDate has
 * passed) against the answer's. ConcurrentTx is no statement about validity (the idTag is valid but
 * busy), so it never conflicts. A disabled list (LocalAuthListEnabled false) has nothing to conflict.
 */
import { localGet } from '../../store/local-list.js';
import type { V16Context } from './context.js';
import type { IdTagInfo } from './transactions.js';

export class LocalListConflicts {
  constructor(
    private readonly ctx: V16Context,
    private readonly report: (info: string) => void,
  ) {}

  /** Compare a Central System answer for idTag with the list; report when they differ. */
  check(idTag: string, answer: IdTagInfo, source: 'Authorize' | 'StartTransaction' | 'StopTransaction'): void {
    const { ctx } = this;
    if (!ctx.station.auth.localAuthListEnabled || answer.status === 'ConcurrentTx') return;
    const entry = hasLocalList(ctx) ? localGet(ctx.db, idTag) : undefined;
    if (!entry) return;
    const expired = entry.status === 'Accepted' && entry.expiresAt !== undefined && entry.expiresAt <= ctx.clock.now();
    const listed = expired ? 'Expired' : entry.status;
    if (listed === answer.status) return;
    ctx.log.warn('1.6: Central System answer conflicts with the local authorization list', { idTag, source, listed, csms: answer.status });
    this.report(`${source}: list ${listed}, CSMS ${answer.status}`);
  }
}

/** The station creates its list's table when it starts; before that (or in a station without one) there is no list. */
function hasLocalList(ctx: V16Context): boolean {
  return ctx.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'local_list'").get() !== undefined;
}
