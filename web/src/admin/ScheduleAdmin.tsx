import { type FormEvent, useState } from 'react';
import type { ScheduleBody } from '../../../contract/board.ts';
import type { BoardMeta } from '../../../contract/events.ts';
import type { AdminApi } from '../api/client.ts';
import { ScheduleFields } from '../seasons/ScheduleFields.tsx';
import {
  browserTimeZone,
  type ScheduleForm,
  type ScheduleProblem,
  scheduleBody,
  scheduleForm,
  scheduleProblemOf,
  scheduleText,
} from '../seasons/schedule.ts';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { useAction } from '../ui/useAction.ts';

interface ScheduleAdminProps {
  board: BoardMeta;
  admin: AdminApi;
  /** Says what was done, politely (the page's notice). */
  onDone: (text: string) => void;
}

/**
 * The board's reset schedule in words, and the controls that set it, change it, or remove it
 * after a confirmation. The words follow the board's stream: they change once the change is made.
 */
export function ScheduleAdmin({ board, admin, onDone }: ScheduleAdminProps) {
  const current = board.season?.schedule;
  const [editing, setEditing] = useState(false);
  const [removing, setRemoving] = useState(false);

  return (
    <div className="admin-schedule">
      <p data-testid="board-schedule">
        {current === undefined ? 'Never resets on its own.' : `${scheduleText(current)}.`}
      </p>
      {editing ? (
        <ScheduleEditForm
          boardId={board.id}
          current={current}
          admin={admin}
          onClose={() => setEditing(false)}
          onDone={onDone}
        />
      ) : (
        <div className="admin-actions">
          <button type="button" className="button quiet" onClick={() => setEditing(true)}>
            {current === undefined ? 'Set a reset schedule…' : 'Change schedule…'}
          </button>
          {current !== undefined && (
            <button
              type="button"
              className="button quiet danger-text"
              onClick={() => setRemoving(true)}
            >
              Remove schedule…
            </button>
          )}
        </div>
      )}
      <ConfirmDialog
        open={removing}
        title={`Stop resetting “${board.name}”?`}
        confirmLabel="Remove schedule"
        onClose={() => setRemoving(false)}
        onConfirm={async () => {
          await admin.setSchedule(board.id, null);
          setEditing(false);
          onDone('The board no longer resets on its own.');
        }}
      >
        <p>
          The board keeps its scores and its past seasons, and stops resetting on its own. A
          schedule can be set again at any time.
        </p>
      </ConfirmDialog>
    </div>
  );
}

const ERROR_ID = 'board-schedule-error';

interface ScheduleEditFormProps {
  boardId: string;
  /** The schedule to change; a new one (weekly, in this browser's zone) when undefined. */
  current: ScheduleBody | undefined;
  admin: AdminApi;
  onClose: () => void;
  onDone: (text: string) => void;
}

/** The schedule's fields and Save: a refusal shows on the field it names, any other under Save. */
function ScheduleEditForm({ boardId, current, admin, onClose, onDone }: ScheduleEditFormProps) {
  const [form, setForm] = useState(() => scheduleForm(current, browserTimeZone()));
  const [problem, setProblem] = useState<ScheduleProblem>();
  const saving = useAction();
  const error = problem === undefined ? saving.error : undefined;

  const change = (patch: Partial<ScheduleForm>) => {
    setForm((before) => ({ ...before, ...patch }));
    setProblem(undefined);
    saving.reset();
  };
  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(undefined);
    const request = scheduleBody(form);
    if ('problem' in request) {
      setProblem(request.problem);
      return;
    }
    const { schedule } = request;
    if (schedule === undefined) return;
    const done = await saving.run(async () => {
      try {
        await admin.setSchedule(boardId, schedule);
      } catch (failure) {
        setProblem(scheduleProblemOf(failure));
        throw failure;
      }
    });
    if (done) {
      onClose();
      onDone(`${scheduleText(schedule)}.`);
    }
  };

  return (
    <form onSubmit={(event) => void save(event)} noValidate aria-label="Reset schedule">
      <ScheduleFields idPrefix="board-schedule" form={form} onChange={change} problem={problem}>
        <div className="admin-actions schedule-actions">
          <button
            type="submit"
            className="button"
            disabled={saving.pending}
            aria-describedby={error === undefined ? undefined : ERROR_ID}
          >
            Save schedule
          </button>
          <button type="button" className="button quiet" onClick={onClose}>
            Cancel
          </button>
        </div>
      </ScheduleFields>
      {error !== undefined && (
        <p className="field-error" id={ERROR_ID} role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
