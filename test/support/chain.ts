/** The local People chain the tests run on (shared with `npm run dev`). */
export * from '../../src/dev/local-chain.js';
