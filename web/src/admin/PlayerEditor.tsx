import { type FormEvent, useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import type { AdminApi } from '../api/client.ts';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { Modal } from '../ui/Modal.tsx';
import { useAction } from '../ui/useAction.ts';

interface PlayerEditorProps {
  boardId: string;
  /** The player as the board shows it now; undefined closes the editor. */
  player: RankedPlayer | undefined;
  admin: AdminApi;
  onClose: () => void;
  onDone: (text: string) => void;
}

/** A dialog to rename a player, set its score, or remove it; each says beside it what failed. */
export function PlayerEditor({ boardId, player, admin, onClose, onDone }: PlayerEditorProps) {
  return (
    <Modal
      open={player !== undefined}
      onClose={onClose}
      labelledBy="player-editor-title"
      className="editor"
    >
      {player !== undefined && (
        <EditorBody
          key={player.id}
          boardId={boardId}
          player={player}
          admin={admin}
          onClose={onClose}
          onDone={onDone}
        />
      )}
    </Modal>
  );
}

function EditorBody({
  boardId,
  player,
  admin,
  onClose,
  onDone,
}: PlayerEditorProps & { player: RankedPlayer }) {
  const [name, setName] = useState(player.name);
  const [score, setScore] = useState(String(player.score));
  const renaming = useAction();
  const scoring = useAction();
  const [removing, setRemoving] = useState(false);

  const rename = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = name.trim();
    if (value === '') return renaming.fail('Enter a name.');
    if (value === player.name) return renaming.fail('That is already the name.');
    if (
      await renaming.run(
        async () => void (await admin.updatePlayer(boardId, player.id, { name: value })),
      )
    ) {
      onDone(`${player.name} is now ${value}.`);
    }
  };

  const setTo = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const text = score.trim();
    const value = Number(text);
    if (text === '' || !Number.isInteger(value)) return scoring.fail('Enter a whole number.');
    if (
      await scoring.run(
        async () => void (await admin.updatePlayer(boardId, player.id, { score: value })),
      )
    ) {
      onDone(`${player.name} has ${value.toLocaleString()} points.`);
    }
  };

  return (
    <>
      <h2 id="player-editor-title">Edit {player.name}</h2>
      <p className="muted">
        Rank {player.rank} · {player.score.toLocaleString()} points
      </p>
      <form className="field" onSubmit={(event) => void rename(event)} noValidate>
        <label htmlFor="edit-player-name">Name</label>
        <div className="field-row">
          <input
            id="edit-player-name"
            type="text"
            autoComplete="off"
            maxLength={64}
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              renaming.reset();
            }}
            aria-invalid={renaming.error !== undefined || undefined}
            aria-describedby={renaming.error === undefined ? undefined : 'edit-name-error'}
            // biome-ignore lint/a11y/noAutofocus: the first field of the dialog
            autoFocus
          />
          <button type="submit" className="button" disabled={renaming.pending}>
            Rename
          </button>
        </div>
        {renaming.error !== undefined && (
          <p className="field-error" id="edit-name-error" role="alert">
            {renaming.error}
          </p>
        )}
      </form>
      <form className="field" onSubmit={(event) => void setTo(event)} noValidate>
        <label htmlFor="edit-player-score">Score</label>
        <div className="field-row">
          <input
            id="edit-player-score"
            type="number"
            inputMode="numeric"
            step={1}
            value={score}
            onChange={(event) => {
              setScore(event.target.value);
              scoring.reset();
            }}
            aria-invalid={scoring.error !== undefined || undefined}
            aria-describedby={scoring.error === undefined ? undefined : 'edit-score-error'}
          />
          <button type="submit" className="button" disabled={scoring.pending}>
            Set score
          </button>
        </div>
        {scoring.error !== undefined && (
          <p className="field-error" id="edit-score-error" role="alert">
            {scoring.error}
          </p>
        )}
      </form>
      <div className="modal-actions spread">
        <button
          type="button"
          className="button quiet danger-text"
          onClick={() => setRemoving(true)}
        >
          Remove player…
        </button>
        <button type="button" className="button quiet" onClick={onClose}>
          Done
        </button>
      </div>
      <ConfirmDialog
        open={removing}
        title={`Remove ${player.name}?`}
        confirmLabel="Remove player"
        onClose={() => setRemoving(false)}
        onConfirm={async () => {
          await admin.removePlayer(boardId, player.id);
          onDone(`Removed ${player.name}.`);
          onClose();
        }}
      >
        <p>
          {player.name} and their {player.score.toLocaleString()} points leave the board. This
          cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
