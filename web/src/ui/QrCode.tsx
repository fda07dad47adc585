import { create } from 'qrcode';
import { useMemo } from 'react';
import './QrCode.css';

// The quiet zone the QR standard asks for around the symbol, in modules.
const margin = 4;

/** A QR code for `text`, drawn as one SVG path so it stays sharp at any size. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => {
    const { modules } = create(text, { errorCorrectionLevel: 'M' });
    const commands: string[] = [];
    for (let row = 0; row < modules.size; row++) {
      for (let col = 0; col < modules.size; col++) {
        if (modules.get(row, col)) commands.push(`M${col + margin} ${row + margin}h1v1h-1z`);
      }
    }
    return { size: modules.size + 2 * margin, path: commands.join('') };
  }, [text]);

  return (
    <svg
      className="qr"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}
