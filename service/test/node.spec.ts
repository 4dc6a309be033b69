// The image runs Node 24 (Dockerfile NODE_IMAGE); `npm test` must run the same major through the `node`
// devDependency (node_modules/.bin/node), not whatever node the machine has.
test('tests run on Node 24, like the image', () => {
  expect(process.version).toMatch(/^v24\./);
});
