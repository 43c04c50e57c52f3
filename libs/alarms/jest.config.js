module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'alarms',
  rootDir: __dirname,
};
