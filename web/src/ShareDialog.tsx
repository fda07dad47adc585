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
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  const copyLink = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopy('copied');
      window.setTimeout(() => setCopy('idle'), 2000);
    } catch {
      // No clipboard outside secure contexts, or permission refused: the link is there to select.
      setCopy('failed');
    }
  };

  return (
    <dialog ref={dialog} className="share" aria-labelledby="share-title" onClose={onClose}>
      <div className="share-body">
        <h2 id="share-title">Join “{boardName}”</h2>
        <p className="muted">Scan to open this board on a phone.</p>
        {open && <QrCode text={url} label={`QR code for ${url}`} />}
        <p className="share-url">{url}</p>
        {copy === 'failed' && (
          <p className="muted" role="status">
            This browser would not copy the link: select it above and copy it yourself.
          </p>
        )}
        <div className="share-actions">
          <button type="button" className="button quiet" onClick={onClose}>
            Close
          </button>
          {/* biome-ignore lint/a11y/noAutofocus: the dialog's main action takes focus when it opens */}
          <button type="button" className="button" onClick={copyLink} autoFocus>
            {copy === 'copied' ? 'Copied!' : 'Copy link'}
          </button>
        </div>
      </div>
    </dialog>
  );
}
