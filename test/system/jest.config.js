module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'system-tests',
  rootDir: __dirname,
  // The suites start real influxd, brokers, Vigil processes and Chromium: one at a time.
  maxWorkers: 1,
  testTimeout: 120_000,
};
