import { partitionOf, recordsSubject, subjectToken } from './subjects';

describe('backbone subjects', () => {
  it('leaves registry ids as they are and escapes anything that could add a level', () => {
    expect(subjectToken('plant-1')).toBe('plant-1');
    expect(subjectToken('a.b')).toBe('a~2eb');
    expect(subjectToken('*')).toBe('~2a');
    expect(subjectToken('>')).toBe('~3e');
    expect(subjectToken('罐区')).toMatch(/^(~[0-9a-f]{2})+$/);
    expect(recordsSubject(3, 'x y.z')).toBe('vigil.records.3.x~20y~2ez');
  });

  it('maps distinct ids to distinct tokens', () => {
    const ids = ['a.b', 'a~2eb', 'a_b', 'a-b', 'ab', '~', ''];
    expect(new Set(ids.map(subjectToken)).size).toBe(ids.length);
  });

  it('puts a site in the same partition every time, spread over all of them', () => {
    expect(partitionOf('plant-1', 16)).toBe(partitionOf('plant-1', 16));
    const used = new Set(Array.from({ length: 400 }, (_, i) => partitionOf(`site-${i}`, 16)));
    expect(used.size).toBe(16);
  });
});
