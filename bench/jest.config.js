module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'bench',
  rootDir: __dirname,
  // Only the pure parts (flow generation, report rendering): the benchmark itself never runs here.
  // The sources only: bench/.peer holds the installed Node-RED peer, bench/out the results.
  roots: ['<rootDir>/src'],
};
