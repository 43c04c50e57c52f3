import { replaceSection } from './report';

describe('replaceSection', () => {
  const doc = 'a\n<!-- faults:before-split:begin -->\nold\n<!-- faults:before-split:end -->\nb\n';

  it('replaces only the marked block', () => {
    expect(replaceSection(doc, 'before-split', '| t |')).toBe(
      'a\n<!-- faults:before-split:begin -->\n\n| t |\n\n<!-- faults:before-split:end -->\nb\n',
    );
  });

  it('refuses a document without the markers', () => {
    expect(() => replaceSection(doc, 'after-split', 'x')).toThrow(/after-split/);
  });
});
