module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'app-persister',
  rootDir: __dirname,
};
