import type { OcppConfig } from '../../src/config/types.js';

/**
 * The 1.6 link settings every link bench uses: fast reconnects, no pings, and the message log on as in
 * production, so the figures include it.
 */
export function benchLinkConfig(csmsUrl: string): OcppConfig {
  return {
    version: '1.6',
    csmsUrl,
    securityProfile: 0,
    callTimeoutS: 30,
    pingIntervalS: 0,
    maxFrameBytes: 1024 * 1024,
    reconnect: { minDelayS: 0.05, maxDelayS: 0.5 },
    messageLog: { enabled: true, maxBytes: 5_000_000, files: 2 },
    outbox: { retryAttempts: 3, retryIntervalS: 1 },
    v16: { configuration: {} },
    v201: { variables: {} },
  };
}
