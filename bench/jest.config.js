module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'bench',
  rootDir: __dirname,
  // Only the pure parts (flow generation, report rendering): the benchmark itself never runs here.
  testPathIgnorePatterns: ['/node_modules/', '/.peer/', '/out/'],
};
