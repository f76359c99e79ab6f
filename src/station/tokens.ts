/**
 * Tokens and starts: a presented token stops its session (or its group's, or every one for a master
 * pass) or authorizes a session on the EVSE the station chooses; a remote start authorizes one on the
 * EVSE the adapter names (evseFor chooses when the CSMS named none: one rule for both).
 */
import type { Logger } from '../../base/logger.js';
import type { Db } from '../store/db.js';
import { storageHealth } from '../store/health.js';
import type { AuthInfo, AuthSettings, ChargingProfile, IdToken, RequestStartOptions, Session } from './api.js';
import type { Authorizer } from './authorization.js';
import type { Evse } from './evse.js';
import type { Reservations } from './reservations.js';
import type { Sessions } from './session.js';
import type { SmartCharging } from './smart-charging.js';

export interface TokenDeps {
  db: Db;
  log: Logger;
  auth: AuthSettings;
  evses: Map<number, Evse>;
  sess: Sessions;
  reservations: Reservations;
  authorizer: Authorizer;
  chargingProfiles: SmartCharging;
  /** Started and not stopping: tokens and starts are taken. */
  running: () => boolean;
}

export class Tokens {
  constructor(private readonly d: TokenDeps) {}

  /**
   * A token was presented (reader or adapter). Same token (or group, or master pass) on a running
   * session stops it; otherwise, when valid, it authorizes a session on the chosen EVSE.
   */
  async present(token: IdToken, evseId?: number): Promise<AuthInfo> {
    if (!this.d.running()) return { status: 'Invalid' };
    if (this.releaseHeldLock(token, evseId)) return { status: 'Accepted' };
    const own = this.d.sess.findByToken(token.idToken);
    if (own && own.authorizedAt !== undefined) {
      if (evseId === undefined || own.evseId === evseId) {
        void this.d.sess.end(own.evseId, 'Local', 'StopAuthorized', token);
        return own.auth ?? { status: 'Accepted' };
      }
      return { ...(own.auth ?? {}), status: 'ConcurrentTx' };
    }
    // C09.FR.07 / E07.FR.01: a valid token known locally with the group of a running session stops it
    // without asking the CSMS; C16.FR.04/05 allow the same for a master pass.
    const local = this.d.authorizer.lookupLocal(token.idToken);
    if (local?.status === 'Accepted' && this.stopByGroup(token, local, evseId)) return local;

    if (storageHealth(this.d.db).fault) {
      // Asking the CSMS would only make it see an Authorize with no transaction after it.
      this.d.log.warn('token not taken: storage fault, no session can start', { idToken: token.idToken });
      return { status: 'Invalid' };
    }
    const decision = await this.d.authorizer.authorize(token, evseId);
    const info = decision.info;
    if (info.status !== 'Accepted') return info; // C09.FR.11: only an Accepted token stops a group mate
    if (this.stopByGroup(token, info, evseId)) return info;
    if (this.d.auth.masterPassGroupId !== undefined && info.groupId === this.d.auth.masterPassGroupId) {
      return info; // C16.FR.03: a master pass never starts a transaction
    }
    const evse = this.pickEvse(token, info.groupId, evseId);
    if (!evse) {
      this.d.log.info('token accepted but no EVSE can take it', { evseId });
      return info;
    }
    const reservation = this.d.reservations.forEvse(evse.id);
    if (reservation) this.d.reservations.end(reservation.id, 'Used');
    this.d.sess.authorize(evse, {
      idToken: token,
      auth: info,
      trigger: 'Authorized',
      offline: decision.offline,
      ...(reservation ? { reservationId: reservation.id } : {}),
    });
    return info;
  }

  /** E09.FR.03: the owner of a cable kept locked after an EV-side unplug gets it back. */
  private releaseHeldLock(token: IdToken, evseId: number | undefined): boolean {
    const groupId = this.d.authorizer.lookupLocal(token.idToken)?.groupId;
    for (const evse of this.d.evses.values()) {
      const h = this.d.sess.lockHolder(evse.id);
      if (!h || (evseId !== undefined && evse.id !== evseId)) continue;
      if (h.idToken === token.idToken || (h.groupId !== undefined && h.groupId === groupId)) {
        this.d.sess.releaseLock(evse);
        return true;
      }
    }
    return false;
  }

  /** Stop what a token of this group may stop (master pass: every session). True when it stopped something. */
  private stopByGroup(token: IdToken, info: AuthInfo, evseId: number | undefined): boolean {
    if (info.groupId === undefined) return false;
    const here = (s: Session): boolean => s.authorizedAt !== undefined && (evseId === undefined || s.evseId === evseId);
    if (this.d.auth.masterPassGroupId !== undefined && info.groupId === this.d.auth.masterPassGroupId) {
      // C16.FR.02: without a UI to choose, the master pass stops every ongoing session.
      const targets = this.d.sess.all().filter(here);
      for (const s of targets) void this.d.sess.end(s.evseId, 'MasterPass', 'StopAuthorized', token);
      return targets.length > 0;
    }
    const mate = this.d.sess.all().find((s) => here(s) && s.auth?.groupId === info.groupId);
    if (!mate) return false;
    void this.d.sess.end(mate.evseId, 'Local', 'StopAuthorized', token);
    return true;
  }

