import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

/** Thrown at start-up when the data file exists but cannot be used. */
export class DataFileError extends Error {
  override name = 'DataFileError';
}

export interface JsonFileOptions<T> {
  /** Checks a parsed file, throwing with what is wrong. */
  validate: (value: unknown) => T;
  /**
   * The JSON text of `data` in pieces, captured at the call and made as they are taken: a large
   * file is then written without stopping the event loop for its whole serialisation.
   */
  pieces?: (data: T) => Iterable<string>;
  clock?: () => Date;
}

/**
 * A lowdb adapter for a JSON file that an acknowledged write survives: each write goes to a
 * temporary file that is fsynced, renamed over the data file, and then the directory is fsynced so
 * the rename itself is on disk. The data file is therefore always either the old or the new
 * version, never a torn mix. lowdb's own adapter renames without fsync, which a crash can undo.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private dirReady = false;
  /** Size of the last data file written or read. */
  lastBytes = 0;
  readonly pieces: (data: T) => Iterable<string>;
  private readonly validate: (value: unknown) => T;
  private readonly clock: () => Date;

  constructor(
    readonly path: string,
    options: JsonFileOptions<T>,
  ) {
    this.validate = options.validate;
    this.pieces = options.pieces ?? ((data) => [JSON.stringify(data)]);
    this.clock = options.clock ?? (() => new Date());
  }

  /** The file, checked; null when there is none yet. Temporary files a crash left are removed. */
  async read(): Promise<T | null> {
    await removeTemporaryFiles(this.path);
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    this.lastBytes = Buffer.byteLength(text);
    try {
      return this.validate(JSON.parse(text));
    } catch (error) {
      const aside = `${this.path}.corrupt-${this.clock().toISOString().replaceAll(':', '-')}`;
      await rename(this.path, aside);
      throw new DataFileError(
        `data file ${this.path} is not a valid leaderboard database (${(error as Error).message}). ` +
          `It was kept aside as ${aside} and nothing was overwritten. Start again to begin with a ` +
          'fresh seeded database, or repair that file and move it back.',
      );
    }
  }

  write(data: T): Promise<void> {
    return this.writePieces(this.pieces(data));
  }

  /** Replaces the file with these pieces of JSON text (from `pieces`), durably. */
  async writePieces(pieces: Iterable<string>): Promise<void> {
    if (!this.dirReady) {
      await mkdir(dirname(this.path), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      this.dirReady = true;
    }
    this.lastBytes = await replaceDurably(this.path, pieces);
  }
}

/**
 * Replaces `path` with `text` so that a crash leaves the old file or the new one, never a mix:
 * write a temporary file beside it, fsync it, rename it over `path`, fsync the directory. Given
 * pieces, each is made and written in turn, the event loop running between them. Returns the
 * number of bytes written.
 */
export async function replaceDurably(
  path: string,
  text: string | Iterable<string>,
): Promise<number> {
  const dir = dirname(path);
  const temp = join(dir, `${temporaryPrefix(path)}${process.pid}.tmp`);
  const file = await open(temp, 'w', 0o600);
  let bytes = 0;
  try {
    for (const piece of typeof text === 'string' ? [text] : text) {
      const buffer = Buffer.from(piece);
      await file.writeFile(buffer);
      bytes += buffer.length;
    }
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDirectory(dir);
  return bytes;
}

const temporaryPrefix = (path: string) => `.${basename(path)}.`;

/**
 * Removes the temporary files of `path` that a crash left half-written (a data file is as large
 * as the database; every crash during a write would leave one more). Call before writing.
 */
async function removeTemporaryFiles(path: string): Promise<void> {
  const prefix = temporaryPrefix(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) {
      await rm(join(dirname(path), name), { force: true });
    }
  }
}

/** Makes a directory's entries (a new or renamed file) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
