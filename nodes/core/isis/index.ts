export * from './types.js';
export * from './queue.js';
export * from './flush.js';
export * from './member.js';
export * from './registry.js';
