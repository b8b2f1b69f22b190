export * from './types';
export { transition, nodesOf, allowListOf, DENY_ALL_HOST_NQN } from './machine';
export { rebuildState, type AttachedRecord, type RebuildResult } from './rebuild';
export * from './params';
