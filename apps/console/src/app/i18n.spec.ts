import { dictionaries, label, translate, type TextKey } from './i18n';

const placeholders = (text: string) =>
  [...text.matchAll(/\{(\w+)\}/g)].map(match => match[1]).sort();

describe('i18n', () => {
  const { 'zh-CN': zh, en } = dictionaries();

  it('has every text in both languages, none empty, with the same placeholders', () => {
    expect(Object.keys(en.text).sort()).toEqual(Object.keys(zh.text).sort());
    for (const key of Object.keys(zh.text)) {
      expect([key, zh.text[key]?.trim()]).not.toEqual([key, '']);
      expect([key, en.text[key]?.trim()]).not.toEqual([key, '']);
      expect([key, placeholders(en.text[key] ?? '')]).toEqual([
        key,
        placeholders(zh.text[key] ?? ''),
      ]);
    }
  });

  it('has every data label in both languages', () => {
    expect(Object.keys(en.labels).sort()).toEqual(Object.keys(zh.labels).sort());
    for (const group of Object.keys(zh.labels)) {
      expect([group, Object.keys(en.labels[group] ?? {}).sort()]).toEqual([
        group,
        Object.keys(zh.labels[group] ?? {}).sort(),
      ]);
    }
  });

  it('speaks Chinese by default and English on request, and fills placeholders', () => {
    expect(translate('zh-CN', 'acknowledge')).toBe('确认');
    expect(translate('en', 'acknowledge')).toBe('Acknowledge');
    expect(translate('zh-CN', 'reconnected', { count: 3 })).toBe(
      '已重新连接：补回错过的 3 条报警变化。',
    );
    expect(translate('en', 'no-such-key' as TextKey)).toBe('no-such-key');
  });

  it('names data values, falling back to the value itself', () => {
    expect(label('zh-CN', 'risk', 'red')).toBe('重大风险（红）');
    expect(label('en', 'state', 'active-acknowledged')).toBe('Active, acknowledged');
    expect(label('zh-CN', 'rule', 'a-rule-from-a-plugin')).toBe('a-rule-from-a-plugin');
  });
});
