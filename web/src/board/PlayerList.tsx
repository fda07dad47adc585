import { useLayoutEffect, useRef } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import { useFlip } from './flip.ts';
import { PlayerRow } from './PlayerRow.tsx';
import type { Row } from './rows.ts';
import './PlayerList.css';

interface PlayerListProps {
  rows: Row[];
  label: string;
  className?: string | undefined;
  pickId?: string | undefined;
  /** A player the viewer looked for, marked out. */
  foundId?: string | undefined;
  paused?: boolean;
  /** Without it, no +1 buttons (big screen, embed). */
  onVote?: ((player: RankedPlayer) => void) | undefined;
  /** With it, an Edit button on each row (admin mode). */
  onEdit?: ((player: RankedPlayer) => void) | undefined;
  /** With it, a Show button on each row (search results). */
  onShow?: ((player: RankedPlayer) => void) | undefined;
}

function gapText(row: Extract<Row, { kind: 'gap' }>): string {
  const players = `${row.hidden.toLocaleString()} ${row.hidden === 1 ? 'player' : 'players'}`;
  switch (row.key) {
    case 'gap-start':
      return `${players} above`;
    case 'gap-above':
      return `${players} in between`;
    case 'gap-end':
      return `${players} more`;
  }
}

/** The board's rows in rank order; rows slide to their new places when ranks change. */
export function PlayerList({
  rows,
  label,
  className,
  pickId,
  foundId,
  paused = false,
  onVote,
  onEdit,
  onShow,
}: PlayerListProps) {
  const list = useRef<HTMLOListElement>(null);
  // The row whose button has focus: moving rows can take focus away, and we give it back. When
  // the row itself is gone (the player was removed), the row that took its place gets it.
  const focused = useRef<{ id: string; className: string; index: number } | undefined>(undefined);
  useFlip(list, rows);

  useLayoutEffect(() => {
    const was = focused.current;
    if (was === undefined || list.current === null) return;
    const active = document.activeElement;
    if (active !== null && active !== document.body) return;
    const buttons = [
      ...list.current.querySelectorAll<HTMLButtonElement>(`button.${was.className}`),
    ];
    const same = buttons.find((button) => button.closest('li')?.dataset.playerId === was.id);
    const next = same ?? buttons[Math.min(was.index, buttons.length - 1)];
    next?.focus({ preventScroll: same !== undefined });
  });

  return (
    <ol
      className={className === undefined ? 'players' : `players ${className}`}
      ref={list}
      aria-label={label}
      onFocus={(event) => {
        const id = event.target.closest('li')?.dataset.playerId;
        const className = event.target.classList[0];
        const index = [...event.currentTarget.querySelectorAll(`button.${className}`)].indexOf(
          event.target,
        );
        focused.current =
          id === undefined || className === undefined ? undefined : { id, className, index };
      }}
      onBlur={(event) => {
        // A button taken out of the page by a move blurs too, and one that opened a dialog lends
        // focus to it, to have it back when the dialog closes (its row may be gone by then):
        // only a real blur forgets it.
        const to = event.relatedTarget;
        const toDialog = to instanceof Element && to.closest('dialog') !== null;
        if (event.target.isConnected && !toDialog) focused.current = undefined;
      }}
    >
      {rows.map((row) =>
        row.kind === 'gap' ? (
          <li key={row.key} className="gap" data-flip-id={row.key}>
            {gapText(row)}
          </li>
        ) : (
          <PlayerRow
            key={row.player.id}
            player={row.player}
            isPick={row.player.id === pickId}
            isFound={row.player.id === foundId}
            paused={paused}
            onVote={onVote}
            onEdit={onEdit}
            onShow={onShow}
          />
        ),
      )}
    </ol>
  );
}
