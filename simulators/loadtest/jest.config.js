module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'loadtest',
  rootDir: __dirname,
  // The end-to-end spec starts influxd and Vigil and plays scenarios of 30 s, 30 s and 100 s.
  testTimeout: 240_000,
};
