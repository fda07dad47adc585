import { useState } from 'react';
import type { BoardMeta } from '../../../contract/events.ts';
import type { AdminApi } from '../api/client.ts';
import { navigate, routePaths } from '../app/router.ts';
import { ActionForm } from '../ui/ActionForm.tsx';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { nameInput } from '../ui/FormField.tsx';
import { useAction } from '../ui/useAction.ts';
import { ResultsDownload } from './ResultsDownload.tsx';
import { ScheduleAdmin } from './ScheduleAdmin.tsx';
import './admin.css';

interface BoardAdminProps {
  board: BoardMeta;
  admin: AdminApi;
  /** Says what was done, politely (the page's notice). */
  onDone: (text: string) => void;
}

/**
 * Admin tools for a whole board: add a player, download the results, set its reset schedule, reset
 * every score, delete the board.
 */
export function BoardAdmin({ board, admin, onDone }: BoardAdminProps) {
  const [name, setName] = useState('');
  const adding = useAction();
  const [confirming, setConfirming] = useState<'reset' | 'delete'>();

  const add = async () => {
    const value = name.trim();
    if (value === '') {
      adding.fail('Enter the new player’s name.');
      return;
    }
    const done = await adding.run(async () => {
      await admin.addPlayer(board.id, value);
    });
    if (done) {
      // Typing may have gone on while the request was under way: keep a name not yet added.
      setName((current) => (current.trim() === value ? '' : current));
      onDone(`Added ${value}.`);
    }
  };

  return (
    <section className="admin-panel" aria-labelledby="board-admin-title">
      <h2 id="board-admin-title">Manage this board</h2>
      <ActionForm
        id="new-player-name"
        errorId="new-player-error"
        label="Add a player"
        {...nameInput}
        placeholder="Name"
        value={name}
        onValueChange={setName}
        request={adding}
        onSubmit={add}
        submitLabel="Add player"
      />
      <ResultsDownload boardId={board.id} admin={admin} onDone={onDone} />
      <ScheduleAdmin board={board} admin={admin} onDone={onDone} />
      <div className="admin-danger">
        <button type="button" className="button quiet" onClick={() => setConfirming('reset')}>
          Reset scores…
        </button>
        <button
          type="button"
          className="button quiet danger-text"
          onClick={() => setConfirming('delete')}
        >
          Delete board…
        </button>
      </div>
      <ConfirmDialog
        open={confirming === 'reset'}
        title={`Reset “${board.name}”?`}
        confirmLabel="Reset scores"
        onClose={() => setConfirming(undefined)}
        onConfirm={async () => {
          await admin.resetBoard(board.id);
          onDone('Every score is back to 0.');
        }}
      >
        <p>Every player’s score goes back to 0. The players stay. This cannot be undone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'delete'}
        title={`Delete “${board.name}”?`}
        confirmLabel="Delete board"
        onClose={() => setConfirming(undefined)}
        onConfirm={async () => {
          await admin.deleteBoard(board.id);
          navigate(routePaths.boards());
        }}
      >
        <p>
          The board and its {board.playerCount.toLocaleString()} players are gone for everyone
          watching it. This cannot be undone.
        </p>
      </ConfirmDialog>
    </section>
  );
}
