// The streams layer's public surface.
export * from './keys.js';
export { KeyList, runScript, queueScript } from './scripts.js';
