import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod/mini';
import { type Backup, backupSchema } from '../contract/backup.ts';
import { boardListSchema, errorBodySchema } from '../contract/board.ts';
import { apiPaths } from '../contract/paths.ts';

/** What the backup commands touch, given by their entry point (scripts/backup.ts) or a test. */
export interface BackupIo {
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
  readFile(path: string): Promise<string>;
  /** Creates a file; fails when it exists. */
  createFile(path: string, text: string): Promise<void>;
  /** Where messages for the person at the terminal go (stderr). */
  say(line: string): void;
}

export const USAGE = `usage:
  npm run backup -- [--url <origin>] [--out <file>] [--token-file <file>]
  npm run restore -- <file> [--url <origin>] [--token-file <file>]

  --url          the origin (or the edge) to ask; default ORIGIN_URL, else http://127.0.0.1:3000
  --out          where to write the backup; default leaderboard-backup-<time>.json, never overwritten
  --token-file   a file holding the admin token; default ADMIN_TOKEN, else the admin-token file
                 beside DATA_FILE (data/admin-token)`;

/** A refusal the commands explain in one line (no stack). */
class CommandError extends Error {
  override name = 'CommandError';
}

/**
 * `backup` downloads the whole database (GET /admin/backup/) into a new file; `restore <file>`
 * checks a backup file and sends it (POST /admin/restore/). Resolves with the exit code: 0 done,
 * 1 refused or failed, 2 wrong usage. The admin token is never taken on the command line, where
 * other users of the machine could read it.
 */
export async function runBackupCommand(args: readonly string[], io: BackupIo): Promise<number> {
  try {
    const [command, ...rest] = args;
    const options = parseOptions(rest);
    if (command === 'backup' && options.positionals.length === 0) {
      await backup(options, io);
    } else if (command === 'restore' && options.positionals.length === 1) {
      await restore(String(options.positionals[0]), options, io);
    } else {
      io.say(USAGE);
      return 2;
    }
    return 0;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    io.say(error.message);
    return error.message === USAGE ? 2 : 1;
  }
}

interface Options {
  url: string | undefined;
  out: string | undefined;
  tokenFile: string | undefined;
  positionals: string[];
}

function parseOptions(args: readonly string[]): Options {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: {
        url: { type: 'string' },
        out: { type: 'string' },
        'token-file': { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    return { url: values.url, out: values.out, tokenFile: values['token-file'], positionals };
  } catch {
    throw new CommandError(USAGE);
  }
}

async function backup(options: Options, io: BackupIo): Promise<void> {
  const { url, token } = await target(options, io);
  const reply = await call(io, new URL(apiPaths.backup(), url), token);
  const body = backupSchema.safeParse(reply);
  if (!body.success) throw new CommandError(`${url} answered something that is not a backup`);
  const out = options.out ?? `leaderboard-backup-${body.data.createdAt.replaceAll(':', '-')}.json`;
  try {
    await io.createFile(out, `${JSON.stringify(body.data, null, 2)}\n`);
  } catch (error) {
    throw new CommandError(`cannot write ${out}: ${(error as Error).message}`);
  }
  io.say(`wrote ${out}: ${describe(body.data)}`);
}

async function restore(file: string, options: Options, io: BackupIo): Promise<void> {
  let backup: Backup;
  try {
    const parsed = backupSchema.safeParse(JSON.parse(await io.readFile(file)));
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new CommandError(
        `${file} is not a backup this origin reads (${first?.path.join('.')}: ${first?.message}); nothing was sent`,
      );
    }
    backup = parsed.data;
  } catch (error) {
    if (error instanceof CommandError) throw error;
    throw new CommandError(`cannot read ${file}: ${(error as Error).message}; nothing was sent`);
  }
  const { url, token } = await target(options, io);
  const reply = await call(io, new URL(apiPaths.restore(), url), token, backup);
  const boards = boardListSchema.safeParse(reply);
  const count = boards.success ? boards.data.boards.length : backup.boards.length;
  io.say(`restored ${describe(backup)} to ${url} (${count} boards there now)`);
}

const describe = (backup: Backup) => {
  const players = backup.boards.reduce((n, board) => n + board.players.length, 0);
  return `${backup.boards.length} boards, ${players} players, taken ${backup.createdAt}`;
};

/** The origin to ask and the admin token to ask with. */
async function target(options: Options, io: BackupIo): Promise<{ url: URL; token: string }> {
  const given = options.url ?? io.env.ORIGIN_URL ?? 'http://127.0.0.1:3000';
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new CommandError(`--url ${given} is not a URL (http://host:port)`);
  }
  return { url, token: await tokenOf(options, io) };
}

async function tokenOf(options: Options, io: BackupIo): Promise<string> {
  if (options.tokenFile === undefined && io.env.ADMIN_TOKEN) return io.env.ADMIN_TOKEN;
  const file =
    options.tokenFile ?? join(dirname(io.env.DATA_FILE || 'data/leaderboard.json'), 'admin-token');
  try {
    const token = (await io.readFile(file)).trim();
    if (token !== '') return token;
  } catch {
    // Said below, with what to do.
  }
  throw new CommandError(
    `no admin token: set ADMIN_TOKEN, or give --token-file (${file} could not be read)`,
  );
}

/** One admin request; the answer's JSON, or a CommandError with the API's own words. */
async function call(io: BackupIo, url: URL, token: string, body?: unknown): Promise<unknown> {
  let reply: Response;
  try {
    reply = await io.fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CommandError(`cannot reach ${url.origin}: ${(error as Error).message}`);
  }
  const text = await reply.text();
  const json = parseJson(text);
  if (reply.ok) return json;
  const refusal = errorBodySchema.safeParse(json);
  const why = refusal.success
    ? `${refusal.data.error.code}: ${refusal.data.error.message}`
    : text.slice(0, 200);
  throw new CommandError(`${url.origin} refused (${reply.status} ${why}); nothing was changed`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Keeps zod's messages in English when this runs without the origin's routing module.
z.config(z.locales.en());