  evseFor(token: IdToken, groupId?: string): number | undefined {
    return this.pickEvse(token, groupId, undefined)?.id;
  }

  /** Where a token without an EVSE goes: its reservation, the EVSE waiting for one, the only one, the first free one. */
  private pickEvse(token: IdToken, groupId: string | undefined, evseId: number | undefined): Evse | undefined {
    const takes = (e: Evse): boolean =>
      e.usable && this.d.sess.get(e.id)?.authorizedAt === undefined && this.d.reservations.allows(e.id, token, groupId);
    if (evseId !== undefined) {
      const e = this.d.evses.get(evseId);
      return e && takes(e) ? e : undefined;
    }
    const all = [...this.d.evses.values()];
    const reserved = this.d.reservations.forToken(token, groupId);
    const bound = reserved ? this.d.evses.get(reserved.boundEvseId) : undefined;
    if (bound && takes(bound)) return bound;
    return (
      all.find((e) => takes(e) && this.d.sess.get(e.id) !== undefined && e.plugged) ??
      all.find((e) => takes(e) && e.plugged && e.connector().status !== 'Finishing') ??
      (all.length === 1 && takes(all[0]!) ? all[0] : undefined) ??
      all.find((e) => takes(e) && !e.plugged && this.d.sess.get(e.id) === undefined)
    );
  }

  async requestStart(evseId: number, token: IdToken, opts: RequestStartOptions): Promise<'Accepted' | 'Rejected'> {
    const evse = this.d.evses.get(evseId);
    const free = (): boolean =>
      evse !== undefined &&
      this.d.running() &&
      evse.usable &&
      this.d.sess.get(evseId)?.authorizedAt === undefined &&
      this.d.reservations.allows(evseId, token, opts.groupId);
    if (!evse || !free()) return 'Rejected';
    const own = this.d.sess.findByToken(token.idToken);
    if (own && own.authorizedAt !== undefined) return 'Rejected';
    const txProfile = opts.chargingProfile ? { ...opts.chargingProfile, evseId, purpose: 'TxProfile' as const } : undefined;
    if (txProfile) {
      delete txProfile.sessionId;
      const bad = this.d.chargingProfiles.checkShape(txProfile);
      if (bad) {
        this.d.log.info('remote start refused: its charging profile cannot be installed', { evseId, reason: bad });
        return 'Rejected';
      }
    }
    if (opts.preAuthorized) {
      const auth: AuthInfo = { status: 'Accepted', ...(opts.groupId !== undefined ? { groupId: opts.groupId } : {}) };
      this.grantRemoteStart(evse, token, auth, false, opts, txProfile);
      return 'Accepted';
    }
    // 1.6 §5.11 ("reply with RemoteStartTransaction.conf … and will attempt to start") and 2.0.1
    // F01.FR.01 ("will first respond to the request and then try to authorize"): the answer does not
    // wait for the authorization, so an Authorize.req goes after it, as everything the call causes.
    void this.d.authorizer
      .authorize(token, evseId)
      .then((decision) => {
        if (decision.info.status !== 'Accepted' || !free()) {
          this.d.log.info('remote start not authorized, no session started', { evseId, status: decision.info.status });
          opts.refused?.();
          return;
        }
        this.grantRemoteStart(evse, token, decision.info, decision.offline, opts, txProfile);
      })
      .catch((err: unknown) => {
        this.d.log.error('remote start: authorization failed', { evseId, err: String(err) });
        opts.refused?.();
      });
    return 'Accepted';
  }

  private grantRemoteStart(
    evse: Evse,
    token: IdToken,
    auth: AuthInfo,
    offline: boolean,
    opts: RequestStartOptions,
    txProfile: ChargingProfile | undefined,
  ): void {
    const evseId = evse.id;
    const reservation = this.d.reservations.forEvse(evseId);
    if (reservation) this.d.reservations.end(reservation.id, 'Used');
    // With a session open already the TxProfile is in place before the authorization can close the contactor.
    const openBefore = this.d.sess.get(evseId) !== undefined;
    if (txProfile && openBefore) this.d.chargingProfiles.set(txProfile);
    this.d.sess.authorize(evse, {
      idToken: token,
      auth,
      trigger: 'RemoteStart',
      offline,
      ...(opts.remoteStartId !== undefined ? { remoteStartId: opts.remoteStartId } : {}),
      ...(reservation ? { reservationId: reservation.id } : {}),
    });
    if (txProfile && !openBefore) this.d.chargingProfiles.set(txProfile);
  }
}
