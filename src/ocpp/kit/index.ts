/** The shared adapter kit (see block.ts): what every OCPP version adapter is built on. */
export { AdapterKit, type Block, type BlockContext, type KitOptions } from './block.js';
export { CsmsTime } from './csms-time.js';
export { DeferredWork, type DeferredFn } from './deferred.js';
export { RegistrationGate, type BlockedAnswers, type BootStatus, type GateOptions, type SendOptions } from './registration-gate.js';
export { Subscriptions, type Emitter } from './subscriptions.js';
