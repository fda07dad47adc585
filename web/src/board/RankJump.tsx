import { useState } from 'react';
import { FormField } from '../ui/FormField.tsx';
import { pageOfRank } from './rankingView.ts';

interface RankJumpProps {
  playerCount: number;
  /** Shows the page of ranks holding the rank asked for. */
  onJump: (page: number) => void;
}

/** A rank to go to: the ranking then shows the page of ranks that holds it, live. */
export function RankJump({ playerCount, onJump }: RankJumpProps) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string>();
  return (
    <form
      className="field rank-jump"
      aria-label="Go to a rank"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const rank = Number(value.trim());
        if (value.trim() === '' || !Number.isInteger(rank) || rank < 1) {
          setError(`Enter a rank from 1 to ${playerCount.toLocaleString()}.`);
          return;
        }
        onJump(pageOfRank(rank, playerCount));
      }}
    >
      <FormField
        id="rank-jump"
        label="Go to rank"
        type="number"
        inputMode="numeric"
        min={1}
        max={playerCount}
        step={1}
        placeholder="1"
        value={value}
        error={error}
        onChange={(event) => {
          setValue(event.target.value);
          setError(undefined);
        }}
        action={
          <button type="submit" className="button quiet">
            Go
          </button>
        }
      />
    </form>
  );
}
