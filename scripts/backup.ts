import { readFile, writeFile } from 'node:fs/promises';
import { runBackupCommand } from '../origin/backup-client.ts';

// `npm run backup` and `npm run restore`: the command is the first argument (see package.json).
process.exitCode = await runBackupCommand(process.argv.slice(2), {
  env: process.env,
  fetch,
  readFile: (path) => readFile(path, 'utf8'),
  createFile: (path, text) => writeFile(path, text, { flag: 'wx' }),
  say: (line) => process.stderr.write(`${line}\n`),
});
