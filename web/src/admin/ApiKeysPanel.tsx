import { type FormEvent, useCallback, useEffect, useState } from 'react';
import type { BoardSummary } from '../../../contract/board.ts';
import type { ApiKey, CreatedApiKey } from '../../../contract/scores.ts';
import { type AdminApi, errorText } from '../api/client.ts';
import { ConfirmDialog } from '../ui/ConfirmDialog.tsx';
import { FormField, nameInput } from '../ui/FormField.tsx';
import { useAction } from '../ui/useAction.ts';
import { boardNames, type KeyForm, keyRequest, keyState, sortedKeys } from './apiKeys.ts';
import './admin.css';

type Loaded =
  | { status: 'loading' }
  | { status: 'ready'; keys: ApiKey[] }
  | { status: 'failed'; message: string };

interface PanelProps {
  admin: AdminApi;
  /** The boards a key may be scoped to. */
  boards: readonly BoardSummary[];
}

/**
 * "Game server keys" (admin mode): make a key for some boards, see its token once, list the keys
 * with when each was last used, revoke one.
 */
export function ApiKeysPanel({ admin, boards }: PanelProps) {
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [created, setCreated] = useState<CreatedApiKey>();
  const [revoking, setRevoking] = useState<ApiKey>();
  const load = useCallback(async () => {
    try {
      setLoaded({ status: 'ready', keys: await admin.listKeys() });
    } catch (error) {
      setLoaded({ status: 'failed', message: errorText(error) });
    }
  }, [admin]);
  useEffect(() => void load(), [load]);

  return (
    <section className="admin-panel api-keys" aria-labelledby="api-keys-title">
      <h2 id="api-keys-title">Game server keys</h2>
      <p className="muted">
        A key lets a game server submit scores to the boards you pick, and nothing else.
      </p>
      <NewKeyForm
        admin={admin}
        boards={boards}
        onCreated={(key) => {
          setCreated(key);
          void load();
        }}
      />
      {created !== undefined && (
        <ShownToken created={created} onDismiss={() => setCreated(undefined)} />
      )}
      {loaded.status === 'failed' && (
        <p className="field-error" role="alert">
          Could not load the keys: {loaded.message}
        </p>
      )}
      {loaded.status === 'ready' && (
        <KeyList keys={loaded.keys} boards={boards} onRevoke={setRevoking} />
      )}
      <ConfirmDialog
        open={revoking !== undefined}
        title={`Revoke “${revoking?.name ?? ''}”?`}
        confirmLabel="Revoke key"
        onClose={() => setRevoking(undefined)}
        onConfirm={async () => {
          if (revoking !== undefined) await admin.revokeKey(revoking.id);
          await load();
        }}
      >
        <p>Game servers using this key can no longer submit scores. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}

const emptyForm: KeyForm = { name: '', boards: [], ratePerSecond: '50' };

function NewKeyForm({
  admin,
  boards,
  onCreated,
}: PanelProps & { onCreated: (key: CreatedApiKey) => void }) {
  const [form, setForm] = useState<KeyForm>(emptyForm);
  const [problem, setProblem] = useState<{ field: string; text: string }>();
  const creating = useAction();
  const change = (patch: Partial<KeyForm>) => {
    setForm((current) => ({ ...current, ...patch }));
    setProblem(undefined);
    creating.reset();
  };
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const request = keyRequest(form);
    if ('problem' in request) {
      setProblem(request.problem);
      return;
    }
    const done = await creating.run(async () => {
      onCreated(await admin.createKey(request.body));
    });
    if (done) setForm(emptyForm);
  };
  const errorOf = (field: string) => (problem?.field === field ? problem.text : undefined);

  return (
    <form className="api-key-form" onSubmit={(event) => void submit(event)} noValidate>
      <div className="field">
        <FormField
          id="api-key-name"
          label="Name"
          {...nameInput}
          placeholder="EU game servers"
          value={form.name}
          onChange={(event) => change({ name: event.target.value })}
          error={errorOf('name')}
        />
      </div>
      <BoardPicker
        boards={boards}
        picked={form.boards}
        onChange={(picked) => change({ boards: picked })}
        error={errorOf('boards')}
      />
      <div className="field">
        <FormField
          id="api-key-rate"
          label="Submissions per second"
          type="number"
          inputMode="numeric"
          min={1}
          value={form.ratePerSecond}
          onChange={(event) => change({ ratePerSecond: event.target.value })}
          error={errorOf('rate') ?? creating.error}
          action={
            <button type="submit" className="button" disabled={creating.pending}>
              Create key
            </button>
          }
        />
      </div>
    </form>
  );
}

function BoardPicker({
  boards,
  picked,
  onChange,
  error,
}: {
  boards: readonly BoardSummary[];
  picked: readonly string[];
  onChange: (picked: string[]) => void;
  error: string | undefined;
}) {
  const toggle = (id: string, on: boolean) =>
    onChange(on ? [...picked, id] : picked.filter((other) => other !== id));
  return (
    <fieldset
      className="field api-key-boards"
      aria-describedby={error === undefined ? undefined : 'api-key-boards-error'}
    >
      <legend>Boards it may write to</legend>
      {boards.length === 0 && <p className="muted">No boards yet.</p>}
      {boards.map((board) => (
        <label key={board.id} className="check">
          <input
            type="checkbox"
            checked={picked.includes(board.id)}
            onChange={(event) => toggle(board.id, event.target.checked)}
          />
          {board.name}
        </label>
      ))}
      {error !== undefined && (
        <p className="field-error" id="api-key-boards-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The new key's token, this once, with a copy button and a warning. */
function ShownToken({ created, onDismiss }: { created: CreatedApiKey; onDismiss: () => void }) {
  const [copied, setCopied] = useState<boolean>();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div className="api-key-token" role="status">
      <p>
        <strong>Copy the key for “{created.key.name}” now: it is shown only this once.</strong> Keep
        it secret; anyone holding it can submit scores to its boards.
      </p>
      <div className="field-row">
        <input
          readOnly
          aria-label="The new key"
          value={created.token}
          data-testid="api-key-token"
          onFocus={(event) => event.target.select()}
        />
        <button type="button" className="button" onClick={() => void copy()}>
          {copied === true ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button quiet" onClick={onDismiss}>
          Done
        </button>
      </div>
      {copied === false && (
        <p className="field-error" role="alert">
          Could not copy: select the key and copy it yourself.
        </p>
      )}
    </div>
  );
}

function KeyList({
  keys,
  boards,
  onRevoke,
}: {
  keys: readonly ApiKey[];
  boards: readonly BoardSummary[];
  onRevoke: (key: ApiKey) => void;
}) {
  if (keys.length === 0) return <p className="muted">No keys yet.</p>;
  const now = new Date();
  return (
    <ul className="api-key-list">
      {sortedKeys(keys).map((key) => {
        const state = keyState(key, now);
        return (
          <li key={key.id} className={state.revoked ? 'revoked' : undefined} data-testid="api-key">
            <span className="api-key-name">{key.name}</span>
            <span className="muted">
              {boardNames(key, boards)} · {key.ratePerSecond}/s · {state.text}
            </span>
            {!state.revoked && (
              <button
                type="button"
                className="button quiet danger-text"
                onClick={() => onRevoke(key)}
              >
                Revoke…
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
