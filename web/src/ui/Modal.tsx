import { type ReactNode, useEffect, useRef } from 'react';
import './Modal.css';

interface ModalProps {
  open: boolean;
  /** Called when the dialog closes by itself: Escape, a click on the backdrop, a form's submit. */
  onClose: () => void;
  /** The id of the dialog's heading. */
  labelledBy: string;
  className?: string;
  children: ReactNode;
}

/**
 * A modal `<dialog>`: the browser traps focus in it, closes it on Escape and gives focus back
 * when it closes. Its content exists only while it is open, so `autoFocus` inside takes effect.
 */
export function Modal({ open, onClose, labelledBy, className, children }: ModalProps) {
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: the keyboard's way out is Escape, built in
    <dialog
      ref={dialog}
      className={className === undefined ? 'modal' : `modal ${className}`}
      aria-labelledby={labelledBy}
      onClose={onClose}
      // The dialog box fills its element: a click on the element itself is on the backdrop.
      onClick={(event) => {
        if (event.target === event.currentTarget) event.currentTarget.close();
      }}
    >
      {open && <div className="modal-body">{children}</div>}
    </dialog>
  );
}
