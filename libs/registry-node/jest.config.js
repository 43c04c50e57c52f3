module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'registry-node',
  rootDir: __dirname,
};
