import { type FormEvent, useState } from 'react';
import { type Api, errorText } from '../api/client.ts';
import { FormField } from '../ui/FormField.tsx';
import { Modal } from '../ui/Modal.tsx';

interface AdminSignInProps {
  api: Api;
  open: boolean;
  onClose: () => void;
  /** Called with a token the server took. */
  onSignedIn: (token: string) => void;
}

/** Asks for the admin token once, checks it with the server, and says why when it is refused. */
export function AdminSignIn({ api, open, onClose, onSignedIn }: AdminSignInProps) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [pending, setPending] = useState(false);

  const close = () => {
    setToken('');
    setError(undefined);
    onClose();
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const value = token.trim();
    if (value === '') {
      setError('Enter the admin token.');
      return;
    }
    setPending(true);
    setError(undefined);
    try {
      await api.admin(value).checkToken();
      setToken('');
      onSignedIn(value);
      onClose();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setPending(false);
    }
  };

  return (
    <Modal open={open} onClose={close} labelledBy="admin-sign-in-title" className="sign-in">
      <h2 id="admin-sign-in-title">Admin mode</h2>
      <p className="muted">
        Admins create boards, manage players and set scores. The token stays in this tab only.
      </p>
      <form className="field" onSubmit={(event) => void submit(event)} noValidate>
        <FormField
          id="admin-token"
          label="Admin token"
          error={error}
          type="password"
          autoComplete="current-password"
          spellCheck={false}
          value={token}
          onChange={(event) => setToken(event.target.value)}
          // The only field of the dialog takes focus when it opens.
          autoFocus
          action={
            <button type="submit" className="button" disabled={pending}>
              {pending ? 'Checking…' : 'Enter'}
            </button>
          }
        />
      </form>
      <div className="modal-actions">
        <button type="button" className="button quiet" onClick={close}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
