/**
 * Is this token allowed? Local list → authorization cache → CSMS, with the offline rules of
 * AuthSettings (1.6 §3.5 / 2.0.1 C01, C10-C13). Knows nothing about sessions; the station adds
 * ConcurrentTx, stop-by-same-token and master pass on top.
 */
import type { Clock } from '../../base/clock.js';
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { cacheClear, cacheGet, cachePut, cacheTrim, type CachedAuth } from '../store/auth-cache.js';
import { localApply, localCount, localGet, localVersion } from '../store/local-list.js';
import { CsmsUnreachableError, type AuthInfo, type AuthSettings, type AuthStatus, type CsmsGateway, type IdToken, type LocalListEntry } from './api.js';

/** A decision and how it was reached. */
export interface AuthDecision {
  info: AuthInfo;
  /** Decided without the CSMS because it was unreachable. */
  offline: boolean;
  source: 'local-list' | 'cache' | 'csms' | 'offline-unknown' | 'none';
}

export const LOCAL_LIST_MAX = 10_000;
export const AUTH_CACHE_MAX = 5_000;

export class Authorizer {
  csms: CsmsGateway | undefined;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly settings: AuthSettings,
  ) {}

  async authorize(token: IdToken, evseId?: number): Promise<AuthDecision> {
    const s = this.settings;
    const now = this.clock.now();
    const listed = s.localAuthListEnabled ? localGet(this.db, token.idToken) : undefined;
    const cached = s.authorizationCacheEnabled ? cacheGet(this.db, token.idToken) : undefined;
    const known = listed ? ({ entry: listed, source: 'local-list' } as const) : cached ? ({ entry: cached, source: 'cache' } as const) : undefined;
    const online = this.csms?.online === true;

    // LocalPreAuthorize: a valid local entry starts at once, without waiting for the CSMS.
    if (online && s.localPreAuthorize && known && effectiveStatus(known.entry, now) === 'Accepted') {
      return { info: toInfo(known.entry, now), offline: false, source: known.source };
    }
    if (online && this.csms) {
      try {
        const info = await this.csms.authorize(token, evseId);
        this.remember(token, info);
        return { info, offline: false, source: 'csms' };
      } catch (err) {
        if (!(err instanceof CsmsUnreachableError)) {
          // The CSMS answered, with a CALLERROR or something unreadable: that is no, not "offline".
          // Not cached: the next tap asks again.
          this.log.warn('CSMS did not accept the Authorize request; token not authorized', { err: String(err) });
          return { info: { status: 'Invalid' }, offline: false, source: 'csms' };
        }
        this.log.warn('CSMS unreachable for Authorize; applying offline rules', { err: String(err) });
      }
    }
    return this.offlineDecision(known, now);
  }

  private offlineDecision(known: { entry: CachedAuth; source: 'local-list' | 'cache' } | undefined, now: number): AuthDecision {
    const s = this.settings;
    if (known) {
      const info = toInfo(known.entry, now);
      if (info.status === 'Accepted' && !s.localAuthorizeOffline) {
        return { info: { ...info, status: 'Invalid' }, offline: true, source: known.source };
      }
      return { info, offline: true, source: known.source };
    }
    if (s.allowOfflineTxForUnknownId) return { info: { status: 'Accepted' }, offline: true, source: 'offline-unknown' };
    return { info: { status: 'Invalid' }, offline: true, source: 'none' };
  }

  /** Keep a CSMS answer in the cache (also the idTagInfo of Start/StopTransaction answers). */
  remember(token: IdToken, info: AuthInfo): void {
    if (!this.settings.authorizationCacheEnabled) return;
    // A token on the local list is the list's business, not the cache's (1.6 §3.5.3).
    if (this.settings.localAuthListEnabled && localGet(this.db, token.idToken)) return;
    const life = this.settings.authCacheLifeTimeS;
    const expiresAt = info.expiresAt ?? (life !== undefined && life > 0 ? this.clock.now() + life * 1000 : undefined);
    cachePut(
      this.db,
      {
        idToken: token.idToken,
        type: token.type,
        status: info.status,
        ...(info.groupId !== undefined ? { groupId: info.groupId } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
      },
      this.clock.now(),
    );
    cacheTrim(this.db, AUTH_CACHE_MAX);
  }

  /** What the station knows locally of a token (list, then cache), without asking the CSMS. */
  lookupLocal(idToken: string): AuthInfo | undefined {
    const now = this.clock.now();
    const listed = this.settings.localAuthListEnabled ? localGet(this.db, idToken) : undefined;
    if (listed) return toInfo(listed, now);
    const cached = this.settings.authorizationCacheEnabled ? cacheGet(this.db, idToken) : undefined;
    return cached ? toInfo(cached, now) : undefined;
  }

  clearCache(): void {
    cacheClear(this.db);
  }

  listVersion(): number {
    return localVersion(this.db);
  }

  updateList(version: number, full: boolean, entries: LocalListEntry[]): 'Accepted' | 'Failed' | 'VersionMismatch' {
    if (!this.settings.localAuthListEnabled) return 'Failed';
    if (!full && version <= this.listVersion()) return 'VersionMismatch';
    if (full && entries.length > LOCAL_LIST_MAX) return 'Failed';
    try {
      localApply(
        this.db,
        version,
        full,
        entries
          .filter((e) => !full || e.auth)
          .map((e) => ({
            idToken: e.idToken.idToken,
            type: e.idToken.type,
            ...(e.auth
              ? {
                  entry: {
                    idToken: e.idToken.idToken,
                    type: e.idToken.type,
                    status: e.auth.status,
                    ...(e.auth.groupId !== undefined ? { groupId: e.auth.groupId } : {}),
                    ...(e.auth.expiresAt !== undefined ? { expiresAt: e.auth.expiresAt } : {}),
                  },
                }
              : {}),
          })),
      );
      if (localCount(this.db) > LOCAL_LIST_MAX) this.log.warn('local list larger than supported', { size: localCount(this.db) });
      return 'Accepted';
    } catch (err) {
      this.log.error('local list update failed', { err: String(err) });
      return 'Failed';
    }
  }
}

function effectiveStatus(e: CachedAuth, now: number): AuthStatus {
  if (e.status === 'Accepted' && e.expiresAt !== undefined && e.expiresAt <= now) return 'Expired';
  return e.status as AuthStatus;
}

function toInfo(e: CachedAuth, now: number): AuthInfo {
  return {
    status: effectiveStatus(e, now),
    ...(e.groupId !== undefined ? { groupId: e.groupId } : {}),
    ...(e.expiresAt !== undefined ? { expiresAt: e.expiresAt } : {}),
  };
}
