module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'app-vigil',
  rootDir: __dirname,
};
