import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataFileError, syncDirectory } from './json-file.ts';

/** How much of a journal file is read at once at start. */
const READ_BYTES = 1 << 20;

/**
 * An append-only log beside the data file: one JSON line per group commit, written and
 * `fdatasync`ed before the commit is acknowledged. Appending a few hundred bytes costs one small
 * write where rewriting the whole data file costs a serialisation of every board.
 *
 * It lives in two files: `path`, where lines are appended, and `<path>.folding`, the lines before
 * those, sealed while a fold writes them into the data file (see store.ts for the whole layout).
 */
export class Journal {
  /** Bytes appended to `path` since it was last sealed or emptied. */
  bytes = 0;
  readonly sealedPath: string;
  private directorySynced = false;

  constructor(readonly path: string) {
    this.sealedPath = `${path}.folding`;
  }

  /**
   * Hands every complete entry to `redo`, oldest first: the sealed file's, then the current one's.
   * A last line without its newline was cut short by a crash before its `fdatasync` returned, so
   * it was never acknowledged: it is left out. Resolves with whether there is anything to fold:
   * a sealed file, or anything at all (even a line cut short) in the current one.
   */
  async read(redo: (entry: unknown, where: string) => void): Promise<boolean> {
    const sealed = await readEntries(this.sealedPath, redo);
    const current = await readEntries(this.path, redo);
    return sealed !== undefined || (current ?? 0) > 0;
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

  /**
   * Seals the lines appended so far as `<path>.folding` and starts `path` afresh, durably. Call
   * between appends, and only once the previous sealed file is gone (`dropSealed`).
   */
  async seal(): Promise<void> {
    try {
      await rename(this.path, this.sealedPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await (await open(this.path, 'w', 0o600)).close();
    // One sync of the directory makes both the rename and the new file durable.
    await syncDirectory(dirname(this.path));
    this.bytes = 0;
  }

  /** Removes the sealed lines: call once a data file that holds all of them is durable. */
  async dropSealed(): Promise<void> {
    await rm(this.sealedPath, { force: true });
    await syncDirectory(dirname(this.path));
  }

  /**
   * Empties the journal: call once a data file that holds every entry is durable. The older
   * (sealed) lines go first, so a crash in between leaves only the newest part of the history,
   * which redoes onto that data file without changing it.
   */
  async clear(): Promise<void> {
    await this.dropSealed();
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

/**
 * Parses the complete lines of a journal file in order, a megabyte read at a time (a journal may
 * be as large as the data file), and hands each to `redo`. Resolves with the file's size, or
 * undefined when there is no such file.
 */
async function readEntries(
  path: string,
  redo: (entry: unknown, where: string) => void,
): Promise<number | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    let line = 0;
    const each = (text: string) => {
      line++;
      redo(parseLine(text, path, line), `${path} line ${line}`);
    };
    return await eachLine(file, each);
  } finally {
    await file.close();
  }
}

/**
 * Hands every line that ends with a newline to `each`; whatever follows the last is dropped.
 * Resolves with the number of bytes read.
 */
async function eachLine(file: FileHandle, each: (text: string) => void): Promise<number> {
  let partial: Buffer[] = [];
  let bytes = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(READ_BYTES);
    const { bytesRead } = await file.read(chunk, 0, READ_BYTES, null);
    if (bytesRead === 0) return bytes;
    bytes += bytesRead;
    const data = chunk.subarray(0, bytesRead);
    let start = 0;
    for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
      if (partial.length === 0) {
        each(data.toString('utf8', start, end));
      } else {
        partial.push(data.subarray(start, end));
        each(Buffer.concat(partial).toString('utf8'));
        partial = [];
      }
      start = end + 1;
    }
    if (start < data.length) partial.push(data.subarray(start));
  }
}

function parseLine(text: string, path: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DataFileError(
      `journal ${path} has an unreadable entry on line ${line}; nothing was changed. ` +
        'Repair or remove that line (entries after it are lost with it) and start again.',
    );
  }
}
