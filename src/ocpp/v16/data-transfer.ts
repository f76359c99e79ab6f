/**
 * DataTransfer (spec 4.3, 5.6) both ways: vendor handlers answer the Central System's DataTransfer
 * (UnknownVendorId for the others), `dataTransfer()` sends one. The California Pricing vendor
 * extension (california-pricing.ts) is the one this station brings; its block wiring is here.
 */
import type { DataTransferRequest, DataTransferResponse } from '../messages/v16.js';
import type { V16Block, V16Context } from './context.js';

type VendorAnswer = { status: 'Accepted' | 'Rejected' | 'UnknownMessageId'; data?: string };

export type DataTransferHandler = (messageId: string | undefined, data: string | undefined) => VendorAnswer | Promise<VendorAnswer>;

export class V16DataTransfer {
  private readonly vendors = new Map<string, DataTransferHandler>();

  constructor(private readonly ctx: V16Context) {}

  /** Answer DataTransfer.req of this vendorId. */
  onVendor(vendorId: string, handler: DataTransferHandler): void {
    this.vendors.set(vendorId, handler);
  }

  /** A charge-point-initiated DataTransfer (spec 4.3); rejects when not Accepted. */
  async send(vendorId: string, messageId?: string, data?: string): Promise<DataTransferResponse> {
    if (!this.ctx.gate.accepted) throw new Error('not accepted by the Central System');
    const req: DataTransferRequest = { vendorId };
    if (messageId !== undefined) req.messageId = messageId;
    if (data !== undefined) req.data = data;
    return this.ctx.link.call('DataTransfer', req);
  }

  async answer({ vendorId, messageId, data }: DataTransferRequest): Promise<DataTransferResponse> {
    const h = this.vendors.get(vendorId);
    if (!h) return { status: 'UnknownVendorId' };
    const r = await h(messageId, data);
    return r.data !== undefined ? { status: r.status, data: r.data } : { status: r.status };
  }
}

export const dataTransferBlock: V16Block = {
  name: 'data-transfer',
  register(ctx) {
    const { dataTransfer, california, registration } = ctx.parts;
    ctx.handle('DataTransfer', (req) => dataTransfer.answer(req));

    california.applyDefaultPrice();
    ctx.subs.add(ctx.cfg.onChange((key) => key === 'DefaultPrice' && california.applyDefaultPrice()));
    ctx.subs.add(registration.onAccepted(() => california.applyDefaultPrice()));
    ctx.onLink('close', () => california.applyDefaultPrice());
    ctx.onStation('session', (e) => {
      if (e.type === 'ended') california.onEnded(e.session.id);
      if (e.type === 'authorized' || (e.type === 'started' && e.session.authorizedAt !== undefined)) {
        california.onAuthorized(e.session.id, e.session.idToken?.idToken);
      }
    });
  },
};
