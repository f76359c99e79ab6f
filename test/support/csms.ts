/** Tests use the in-process CSMS of devtools/ (also used by the demo and the benches). */
export { startCsms } from '../../devtools/csms.js';
export type { Csms, CsmsOptions, CsmsLogEntry, CsmsHandler, CsmsClientInfo, CsmsTlsOptions } from '../../devtools/csms.js';
