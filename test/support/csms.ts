/** Tests use the in-process CSMS of src/devtools (also used by the demo and the benches). */
export { startCsms } from '../../src/devtools/csms.js';
export type { Csms, CsmsOptions, CsmsLogEntry, CsmsHandler, CsmsClientInfo, CsmsTlsOptions } from '../../src/devtools/csms.js';
