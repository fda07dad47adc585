import { type FileHandle, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataFileError, syncDirectory } from './json-file.ts';

/**
 * An append-only log beside the data file: one JSON line per group commit, written and
 * `fdatasync`ed before the commit is acknowledged. Appending a few hundred bytes costs one small
 * write where rewriting the whole data file costs a serialisation of every board.
 */
export class Journal {
  /** Bytes appended since the journal was last cleared. */
  bytes = 0;
  private directorySynced = false;

  constructor(readonly path: string) {}

  /**
   * Every complete entry, oldest first. A last line without its newline was cut short by a crash
   * before its `fdatasync` returned, so it was never acknowledged: it is left out.
   */
  async read(): Promise<unknown[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const lines = text.split('\n');
    lines.pop();
    return lines.map((line, index) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new DataFileError(
          `journal ${this.path} has an unreadable entry on line ${index + 1}; nothing was changed. ` +
            'Repair or remove that line (entries after it are lost with it) and start again.',
        );
      }
    });
  }

  /**
   * Appends one line and waits for the disk. The file is opened for each append: a journal that
   * was moved or deleted under a running origin fails the write instead of vanishing silently.
   */
  async append(line: string): Promise<void> {
    await this.withFile(async (file) => {
      await file.write(`${line}\n`);
      await file.datasync();
    });
    this.bytes += Buffer.byteLength(line) + 1;
  }

  /** Empties the journal: call once a data file that holds every entry is durable. */
  async clear(): Promise<void> {
    await this.withFile(async (file) => {
      await file.truncate(0);
      await file.sync();
    });
    this.bytes = 0;
  }

  private async withFile(use: (file: FileHandle) => Promise<void>): Promise<void> {
    const file = await open(this.path, 'a', 0o600);
    try {
      await use(file);
    } finally {
      await file.close();
    }
    if (!this.directorySynced) {
      // The file's directory entry must be durable too, or a crash could lose the whole file.
      await syncDirectory(dirname(this.path));
      this.directorySynced = true;
    }
  }
}
