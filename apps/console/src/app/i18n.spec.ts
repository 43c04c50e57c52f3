import { translate } from './i18n';

describe(translate.name, () => {
  it('speaks Chinese by default and English on request, and falls back to the key', () => {
    expect(translate('zh-CN', 'acknowledge')).toBe('确认');
    expect(translate('en', 'acknowledge')).toBe('Acknowledge');
    expect(translate('en', 'no-such-key')).toBe('no-such-key');
  });
});
