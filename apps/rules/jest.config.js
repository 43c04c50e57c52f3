module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'app-rules',
  rootDir: __dirname,
};
