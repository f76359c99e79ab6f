/**
 * P01 / P02: DataTransfer both ways. Vendors register a handler for their vendorId; anything else is
 * answered UnknownVendorId (P01.FR.05 / P02.FR.06).
 */
import type { V201Context } from './context.js';

export type DataTransferStatus = 'Accepted' | 'Rejected' | 'UnknownMessageId' | 'UnknownVendorId';
export interface DataTransferResult {
  status: DataTransferStatus;
  data?: unknown;
}
export type VendorHandler = (messageId: string | undefined, data: unknown) => DataTransferResult | Promise<DataTransferResult>;

export class DataTransfer {
  private readonly vendors = new Map<string, VendorHandler>();

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.handle('DataTransfer', (p) => this.incoming(p as { vendorId: string; messageId?: string; data?: unknown }));
  }

  onVendor(vendorId: string, fn: VendorHandler): void {
    this.vendors.set(vendorId, fn);
  }

  private async incoming(p: { vendorId: string; messageId?: string; data?: unknown }): Promise<DataTransferResult> {
    const fn = this.vendors.get(p.vendorId);
    if (!fn) return { status: 'UnknownVendorId' };
    const r = await fn(p.messageId, p.data);
    return r.data === undefined ? { status: r.status } : r;
  }

  /** P01: station → CSMS. Resolves undefined when it could not be sent. */
  async send(vendorId: string, messageId?: string, data?: unknown): Promise<DataTransferResult | undefined> {
    const payload: Record<string, unknown> = { vendorId };
    if (messageId !== undefined) payload.messageId = messageId;
    if (data !== undefined) payload.data = data;
    return this.ctx.send<DataTransferResult>('DataTransfer', payload);
  }
}
