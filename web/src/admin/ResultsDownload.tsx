import { EXPORT_FORMATS, type ExportFormat } from '../../../contract/export.ts';
import type { AdminApi } from '../api/client.ts';
import { useAction } from '../ui/useAction.ts';
import { saveFile } from './saveFile.ts';

interface ResultsDownloadProps {
  boardId: string;
  admin: AdminApi;
  /** Says which file is on its way (the page's notice). */
  onDone: (text: string) => void;
}

const ERROR_ID = 'results-download-error';

/** Buttons that download the board's results, CSV or JSON; why a download failed shows under them. */
export function ResultsDownload({ boardId, admin, onDone }: ResultsDownloadProps) {
  const download = useAction();

  const save = (format: ExportFormat) =>
    download.run(async () => {
      const file = await admin.exportBoard(boardId, format);
      saveFile(file);
      onDone(`Downloading ${file.fileName}.`);
    });

  return (
    <div className="admin-results">
      <div className="admin-actions">
        {EXPORT_FORMATS.map((format) => (
          <button
            key={format}
            type="button"
            className="button quiet"
            disabled={download.pending}
            aria-describedby={download.error === undefined ? undefined : ERROR_ID}
            onClick={() => void save(format)}
          >
            Download results ({format.toUpperCase()})
          </button>
        ))}
      </div>
      {download.error !== undefined && (
        <p className="field-error" id={ERROR_ID} role="alert">
          {download.error}
        </p>
      )}
    </div>
  );
}
