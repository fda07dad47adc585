import { type FormEvent, useState } from 'react';
import type { Order, ScoreOperator } from '../../../contract/board.ts';
import { OPERATORS, operatorLabel } from '../../../contract/operators.ts';
import type { AdminApi } from '../api/client.ts';
import { navigate, routePaths } from '../app/router.ts';
import { ScheduleFields } from '../seasons/ScheduleFields.tsx';
import {
  browserTimeZone,
  newScheduleForm,
  type ScheduleForm,
  type ScheduleProblem,
  scheduleBody,
  scheduleProblemOf,
} from '../seasons/schedule.ts';
import { FormField, nameInput } from '../ui/FormField.tsx';
import { useAction } from '../ui/useAction.ts';
import '../admin/admin.css';
import './NewBoardForm.css';

/**
 * Creates a board (admin mode) and opens it, ready for its first players; it may reset on a
 * schedule (never, by default).
 */
export function NewBoardForm({ admin }: { admin: AdminApi }) {
  const [name, setName] = useState('');
  const [order, setOrder] = useState<Order>('desc');
  const [operator, setOperator] = useState<ScoreOperator>('incr');
  const [schedule, setSchedule] = useState<ScheduleForm>(() => newScheduleForm(browserTimeZone()));
  const [problem, setProblem] = useState<ScheduleProblem>();
  const creating = useAction();

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setProblem(undefined);
    const value = name.trim();
    if (value === '') {
      creating.fail('Give the board a name.');
      return;
    }
    const request = scheduleBody(schedule);
    if ('problem' in request) {
      setProblem(request.problem);
      return;
    }
    const body = { name: value, order, operator };
    let id: string | undefined;
    const done = await creating.run(async () => {
      try {
        const board = await admin.createBoard(
          request.schedule === undefined ? body : { ...body, schedule: request.schedule },
        );
        id = board.id;
      } catch (error) {
        setProblem(scheduleProblemOf(error));
        throw error;
      }
    });
    if (done && id !== undefined) navigate(routePaths.board(id));
  };
  const changeSchedule = (patch: Partial<ScheduleForm>) => {
    setSchedule((current) => ({ ...current, ...patch }));
    setProblem(undefined);
    creating.reset();
  };

  return (
    <form
      className="admin-panel new-board"
      onSubmit={(event) => void create(event)}
      noValidate
      aria-labelledby="new-board-title"
    >
      <h2 id="new-board-title">New board</h2>
      <div className="field-row wrap">
        <div className="field grow">
          <FormField
            id="new-board-name"
            errorId="new-board-error"
            label="Name"
            {...nameInput}
            placeholder="Friday quiz night"
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              creating.reset();
            }}
            // A refusal of the schedule shows on its field; any other on the name.
            error={problem === undefined ? creating.error : undefined}
          />
        </div>
        <div className="field">
          <label htmlFor="new-board-order">Winner</label>
          <select
            id="new-board-order"
            value={order}
            onChange={(event) => setOrder(event.target.value === 'asc' ? 'asc' : 'desc')}
          >
            <option value="desc">Highest score</option>
            <option value="asc">Lowest score</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="new-board-operator">Submitted scores</label>
          <select
            id="new-board-operator"
            value={operator}
            onChange={(event) =>
              setOperator(OPERATORS.find((o) => o === event.target.value) ?? 'incr')
            }
          >
            {OPERATORS.map((o) => (
              <option key={o} value={o}>
                {operatorText(o, order)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ScheduleFields
        idPrefix="new-board-schedule"
        form={schedule}
        onChange={changeSchedule}
        problem={problem}
        withNever
      >
        <button type="submit" className="button" disabled={creating.pending}>
          Create board
        </button>
      </ScheduleFields>
    </form>
  );
}

/** "Scores: adds (the +1 button)", "Scores: keeps the best (highest)". */
function operatorText(operator: ScoreOperator, order: Order): string {
  const label = operatorLabel(operator, order);
  return `Scores: ${operator === 'incr' ? `${label} (the +1 button)` : label}`;
}
