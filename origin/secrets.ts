import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Reads a secret kept in a file, or creates it (32 random bytes, base64url, mode 0600) when the
 * file does not exist yet. Used for the admin token and the local GRIP signing key, so that a fresh
 * install never runs with a guessable default.
 */
export async function ensureSecret(path: string): Promise<{ value: string; created: boolean }> {
  try {
    const value = (await readFile(path, 'utf8')).trim();
    if (value.length >= 16) return { value, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = randomBytes(32).toString('base64url');
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}
