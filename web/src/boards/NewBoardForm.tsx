import { type FormEvent, useState } from 'react';
import type { Order, ScoreOperator } from '../../../contract/board.ts';
import { OPERATORS, operatorLabel } from '../../../contract/operators.ts';
import type { AdminApi } from '../api/client.ts';
import { navigate, routePaths } from '../app/router.ts';
import { ActionField } from '../ui/ActionForm.tsx';
import { nameInput } from '../ui/FormField.tsx';
import { useAction } from '../ui/useAction.ts';
import '../admin/admin.css';
import './NewBoardForm.css';

/** Creates a board (admin mode) and opens it, ready for its first players. */
export function NewBoardForm({ admin }: { admin: AdminApi }) {
  const [name, setName] = useState('');
  const [order, setOrder] = useState<Order>('desc');
  const [operator, setOperator] = useState<ScoreOperator>('incr');
  const creating = useAction();

  const create = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = name.trim();
    if (value === '') {
      creating.fail('Give the board a name.');
      return;
    }
    let id: string | undefined;
    const done = await creating.run(async () => {
      id = (await admin.createBoard(value, order, operator)).id;
    });
    if (done && id !== undefined) navigate(routePaths.board(id));
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
          <ActionField
            id="new-board-name"
            errorId="new-board-error"
            label="Name"
            {...nameInput}
            placeholder="Friday quiz night"
            value={name}
            onValueChange={setName}
            request={creating}
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
        <button type="submit" className="button" disabled={creating.pending}>
          Create board
        </button>
      </div>
    </form>
  );
}

/** "Scores: adds (the +1 button)", "Scores: keeps the best (highest)". */
function operatorText(operator: ScoreOperator, order: Order): string {
  const label = operatorLabel(operator, order);
  return `Scores: ${operator === 'incr' ? `${label} (the +1 button)` : label}`;
}
