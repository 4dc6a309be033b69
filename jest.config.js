// ESM jest: the action's dependencies are ESM-only, so tests run as ES modules
// (NODE_OPTIONS=--experimental-vm-modules is set by `npm test`).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  // integration tests drive real processes (docker, kube-apiserver); run files one at a time
  maxWorkers: 1,
  testTimeout: 30000,
};
