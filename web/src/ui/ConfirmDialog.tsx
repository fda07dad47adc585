import { type ReactNode, useId, useState } from 'react';
import { errorText } from '../api/client.ts';
import { Modal } from './Modal.tsx';
import './ConfirmDialog.css';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  /** The words on the button that does it: "Delete board", not "OK". */
  confirmLabel: string;
  /** Does the thing; a rejection is shown in the dialog, which then stays open. */
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/**
 * The step before something that cannot be undone. Focus starts on Cancel, so a stray Enter
 * keeps things as they are; a failure is shown next to the button that caused it.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onClose,
}: ConfirmDialogProps) {
  const titleId = useId();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string>();

  const close = () => {
    setError(undefined);
    onClose();
  };

  const confirm = async () => {
    setPending(true);
    setError(undefined);
    try {
      await onConfirm();
      close();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setPending(false);
    }
  };

  return (
    <Modal open={open} onClose={close} labelledBy={titleId} className="confirm">
      <h2 id={titleId}>{title}</h2>
      <div className="confirm-text">{children}</div>
      {error !== undefined && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="modal-actions">
        {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes focus when the dialog opens */}
        <button type="button" className="button quiet" onClick={close} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          onClick={() => void confirm()}
          disabled={pending}
        >
          {pending ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
