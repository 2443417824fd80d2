export * from './types.js';
export * from './client.js';
export * from './manager.js';
export * from './invariants.js';
export * from './token.js';
export * from './manager-role.js';
export * from './rebuild.js';
