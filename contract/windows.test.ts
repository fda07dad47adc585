import { describe, expect, it } from 'vitest';
import { MAX_STREAM_PAGES, PAGE_SIZE, pageOf, pagesCovering, streamPages } from './windows.ts';

describe('windows', () => {
  it('cuts positions into pages of PAGE_SIZE', () => {
    expect(pageOf(0)).toBe(0);
    expect(pageOf(PAGE_SIZE - 1)).toBe(0);
    expect(pageOf(PAGE_SIZE)).toBe(1);
  });

  it('covers a range with the pages it touches', () => {
    expect(pagesCovering(0, 100)).toEqual([0, 1, 2, 3]);
    expect(pagesCovering(0, 10)).toEqual([0]);
    expect(pagesCovering(20, 10)).toEqual([0, 1]);
    expect(pagesCovering(-5, 10)).toEqual([0]);
    expect(pagesCovering(3, 0)).toEqual([]);
  });

  it('follows the main window and the pages around a player, never more than the cap', () => {
    expect(streamPages({ from: 0, limit: 100 })).toEqual([0, 1, 2, 3]);
    expect(streamPages({ from: 0, limit: 100 }, 30)).toEqual([0, 1, 2, 3]);
    expect(streamPages({ from: 0, limit: 100 }, 1_000_000)).toEqual([0, 1, 2, 3, 39999, 40000]);
    expect(streamPages({ from: 0, limit: 10 }, 512)).toEqual([0, 20]);
    for (let position = 0; position < 2_000; position += 7) {
      const pages = streamPages({ from: 75, limit: 100 }, position);
      expect(pages.length).toBeLessThanOrEqual(MAX_STREAM_PAGES);
      expect(pages).toContain(pageOf(position));
    }
  });
});
