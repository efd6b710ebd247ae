/** File-system errors as one-line user messages (the CLI maps them to exit code 2). */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const FS_REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'it already exists',
  ENOENT: 'no such file or folder',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  EBUSY: 'busy',
};

const FS_VERBS: Record<string, string> = {
  mkdir: 'cannot create the folder',
  mkdtemp: 'cannot create a folder',
  open: 'cannot open',
  write: 'cannot write',
  rename: 'cannot move into place',
  copyfile: 'cannot copy',
  unlink: 'cannot remove',
  rmdir: 'cannot remove',
  rm: 'cannot remove',
  scandir: 'cannot list',
  stat: 'cannot read',
  lstat: 'cannot read',
  read: 'cannot read',
};

/** The file a temporary sibling (`.NAME.tmp-...`, common/atomic.ts) stands for. */
function targetOf(path: string): string {
  const m = /^\.(.+)\.tmp-[^/\\]*$/.exec(basename(path));
  return m ? join(dirname(path), m[1]!) : path;
}

/**
 * The one-line message of a file-system error (Node's errno errors carry the path and the
 * system call), naming the path and the reason; null for other errors. A missing parent is
 * reported as the nearest existing folder that cannot be written, when that is the cause.
 */
export function fsErrorMessage(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err !== 'object' || typeof err.code !== 'string' || typeof err.syscall !== 'string' || typeof err.path !== 'string') return null;
  const path = targetOf(err.path);
  if (err.code === 'ENOTDIR' || (err.code === 'EEXIST' && err.syscall === 'mkdir')) {
    // A file where a folder of the path should be.
    let up = path;
    while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
    if (existsSync(up) && !statSync(up).isDirectory()) return up === path ? `${path}: exists and is not a folder` : `${up}: exists and is not a folder (needed for ${path})`;
  }
  const reason = FS_REASONS[err.code] ?? err.code;
  const verb = FS_VERBS[err.syscall] ?? `cannot ${err.syscall}`;
  if (err.code === 'ENOENT' && (err.syscall === 'mkdir' || err.syscall === 'mkdtemp' || err.syscall === 'open')) {
    let up = dirname(path);
    while (!existsSync(up) && dirname(up) !== up) up = dirname(up);
    try {
      accessSync(up, constants.W_OK);
    } catch {
      return `${path}: ${verb} (${up} is not writable)`;
    }
  }
  return `${path}: ${verb} (${reason}${reason === err.code ? '' : `, ${err.code}`})`;
}
