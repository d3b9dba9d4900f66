/**
 * File operations that never follow a symbolic link below a trusted base folder (an artifact root or
 * ARCHIVE_DIR), with no window between checking a path and using it.
 *
 * Node has no openat(2). On Linux, /proc/self/fd/<fd>/<name> resolves <name> inside the directory the
 * descriptor was opened on — not by re-reading a path — so opening each component relative to its
 * parent's descriptor with O_NOFOLLOW walks exactly the directories that were checked, even if someone
 * swaps a component for a symlink meanwhile. Every mutation (link, unlink, rename, mkdir, create) names
 * its target through such a parent descriptor, so it lands inside the base folder or fails.
 */
import { constants, type BigIntStats } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';

// Node (libuv) opens every descriptor close-on-exec already.
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_RDWR } = constants;

/** A symlink (or something that is not a regular file or folder) on the path: the service leaves it alone. */
export class UnsafePathError extends Error {
  constructor(readonly detail: string) {
    super(`unsafe path: ${detail}`);
    this.name = 'UnsafePathError';
  }
}

/** Identity of a file: the same (device, inode) is the same file, whatever its name; size and mtime say whether it was rewritten. */
export interface FileIdentity {
  dev: string;
  ino: string;
  size: number;
  /** Modification time in nanoseconds. */
  mtime: string;
}

export const identityOf = (stats: BigIntStats): FileIdentity => ({
  dev: stats.dev.toString(),
  ino: stats.ino.toString(),
  size: Number(stats.size),
  mtime: stats.mtimeNs.toString(),
});
export const sameFile = (a: Pick<FileIdentity, 'dev' | 'ino'> | undefined, b: Pick<FileIdentity, 'dev' | 'ino'> | undefined) =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** Whether this platform offers /proc/self/fd (Linux): without it the file archive refuses to start. */
export async function supportsDescriptorPaths(): Promise<boolean> {
  try {
    const handle = await open('/', O_RDONLY | O_DIRECTORY);
    try {
      await lstat(`/proc/self/fd/${handle.fd}/.`);
      return true;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** An open directory; names inside it are reached through its descriptor. */
export class Directory {
  private constructor(private readonly handle: FileHandle) {}

  /** Opens a trusted base folder (its own path may contain symlinks: an operator configured it). */
  static async openBase(path: string, options: { create?: boolean } = {}): Promise<Directory> {
    if (options.create) await mkdir(path, { recursive: true });
    return new Directory(await open(path, O_RDONLY | O_DIRECTORY));
  }

  /**
   * Opens `base` and walks `names` below it without following symlinks; with `create`, missing folders
   * are made (inside the previous one). A symlink on the way is an UnsafePathError; a missing folder
   * is ENOENT.
   */
  static async walk(base: string, names: string[], options: { create?: boolean; createBase?: boolean } = {}): Promise<Directory> {
    let current = await Directory.openBase(base, { create: options.createBase });
    try {
      for (const name of names) {
        const next = await current.child(name, options.create ?? false);
        await current.close();
        current = next;
      }
      return current;
    } catch (error) {
      await current.close();
      throw error;
    }
  }

  /** `/proc/self/fd/<fd>/<name>`: the entry `name` of this very directory. */
  entry(name: string): string {
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async child(name: string, create: boolean): Promise<Directory> {
    for (let attempt = 0; ; attempt++) {
      try {
        return new Directory(await open(this.entry(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && create && attempt === 0) {
          await mkdir(this.entry(name), 0o755).catch((mkdirError: unknown) => {
            if (errorCode(mkdirError) !== 'EEXIST') throw mkdirError;
          });
          continue;
        }
        if (code === 'ELOOP' || code === 'ENOTDIR') {
          const stats = await lstat(this.entry(name)).catch(() => undefined);
          if (stats?.isSymbolicLink()) throw new UnsafePathError(`"${name}" on the path is a symbolic link`);
          if (stats && !stats.isDirectory()) throw new UnsafePathError(`"${name}" on the path is not a folder`);
        }
        throw error;
      }
    }
  }

  /** The identity of entry `name` without following it; undefined when absent. */
  async lstatEntry(name: string): Promise<(FileIdentity & { kind: 'file' | 'symlink' | 'other' }) | undefined> {
    try {
      const stats = await lstat(this.entry(name), { bigint: true });
      return { ...identityOf(stats), kind: stats.isFile() ? 'file' : stats.isSymbolicLink() ? 'symlink' : 'other' };
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  /**
   * Opens regular file `name` for reading without following a symlink, and without blocking on a FIFO
   * or touching a device: anything but a regular file is an UnsafePathError.
   */
  async openFile(name: string): Promise<{ handle: FileHandle; identity: FileIdentity }> {
    let handle: FileHandle;
    try {
      handle = await open(this.entry(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if (errorCode(error) === 'ELOOP') throw new UnsafePathError(`"${name}" is a symbolic link`);
      throw error;
    }
    const stats = await handle.stat({ bigint: true });
    if (!stats.isFile()) {
      await handle.close();
      throw new UnsafePathError(`"${name}" is not a regular file`);
    }
    return { handle, identity: identityOf(stats) };
  }

  /** Hard-links `file` (an open handle) as `name` here; EEXIST if the name is taken, EXDEV across filesystems. */
  async linkFrom(source: Directory, sourceName: string, file: FileIdentity, name: string): Promise<void> {
    await link(source.entry(sourceName), this.entry(name));
    // The source name could have been swapped between opening and linking: link only what was checked.
    const linked = await this.lstatEntry(name);
    if (!sameFile(linked, file)) {
      await unlink(this.entry(name)).catch(() => undefined);
      throw new UnsafePathError(`"${sourceName}" changed while it was being linked`);
    }
  }

  /**
   * Writes a copy of an open file as `temp` (a new file: O_EXCL, which never follows a symlink),
   * flushed to disk. The source is read through its descriptor, so it is exactly the file checked.
   */
  async copyInto(file: FileHandle, temp: string): Promise<void> {
    await copyFile(`/proc/self/fd/${file.fd}`, this.entry(temp), constants.COPYFILE_EXCL);
    const written = await open(this.entry(temp), O_RDWR | O_NOFOLLOW);
    try {
      await written.sync();
    } finally {
      await written.close();
    }
  }

  /** Creates `name` as a hard link of this directory's entry `from`; EEXIST when `name` exists. */
  async link(from: string, name: string): Promise<void> {
    await link(this.entry(from), this.entry(name));
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.entry(from), this.entry(to));
  }

  /** Removes entry `name` (a symlink itself, never its target); absent is fine. */
  async remove(name: string): Promise<boolean> {
    try {
      await unlink(this.entry(name));
      return true;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  /** Flushes the directory itself, so a link or rename in it survives a power cut. */
  async sync(): Promise<void> {
    await this.handle.sync().catch(() => undefined);
  }
}
