import { describe, expect, it } from 'vitest';
import { acceptsEventStream } from './stream.ts';

describe('acceptsEventStream', () => {
  it.each([
    ['upper case', 'TEXT/EVENT-STREAM'],
    ['parameters and spaces', 'application/json ,  text/event-stream ; charset=utf-8'],
    ['a positive weight', 'text/event-stream;q=0.5'],
  ])('recognises a stream Accept header with %s', (_, accept) => {
    expect(acceptsEventStream(accept)).toBe(true);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['a wildcard', '*/*'],
    ['a type wildcard', 'text/*'],
    ['weight zero', 'text/event-stream;q=0, application/json'],
    ['a longer type name', 'text/event-streams'],
    ['JSON', 'application/json'],
    ['garbage', ';;;,,,=='],
  ])('does not treat an Accept header that is %s as a stream', (_, accept) => {
    expect(acceptsEventStream(accept)).toBe(false);
  });
});
