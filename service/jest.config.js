// Nest 12 and its dependencies are ESM-only, so the tests run as ES modules: ts-jest's ESM mode with
// NODE_OPTIONS=--experimental-vm-modules (set by `npm test`). Imports keep their `.js` suffix as in src/.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 30_000,
};
