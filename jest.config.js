/** Jest runs the TypeScript sources as ES modules; type checking is `tsc --noEmit` in `npm run lint`. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  globalSetup: '<rootDir>/test/support/build.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 120_000,
  // The chain runtime and SQLite files are heavy; two workers fit the 2-core machines.
  maxWorkers: 2,
  // chopsticks leaves its wasm executor's MessagePorts open after close(); nothing of ours is left.
  forceExit: true,
};
