import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

/** Thrown at start-up when the data file exists but cannot be used. */
export class DataFileError extends Error {
  override name = 'DataFileError';
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

  constructor(
    readonly path: string,
    private readonly validate: (value: unknown) => T,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async read(): Promise<T | null> {
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

  async write(data: T): Promise<void> {
    const text = JSON.stringify(data);
    this.lastBytes = Buffer.byteLength(text);
    const dir = dirname(this.path);
    if (!this.dirReady) {
      await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      this.dirReady = true;
    }
    await replaceDurably(this.path, text);
  }
}

/**
 * Replaces `path` with `text` so that a crash leaves the old file or the new one, never a mix:
 * write a temporary file beside it, fsync it, rename it over `path`, fsync the directory.
 */
export async function replaceDurably(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const file = await open(temp, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  await syncDirectory(dir);
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
