import type { Order } from '../../../contract/board.ts';

/** "Highest score wins" or "Lowest score wins". */
export function orderText(order: Order): string {
  return order === 'desc' ? 'Highest score wins' : 'Lowest score wins';
}

/** "1 player", "10,000 players". */
export function playersText(count: number): string {
  return `${count.toLocaleString()} ${count === 1 ? 'player' : 'players'}`;
}

/** The board's address without its scheme, short enough to read off a screen and type. */
export function shortLink(url: string): string {
  return url.replace(/^https?:\/\//, '');
}
