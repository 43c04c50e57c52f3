module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'app-broker',
  rootDir: __dirname,
};
