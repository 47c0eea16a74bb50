import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DataFolderLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Locks still held by this process, released together on exit by one listener however many are taken. */
const held = new Set<() => void>();
let exitListener = false;

/**
 * PGlite does not lock its data folder, and two processes writing one folder corrupt it.
 * Hold `borough.lock` (our pid) for the life of the process; refuse while a live process holds it.
 */
export function lockDataFolder(dataDir: string): { release(): void; file: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'borough.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        held.delete(release);
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
      held.add(release);
      if (!exitListener) {
        exitListener = true;
        process.once('exit', () => {
          for (const heldLock of [...held]) heldLock();
        });
      }
      return { release, file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataFolderLockedError(
          `The data folder ${dataDir} is in use by another Borough process (pid ${pid}). ` +
            'The embedded database allows one process per folder: stop the other process, ' +
            'or set DATABASE_URL to run several processes on PostgreSQL.',
        );
      }
      // The holder has gone without cleaning up: take the lock over.
      unlinkSync(file);
    }
  }
  throw new DataFolderLockedError(`Could not lock the data folder ${dataDir}`);
}
