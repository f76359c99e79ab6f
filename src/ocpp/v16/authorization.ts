/**
 * Authorization (spec 3.5, 4.1, 5.4, 5.10, 5.15): the station's CSMS gateway (Authorize.req, with
 * LocalListConflict checks on the answer), the station's authorization settings kept in step with
 * the configuration keys, ClearCache, GetLocalListVersion and SendLocalList.
 */
import type { AuthInfo, CsmsGateway, IdToken, LocalListEntry } from '../../station/api.js';
import { callGateway } from '../call-failure.js';
import { tokenOf, type V16Block, type V16BlockContext, type V16Context } from './context.js';
import { authInfoOf } from './transactions.js';

/** The authorization settings are few: refresh them all on any change. */
function applySettings(ctx: V16Context): void {
  const c = ctx.cfg;
  const a = ctx.station.auth;
  a.authorizationCacheEnabled = c.bool('AuthorizationCacheEnabled');
  a.localAuthListEnabled = c.bool('LocalAuthListEnabled');
  a.localPreAuthorize = c.bool('LocalPreAuthorize');
  a.localAuthorizeOffline = c.bool('LocalAuthorizeOffline');
  a.allowOfflineTxForUnknownId = c.bool('AllowOfflineTxForUnknownId');
  a.authorizeRemoteTxRequests = c.bool('AuthorizeRemoteTxRequests');
  a.stopTransactionOnInvalidId = c.bool('StopTransactionOnInvalidId');
  a.stopTxOnEVSideDisconnect = c.bool('StopTransactionOnEVSideDisconnect');
  a.unlockConnectorOnEVSideDisconnect = c.bool('UnlockConnectorOnEVSideDisconnect');
  a.connectionTimeOutS = c.int('ConnectionTimeOut');
}

/** Keys whose change is the station's business elsewhere (not an authorization setting). */
const NOT_AUTH = new Set([
  'MeterValueSampleInterval',
  'ClockAlignedDataInterval',
  'HeartbeatInterval',
  'DefaultPrice',
  'TransactionMessageAttempts',
  'TransactionMessageRetryInterval',
]);

/** Authorize.req (spec 4.1) for the station's authorization flow. */
async function authorize(ctx: V16BlockContext, token: IdToken): Promise<AuthInfo> {
  const online = ctx.link.connected && ctx.gate.accepted;
  const conf = await callGateway(online, () => ctx.link.call('Authorize', { idTag: token.idToken }));
  try {
    ctx.parts.conflicts.check(token.idToken, conf.idTagInfo, 'Authorize');
  } catch (err) {
    ctx.log.error('1.6: LocalListConflict check of an Authorize answer failed', { error: String(err) });
  }
  return authInfoOf(conf.idTagInfo, ctx.fromIso);
}

export const authorizationBlock: V16Block = {
  name: 'authorization',
  register(ctx) {
    const { station, cfg } = ctx;
    applySettings(ctx);
    ctx.subs.add(cfg.onChange((key) => !NOT_AUTH.has(key) && applySettings(ctx)));

    const gateway: CsmsGateway = {
      get online() {
        return ctx.link.connected && ctx.gate.accepted;
      },
      authorize: (token) => authorize(ctx, token),
    };
    station.setCsms(gateway);

    ctx.handle('ClearCache', () => {
      station.clearAuthCache();
      return { status: 'Accepted' };
    });

    ctx.handle('GetLocalListVersion', () => ({ listVersion: station.localListVersion() }));

    ctx.handle('SendLocalList', ({ listVersion, updateType, localAuthorizationList = [] }) => {
      if (!cfg.bool('LocalAuthListEnabled')) return { status: 'NotSupported' };
      // Errata 3.52: 0 and -1 have a meaning of their own in GetLocalListVersion.
      if (listVersion <= 0) return { status: 'Failed' };
      if (localAuthorizationList.length > cfg.int('SendLocalListMaxLength')) return { status: 'Failed' };
      if (updateType === 'Full' && localAuthorizationList.length > cfg.int('LocalAuthListMaxLength')) return { status: 'Failed' };
      const ids = localAuthorizationList.map((e) => e.idTag.toLowerCase());
      if (new Set(ids).size !== ids.length) return { status: 'Failed' };
      // A full list must say something about every entry.
      if (updateType === 'Full' && localAuthorizationList.some((e) => !e.idTagInfo)) return { status: 'Failed' };
      const entries: LocalListEntry[] = localAuthorizationList.map((e) => {
        const entry: LocalListEntry = { idToken: tokenOf(e.idTag) };
        if (e.idTagInfo) entry.auth = authInfoOf(e.idTagInfo, ctx.fromIso);
        return entry;
      });
      return { status: station.updateLocalList(listVersion, updateType === 'Full', entries) };
    });
  },
};
