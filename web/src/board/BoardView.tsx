import type { AdminApi, Api } from '../api/client.ts';
import type { BoardDisplay } from '../app/router.ts';
import { BigScreen } from './BigScreen.tsx';
import { BoardPage } from './BoardPage.tsx';
import { EmbedBoard } from './EmbedBoard.tsx';
import { useBoard } from './useBoard.ts';

interface BoardViewProps {
  boardId: string;
  display: BoardDisplay;
  api: Api;
  /** The admin calls, in admin mode. */
  admin: AdminApi | undefined;
}

/**
 * One board, followed live, shown as the address asks: the page (`/b/<id>`), the big screen
 * (`?view=tv`) or the embed (`?embed=1`). Switching between them keeps the board followed: each
 * says which rows it shows, and the stream moves to them.
 */
export function BoardView({ boardId, display, api, admin }: BoardViewProps) {
  const live = useBoard(boardId, api);
  if (display === 'tv') return <BigScreen boardId={boardId} live={live} />;
  if (display === 'embed') return <EmbedBoard boardId={boardId} live={live} />;
  return <BoardPage boardId={boardId} live={live} api={api} admin={admin} />;
}
