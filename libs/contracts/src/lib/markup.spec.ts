import { escapeMarkup } from './markup';

describe(escapeMarkup.name, () => {
  it('escapes the five characters markup gives meaning to, ampersands first', () => {
    expect(escapeMarkup(`<a title="x">Tom & Jerry's &amp;</a>`)).toBe(
      '&lt;a title=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s &amp;amp;&lt;/a&gt;',
    );
  });
});
