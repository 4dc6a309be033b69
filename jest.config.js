// ESM jest: the action's dependencies are ESM-only, so tests run as ES modules
// (NODE_OPTIONS=--experimental-vm-modules is set by the npm scripts).
//
// Two tiers. unit: needs nothing but Node (pure code, and the local protocol servers of test/fakes for the
// Azure and GitHub adapters): `npm run test:unit` runs its files in parallel, with a coverage figure.
// target: drives the local target's real processes (docker, registries, kube-apiserver, the real node), so
// its files run one at a time (`npm run test:target`). `npm test` runs both, one file at a time.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};
const unit = [
  '<rootDir>/test/unit/**/*.test.ts',
  '<rootDir>/test/azure/**/*.test.ts',
  '<rootDir>/test/github/**/*.test.ts',
];

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: unit },
    {
      ...common,
      displayName: 'target',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/(unit|azure|github)/'],
    },
  ],
  maxWorkers: 1,
  testTimeout: 30000,
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.ts'],
  coverageReporters: ['text-summary'],
};
