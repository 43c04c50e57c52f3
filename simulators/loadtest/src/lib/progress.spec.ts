import { Progress, progressLine, thousands } from './progress';

describe('progress', () => {
  it('draws a bar with the time and figures', () => {
    expect(progressLine(30_000, 60_000, ['sent 9,980/s'], 10)).toBe(
      '[█████░░░░░]  50% 30s/60s | sent 9,980/s',
    );
    expect(progressLine(90_000, 60_000, [], 4)).toBe('[████] 100% 90s/60s');
    expect(thousands(12_345.6)).toBe('12,346');
  });

  it('rewrites one line on a terminal, and prints every so often to a file', () => {
    const written: string[] = [];
    const stream = {
      isTTY: false,
      columns: 80,
      write: (text: string) => written.push(text),
    } as unknown as NodeJS.WriteStream;
    const progress = new Progress(stream, 10_000);
    progress.update('a', 20_000);
    progress.update('b', 25_000);
    progress.update('c', 31_000);
    expect(written).toEqual(['a\n', 'c\n']);
    const tty: string[] = [];
    const terminal = {
      isTTY: true,
      columns: 10,
      write: (text: string) => tty.push(text),
    } as unknown as NodeJS.WriteStream;
    new Progress(terminal).update('abcdefghijklmn');
    expect(tty).toEqual(['\rabcdefghi']);
  });
});
