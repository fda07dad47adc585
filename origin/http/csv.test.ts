import { describe, expect, it } from 'vitest';
import { safeFileName, toCsv } from './csv.ts';

describe('toCsv', () => {
  it('starts with a UTF-8 byte-order mark and ends every row with CRLF', () => {
    expect(
      toCsv([
        ['a', 1],
        ['b', 2],
      ]),
    ).toBe('\ufeffa,1\r\nb,2\r\n');
  });

  it.each([
    ['a comma', 'Smith, Ada', '"Smith, Ada"'],
    ['a quote', 'The "Ace"', '"The ""Ace"""'],
    ['a line break', 'two\nlines', '"two\nlines"'],
    ['a carriage return inside', 'a\rb', '"a\rb"'],
    ['nothing special', 'Zoë 張 😀', 'Zoë 張 😀'],
    ['an empty string', '', ''],
  ])('quotes a field with %s as RFC 4180 says', (_, cell, written) => {
    expect(toCsv([[cell]])).toBe(`\ufeff${written}\r\n`);
  });

  it.each([
    [
      '=',
      '=HYPERLINK("http://x.example","click")',
      `"'=HYPERLINK(""http://x.example"",""click"")"`,
    ],
    ['+', '+1+1', "'+1+1"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['a tab', '\t=1', "'\t=1"],
    ['a carriage return', '\r=1', `"'\r=1"`],
  ])('neutralises text starting with %s (a leading apostrophe)', (_, cell, written) => {
    expect(toCsv([[cell]])).toBe(`\ufeff${written}\r\n`);
  });

  it('writes numbers as numbers, negative ones included', () => {
    expect(toCsv([[-5, 0, 1_000_000_000_000]])).toBe('\ufeff-5,0,1000000000000\r\n');
  });

  it('leaves text alone when the formula character is not first', () => {
    expect(toCsv([['a=b', 'x-y']])).toBe('\ufeffa=b,x-y\r\n');
  });
});

describe('safeFileName', () => {
  it.each([
    ['Quiz night', 'quiz-night'],
    ['Zoë & Ünal: finals!', 'zoe-unal-finals'],
    ['../../etc/passwd', 'etc-passwd'],
    ['a"b\r\nContent-Type: x', 'a-b-content-type-x'],
    ['張 😀', 'board-id'],
    ['x'.repeat(80), 'x'.repeat(60)],
  ])('%j -> %j', (name, file) => {
    expect(safeFileName(name, 'board-id')).toBe(file);
  });
});
