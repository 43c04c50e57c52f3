module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'loadtest',
  rootDir: __dirname,
  // The end-to-end spec starts influxd and Vigil and plays a 30 s scenario.
  testTimeout: 120_000,
};
