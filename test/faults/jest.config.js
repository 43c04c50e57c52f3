module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'faults',
  rootDir: __dirname,
  // The smoke variant starts real influxd, Mosquitto and Vigil processes: one at a time. The full
  // suite (`npm run faults`) never runs under jest.
  roots: ['<rootDir>/src'],
  maxWorkers: 1,
  testTimeout: 150_000,
};
