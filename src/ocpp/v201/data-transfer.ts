/**
 * P01 / P02: DataTransfer both ways. Vendors register a handler for their vendorId; anything else is
 * answered UnknownVendorId (P01.FR.05 / P02.FR.06).
 */
import type { DataTransferRequest, DataTransferResponse, DataTransferStatusEnumType } from '../messages/v201.js';
import type { V201Context } from './context.js';

export type DataTransferStatus = DataTransferStatusEnumType;
/** What a vendor hook answers and what the CSMS answered (the response without its customData / statusInfo). */
export type DataTransferResult = Pick<DataTransferResponse, 'status' | 'data'>;
export type VendorHandler = (messageId: string | undefined, data: unknown) => DataTransferResult | Promise<DataTransferResult>;

export class DataTransfer {
  private readonly vendors = new Map<string, VendorHandler>();

  constructor(private readonly ctx: V201Context) {}

  register(): void {
    this.ctx.handle('DataTransfer', (p) => this.incoming(p));
  }

  onVendor(vendorId: string, fn: VendorHandler): void {
    this.vendors.set(vendorId, fn);
  }

  private async incoming(p: DataTransferRequest): Promise<DataTransferResponse> {
    const fn = this.vendors.get(p.vendorId);
    if (!fn) return { status: 'UnknownVendorId' };
    const r = await fn(p.messageId, p.data);
    return r.data === undefined ? { status: r.status } : r;
  }

  /** P01: station → CSMS. Resolves undefined when it could not be sent. */
  async send(vendorId: string, messageId?: string, data?: unknown): Promise<DataTransferResult | undefined> {
    const payload: DataTransferRequest = { vendorId };
    if (messageId !== undefined) payload.messageId = messageId;
    if (data !== undefined) payload.data = data;
    return this.ctx.send('DataTransfer', payload);
  }
}
