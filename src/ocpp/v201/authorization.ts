/**
 * C01–C16 and D01/D02: the CsmsGateway (Authorize), the station's AuthSettings kept in step with the
 * device model, the local list (SendLocalList / GetLocalListVersion) and ClearCache. The cache and the
 * offline / master-pass / group rules themselves live in the station.
 */
import type { AuthInfo, CsmsGateway, IdToken, LocalListEntry } from '../../station/api.js';
import { callGateway } from '../call-failure.js';
import type { IdTokenInfoType, SendLocalListRequest, SendLocalListResponse } from '../messages/v201.js';
import type { V201Context } from './context.js';

/** `fromIso`: a CSMS time as station time (the CSMS clock offset, ctx.fromIso). */
export function toAuthInfo(info: IdTokenInfoType, fromIso: (iso: string) => number): AuthInfo {
  const a: AuthInfo = { status: info.status };
  if (info.groupIdToken) a.groupId = info.groupIdToken.idToken;
  if (info.cacheExpiryDateTime) {
    const t = fromIso(info.cacheExpiryDateTime);
    if (Number.isFinite(t)) a.expiresAt = t;
  }
  // I01/I02: the personal message (tariff text) goes to the display; HTML and URI it cannot show.
  const pm = info.personalMessage;
  if (pm && (pm.format === 'ASCII' || pm.format === 'UTF8')) a.personalMessage = pm.content;
  if (info.language1) a.language = info.language1;
  return a;
}

export class Authorization implements CsmsGateway {
  constructor(private readonly ctx: V201Context) {}

  get online(): boolean {
    return this.ctx.link.connected && this.ctx.registration === 'Accepted';
  }

  async authorize(token: IdToken, _evseId?: number): Promise<AuthInfo> {
    const res = await callGateway(this.online, () =>
      this.ctx.link.call('Authorize', { idToken: { idToken: token.idToken, type: token.type } }),
    );
    return toAuthInfo(res.idTokenInfo, (iso) => this.ctx.fromIso(iso));
  }

  register(): void {
    this.ctx.station.setCsms(this);
    this.applySettings();
    this.ctx.handle('SendLocalList', (p) => this.sendLocalList(p));
    this.ctx.handle('GetLocalListVersion', () => ({ versionNumber: this.ctx.station.localListVersion() }));
    this.ctx.handle('ClearCache', () => {
      // C11.FR.04: nothing to clear when the cache is not in use.
      if (!this.ctx.dm.bool('AuthCacheCtrlr.Enabled')) return { status: 'Rejected' };
      this.ctx.station.clearAuthCache();
      return { status: 'Accepted' };
    });
  }

  /** Device model → station.auth; called at start and whenever one of these variables changes. */
  applySettings(): void {
    const dm = this.ctx.dm;
    const a = this.ctx.station.auth;
    a.authorizationCacheEnabled = dm.bool('AuthCacheCtrlr.Enabled');
    a.localAuthListEnabled = dm.bool('LocalAuthListCtrlr.Enabled');
    a.localPreAuthorize = dm.bool('AuthCtrlr.LocalPreAuthorize');
    a.localAuthorizeOffline = dm.bool('AuthCtrlr.LocalAuthorizeOffline');
    a.allowOfflineTxForUnknownId = dm.bool('AuthCtrlr.OfflineTxForUnknownIdEnabled');
    a.authorizeRemoteTxRequests = dm.bool('AuthCtrlr.AuthorizeRemoteStart');
    a.stopTransactionOnInvalidId = dm.bool('TxCtrlr.StopTxOnInvalidId');
    a.stopTxOnEVSideDisconnect = dm.bool('TxCtrlr.StopTxOnEVSideDisconnect');
    a.unlockConnectorOnEVSideDisconnect = dm.bool('OCPPCommCtrlr.UnlockOnEVSideDisconnect');
    a.connectionTimeOutS = dm.int('TxCtrlr.EVConnectionTimeOut');
    const master = dm.value('AuthCtrlr.MasterPassGroupId');
    a.masterPassGroupId = master === '' ? undefined : master;
    a.authCacheLifeTimeS = dm.int('AuthCacheCtrlr.LifeTime');
  }

  /** D01 */
  private sendLocalList(req: SendLocalListRequest): SendLocalListResponse {
    if (!this.ctx.dm.bool('LocalAuthListCtrlr.Enabled')) return { status: 'Failed' };
    const list = req.localAuthorizationList ?? [];
    if (list.length > this.ctx.dm.int('LocalAuthListCtrlr.ItemsPerMessage')) return { status: 'Failed' };
    // D01.FR.18: version 0 is reserved for "no list".
    if (req.versionNumber <= 0) return { status: 'Failed' };
    const entries: LocalListEntry[] = list.map((e) => {
      const entry: LocalListEntry = { idToken: { idToken: e.idToken.idToken, type: e.idToken.type } };
      if (e.idTokenInfo) entry.auth = toAuthInfo(e.idTokenInfo, (iso) => this.ctx.fromIso(iso));
      return entry;
    });
    const status = this.ctx.station.updateLocalList(req.versionNumber, req.updateType === 'Full', entries);
    if (status === 'Accepted') this.ctx.dm.put('LocalAuthListCtrlr.Entries', String(this.countAfter(req, entries)));
    return { status };
  }

  private countAfter(req: SendLocalListRequest, entries: LocalListEntry[]): number {
    if (req.updateType === 'Full') return entries.length;
    const before = this.ctx.dm.int('LocalAuthListCtrlr.Entries');
    const added = entries.filter((e) => e.auth).length;
    const removed = entries.length - added;
    return Math.max(0, before + added - removed);
  }
}
