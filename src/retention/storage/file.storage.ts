import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArchivedArtifactMissingError, type ArchiveStorage } from './archive-storage';

function filePath(uri: string): string | undefined {
  try {
    return uri.startsWith('file://') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Archives `file://` artifacts into a folder (ARCHIVE_DIR), mirroring their absolute path, e.g.
 * file:///models/a/v1.bin → file://<ARCHIVE_DIR>/models/a/v1.bin. Copies go through a temporary file
 * and a rename, so an archive file is either complete or absent.
 */
export class FileArchiveStorage implements ArchiveStorage {
  readonly kind = 'file' as const;
  readonly movesArtifacts = true;

  constructor(private readonly archiveDir: string) {}

  archiveUriFor(artifactUri: string) {
    const source = filePath(artifactUri);
    if (!source) return { unsupported: `the file archive only takes file:// artifacts, not ${artifactUri.split(':')[0]}://` };
    if (source === this.archiveDir || source.startsWith(this.archiveDir + path.sep)) {
      return { unsupported: 'the artifact is already inside the archive folder' };
    }
    return { uri: pathToFileURL(path.join(this.archiveDir, source)).href };
  }

  async copyToArchive(artifactUri: string, archiveUri: string): Promise<void> {
    await this.copy(filePath(artifactUri)!, filePath(archiveUri)!);
  }

  async restoreFromArchive(archiveUri: string, artifactUri: string): Promise<void> {
    const archived = filePath(archiveUri)!;
    try {
      await stat(archived);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new ArchivedArtifactMissingError(archiveUri);
      throw error;
    }
    await this.copy(archived, filePath(artifactUri)!);
  }

  async delete(uri: string): Promise<void> {
    const target = filePath(uri);
    if (!target) return;
    try {
      await unlink(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  owns(uri: string): boolean {
    const target = filePath(uri);
    return target !== undefined && target.startsWith(this.archiveDir + path.sep);
  }

  /**
   * Puts a copy of `from` at `to`, atomically (temporary name, then rename). On the same filesystem
   * the copy is a hard link: no bytes move, and the original can still be deleted independently
   * afterwards. Across filesystems the bytes are copied and flushed to disk before the rename.
   */
  private async copy(from: string, to: string): Promise<void> {
    const expected = (await stat(from)).size;
    await mkdir(path.dirname(to), { recursive: true });
    const partial = `${to}.${randomBytes(4).toString('hex')}.partial`;
    try {
      try {
        await link(from, partial);
      } catch (error) {
        if (!['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
        await copyFile(from, partial);
        const handle = await open(partial, 'r+');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      const copied = (await stat(partial)).size;
      if (copied !== expected) throw new Error(`copy of ${from} is ${copied} bytes, expected ${expected}`);
      await rename(partial, to);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }
}
