import { useEffect, useRef, useState } from 'react';
import { QrCode } from './QrCode.tsx';

interface ShareDialogProps {
  url: string;
  boardName: string;
  open: boolean;
  onClose: () => void;
}

/** A modal with the board's link and a QR code, so people in the room can join from a phone. */
export function ShareDialog({ url, boardName, open, onClose }: ShareDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };

  return (
    <dialog ref={dialog} className="share" aria-labelledby="share-title" onClose={onClose}>
      <div className="share-body">
        <h2 id="share-title">Join “{boardName}”</h2>
        <p className="muted">Scan to open this board on a phone.</p>
        {open && <QrCode text={url} label={`QR code for ${url}`} />}
        <p className="share-link">
          <input aria-label="Board link" value={url} readOnly onFocus={(e) => e.target.select()} />
          <button type="button" className="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy link'}
          </button>
        </p>
        <button type="button" className="button quiet close" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
