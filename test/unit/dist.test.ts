import { readFileSync } from 'node:fs';

// What ships in dist/ besides the bundle (scripts/bundle.mjs; scripts/check-dist.mjs keeps all three equal to
// a fresh build): the licence of every bundled package, and a sourcemap that names the src/ files.

const read = (file: string) => readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');

describe('dist/', () => {
  it('licenses.txt carries each runtime dependency with its licence text', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const licences = read('licenses.txt');
    for (const name of Object.keys(pkg.dependencies))
      expect(licences).toMatch(new RegExp(`^${name} \\d`, 'm'));
    expect(licences).toContain('Permission is hereby granted, free of charge');
  });

  it('index.js.map maps the bundle back to src/, and index.js points at it', () => {
    const map = JSON.parse(read('index.js.map')) as { sources: string[] };
    expect(map.sources).toEqual(expect.arrayContaining(['../src/main.ts', '../src/jobs/deploy.ts']));
    expect(read('index.js').trimEnd()).toMatch(/\/\/# sourceMappingURL=index\.js\.map$/);
  });
});
