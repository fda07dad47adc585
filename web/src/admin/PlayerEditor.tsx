import { useState } from 'react';
import type { RankedPlayer } from '../../../contract/board.ts';
import type { AdminApi } from '../api/client.ts';
import { ActionForm } from '../ui/ActionForm.tsx';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { nameInput } from '../ui/FormField.tsx';
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

type EditorBodyProps = PlayerEditorProps & { player: RankedPlayer };
type PlayerFormProps = Omit<EditorBodyProps, 'onClose'>;

function EditorBody({ boardId, player, admin, onClose, onDone }: EditorBodyProps) {
  const [removing, setRemoving] = useState(false);
  return (
    <>
      <h2 id="player-editor-title">Edit {player.name}</h2>
      <p className="muted">
        Rank {player.rank} · {player.score.toLocaleString()} points
      </p>
      <RenameForm boardId={boardId} player={player} admin={admin} onDone={onDone} />
      <ScoreForm boardId={boardId} player={player} admin={admin} onDone={onDone} />
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

function RenameForm({ boardId, player, admin, onDone }: PlayerFormProps) {
  const [name, setName] = useState(player.name);
  const renaming = useAction();

  const rename = async () => {
    const value = name.trim();
    if (value === '') return renaming.fail('Enter a name.');
    if (value === player.name) return renaming.fail('That is already the name.');
    const done = await renaming.run(async () => {
      await admin.updatePlayer(boardId, player.id, { name: value });
    });
    if (done) onDone(`${player.name} is now ${value}.`);
  };

  return (
    <ActionForm
      id="edit-player-name"
      errorId="edit-name-error"
      label="Name"
      {...nameInput}
      value={name}
      onValueChange={setName}
      // The first field of the dialog takes focus when it opens.
      autoFocus
      request={renaming}
      onSubmit={rename}
      submitLabel="Rename"
    />
  );
}

function ScoreForm({ boardId, player, admin, onDone }: PlayerFormProps) {
  const [score, setScore] = useState(String(player.score));
  const scoring = useAction();

  const setTo = async () => {
    const text = score.trim();
    const value = Number(text);
    if (text === '' || !Number.isInteger(value)) return scoring.fail('Enter a whole number.');
    const done = await scoring.run(async () => {
      await admin.updatePlayer(boardId, player.id, { score: value });
    });
    if (done) onDone(`${player.name} has ${value.toLocaleString()} points.`);
  };

  return (
    <ActionForm
      id="edit-player-score"
      errorId="edit-score-error"
      label="Score"
      type="number"
      inputMode="numeric"
      step={1}
      value={score}
      onValueChange={setScore}
      request={scoring}
      onSubmit={setTo}
      submitLabel="Set score"
    />
  );
}
