import { useState } from 'react';
import { Modal } from '../ui/Modal.tsx';
import { QrCode } from '../ui/QrCode.tsx';
import './ShareDialog.css';

interface ShareDialogProps {
  url: string;
  /** The address of the board's embed mode, for an `<iframe>`. */
  embedUrl: string;
  boardName: string;
  open: boolean;
  onClose: () => void;
}

type Copied = 'idle' | 'link' | 'embed' | 'failed';

/**
 * A modal with the board's link and a QR code, so people in the room can join from a phone, and
 * the `<iframe>` that puts the board on a stream or another page.
 */
export function ShareDialog({ url, embedUrl, boardName, open, onClose }: ShareDialogProps) {
  const [copied, setCopied] = useState<Copied>('idle');
  const iframe = `<iframe src="${embedUrl}" title="${boardName.replaceAll('&', '&amp;').replaceAll('"', '&quot;')}" width="420" height="560" style="border:0"></iframe>`;

  const copy = async (text: string, what: 'link' | 'embed') => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
      window.setTimeout(() => setCopied('idle'), 2000);
    } catch {
      // No clipboard outside secure contexts, or permission refused: the text is there to select.
      setCopied('failed');
    }
  };

  return (
    <Modal open={open} onClose={onClose} labelledBy="share-title" className="share">
      <h2 id="share-title">Join “{boardName}”</h2>
      <p className="muted">Scan to open this board on a phone.</p>
      <QrCode text={url} label={`QR code for ${url}`} />
      <p className="share-url">{url}</p>
      <details className="share-embed">
        <summary>Embed on a stream or a page</summary>
        <p className="muted">
          A compact board with a transparent background. Another site may frame it only when the
          server allows that site (<code>FRAME_ANCESTORS</code>).
        </p>
        <p className="share-url">{iframe}</p>
        <button type="button" className="button quiet" onClick={() => void copy(iframe, 'embed')}>
          {copied === 'embed' ? 'Copied!' : 'Copy embed code'}
        </button>
      </details>
      {copied === 'failed' && (
        <p className="muted" role="status">
          This browser would not copy: select the text above and copy it yourself.
        </p>
      )}
      <div className="modal-actions">
        <button type="button" className="button quiet" onClick={onClose}>
          Close
        </button>
        {/* biome-ignore lint/a11y/noAutofocus: the dialog's main action takes focus when it opens */}
        <button type="button" className="button" onClick={() => void copy(url, 'link')} autoFocus>
          {copied === 'link' ? 'Copied!' : 'Copy link'}
        </button>
      </div>
    </Modal>
  );
}
