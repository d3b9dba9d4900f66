import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { fileUri, parseArtifactUri, type ArtifactRoot, type FileArtifactUri } from '../../config/artifact-uri';
import { forEachLimited } from '../../common/concurrency';
import { ArchivedArtifactMissingError, ArtifactExistsError, ArtifactRoots, placementOf, versionSuffix, type ArtifactIdentity, type MovingArchive } from './archive-storage';
import { Directory, UnsafePathError, type FileIdentity } from './safe-fs';

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code;
const LINK_UNSUPPORTED = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/** A file location as a trusted base folder and the names below it. */
interface FileLocation {
  base: string;
  dirs: string[];
  name: string;
}

const folderKey = (location: FileLocation) => [location.base, ...location.dirs].join('\u0000');

/**
 * Archives `file://` artifacts that are inside ARTIFACT_ROOTS into a folder (ARCHIVE_DIR), each
 * archived version at its own location: file:///srv/models/a/v1.bin archived as version 7 is
 * <ARCHIVE_DIR>/srv/models/a/v1.bin@v7. On one filesystem the copy is a hard link (no bytes move);
 * across filesystems the bytes are copied to a temporary file, flushed, then renamed into place.
 * No operation follows a symlink below a root or the archive folder (see safe-fs.ts).
 */
export class FileArchiveStorage implements MovingArchive {
  readonly kind = 'file' as const;
  readonly movesArtifacts = true as const;
  private readonly roots: ArtifactRoots<FileArtifactUri>;
  private readonly archiveSegments: string[];
  private readonly archivePrefix: string;
  /**
   * Archive folders opened by copies since the last flush (which syncs and closes them): a batch copies
   * many artifacts into the same few folders of the archive, which only the service writes to.
   */
  private readonly openArchiveFolders = new Map<string, Promise<Directory>>();

  constructor(
    private readonly archiveDir: string,
    artifactRoots: ArtifactRoot[],
  ) {
    this.archiveSegments = path.resolve(archiveDir).split('/').filter((segment) => segment !== '');
    this.archivePrefix = this.archiveSegments.length > 0 ? `${fileUri(this.archiveSegments)}/` : 'file:///';
    this.roots = new ArtifactRoots('file', artifactRoots, this.archivePrefix);
  }

  locate(artifactUri: string) {
    return placementOf(this.roots.locate(artifactUri));
  }

  archiveUriFor(artifactUri: string, versionId: number): string {
    const { uri } = this.roots.require(artifactUri);
    const segments = [...uri.segments];
    segments[segments.length - 1] += versionSuffix(versionId);
    return fileUri([...this.archiveSegments, ...segments]);
  }

  legacyArchiveUriFor(artifactUri: string): string {
    return fileUri([...this.archiveSegments, ...this.roots.require(artifactUri).uri.segments]);
  }

  owns(uri: string): boolean {
    return this.archiveLocation(uri) !== undefined;
  }

  /** Walks each folder once (no symlink followed), then looks at each file in it without following it. */
  async inspect(artifactUris: string[], concurrency: number): Promise<Map<string, unknown>> {
    const problems = new Map<string, unknown>();
    const byFolder = new Map<string, { location: FileLocation; uris: string[] }>();
    for (const uri of artifactUris) {
      let location: FileLocation;
      try {
        location = this.artifactLocation(uri);
      } catch (error) {
        problems.set(uri, error);
        continue;
      }
      const folder = byFolder.get(folderKey(location)) ?? { location, uris: [] };
      folder.uris.push(uri);
      byFolder.set(folderKey(location), folder);
    }
    await forEachLimited([...byFolder.values()], concurrency, async ({ location, uris }) => {
      let dir: Directory;
      try {
        dir = await Directory.walk(location.base, location.dirs);
      } catch (error) {
        for (const uri of uris) problems.set(uri, error);
        return;
      }
      try {
        for (const uri of uris) {
          const name = this.artifactLocation(uri).name;
          const entry = await dir.lstatEntry(name);
          if (!entry) problems.set(uri, Object.assign(new Error('no such file'), { code: 'ENOENT' }));
          else if (entry.kind === 'symlink') problems.set(uri, new UnsafePathError(`"${name}" is a symbolic link`));
          else if (entry.kind !== 'file') problems.set(uri, new UnsafePathError(`"${name}" is not a regular file`));
        }
      } finally {
        await dir.close();
      }
    });
    return problems;
  }

  async copyToArchive(artifactUri: string, archiveUri: string, temp: string): Promise<ArtifactIdentity> {
    const source = this.artifactLocation(artifactUri);
    const target = this.requireArchiveLocation(archiveUri);
    const sourceDir = await Directory.walk(source.base, source.dirs);
    try {
      const { handle, identity } = await sourceDir.openFile(source.name);
      try {
        await this.linkOrCopy(sourceDir, source.name, handle, identity, await this.archiveFolder(target), target.name, temp);
      } finally {
        await handle.close();
      }
      return identity;
    } finally {
      await sourceDir.close();
    }
  }

  /**
   * Links (or copies) the open source as `name`. An existing entry that is already this very file is
   * kept (a repeated attempt); any other is a stale copy of this version's own archive location, which
   * the caller has checked no version references, and is replaced.
   */
  private async linkOrCopy(sourceDir: Directory, sourceName: string, handle: FileHandle, identity: FileIdentity, targetDir: Directory, name: string, temp: string): Promise<void> {
    const existing = await targetDir.lstatEntry(name);
    if (existing && existing.dev === identity.dev && existing.ino === identity.ino) return;
    if (existing) await targetDir.remove(name);
    try {
      await targetDir.linkFrom(sourceDir, sourceName, identity, name);
    } catch (error) {
      if (!LINK_UNSUPPORTED.has(errorCode(error) ?? '')) throw error;
      await targetDir.remove(temp);
      await targetDir.copyInto(handle, temp);
      await targetDir.rename(temp, name);
    }
  }

  async deleteOriginal(artifactUri: string, expected: ArtifactIdentity): Promise<'deleted' | 'gone' | 'changed'> {
    const source = this.artifactLocation(artifactUri);
    let dir: Directory;
    try {
      dir = await Directory.walk(source.base, source.dirs);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 'gone';
      if (error instanceof UnsafePathError) return 'changed';
      throw error;
    }
    try {
      const current = await dir.lstatEntry(source.name);
      if (!current) return 'gone';
      // Only the file that was archived, unchanged: not one put in its place, nor the same one rewritten since.
      const unchanged = current.dev === expected.dev && current.ino === expected.ino && current.size === expected.size && (expected.mtime === undefined || current.mtime === expected.mtime);
      if (current.kind !== 'file' || !unchanged) return 'changed';
      await dir.remove(source.name);
      return 'deleted';
    } finally {
      await dir.close();
    }
  }

  async identityAt(uri: string): Promise<ArtifactIdentity | undefined> {
    const location = this.archiveLocation(uri) ?? this.artifactLocation(uri);
    return this.entryIdentity(location, location.name);
  }

  async placeFromArchive(archiveUri: string, artifactUri: string, temp: string): Promise<void> {
    const archived = this.requireArchiveLocation(archiveUri);
    const target = this.artifactLocation(artifactUri);
    let archiveDir: Directory;
    try {
      archiveDir = await Directory.walk(archived.base, archived.dirs);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw new ArchivedArtifactMissingError(archiveUri);
      throw error;
    }
    try {
      let opened: Awaited<ReturnType<Directory['openFile']>>;
      try {
        opened = await archiveDir.openFile(archived.name);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') throw new ArchivedArtifactMissingError(archiveUri);
        throw error;
      }
      try {
        // Missing folders are re-created inside the root; a symlink on the way stops the restore.
        const targetDir = await Directory.walk(target.base, target.dirs, { create: true });
        try {
          try {
            await targetDir.linkFrom(archiveDir, archived.name, opened.identity, target.name);
          } catch (error) {
            if (errorCode(error) === 'EEXIST') throw new ArtifactExistsError(artifactUri);
            if (!LINK_UNSUPPORTED.has(errorCode(error) ?? '')) throw error;
            await targetDir.remove(temp);
            await targetDir.copyInto(opened.handle, temp);
            try {
              // link(2) fails on an existing name, where rename(2) would replace it.
              await targetDir.link(temp, target.name);
            } catch (linkError) {
              if (errorCode(linkError) === 'EEXIST') {
                await targetDir.remove(temp);
                throw new ArtifactExistsError(artifactUri);
              }
              throw linkError;
            }
          }
          await targetDir.sync();
        } finally {
          await targetDir.close();
        }
      } finally {
        await opened.handle.close();
      }
    } finally {
      await archiveDir.close();
    }
  }

  async deleteArchived(archiveUri: string): Promise<void> {
    const archived = this.requireArchiveLocation(archiveUri);
    let dir: Directory;
    try {
      dir = await Directory.walk(archived.base, archived.dirs);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      await dir.remove(archived.name);
    } finally {
      await dir.close();
    }
  }

  /** The archive folder for a location (made if missing), kept open until the next flush. */
  private archiveFolder(location: FileLocation): Promise<Directory> {
    const key = folderKey(location);
    let folder = this.openArchiveFolders.get(key);
    if (!folder) {
      folder = Directory.walk(location.base, location.dirs, { create: true, createBase: true });
      this.openArchiveFolders.set(key, folder);
      folder.catch(() => this.openArchiveFolders.delete(key));
    }
    return folder;
  }

  async flush(uris: string[]): Promise<void> {
    const open = new Map(this.openArchiveFolders);
    this.openArchiveFolders.clear();
    for (const pending of open.values()) {
      const folder = await pending.catch(() => undefined);
      if (!folder) continue;
      await folder.sync();
      await folder.close();
    }
    const folders = new Map<string, FileLocation>();
    for (const uri of uris) {
      let location: FileLocation;
      try {
        location = this.archiveLocation(uri) ?? this.artifactLocation(uri);
      } catch {
        continue;
      }
      if (!open.has(folderKey(location))) folders.set(folderKey(location), location);
    }
    for (const location of folders.values()) {
      let dir: Directory;
      try {
        dir = await Directory.walk(location.base, location.dirs);
      } catch (error) {
        if (errorCode(error) === 'ENOENT' || error instanceof UnsafePathError) continue;
        throw error;
      }
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  }

  async tempIdentity(uri: string, temp: string): Promise<ArtifactIdentity | undefined> {
    return this.entryIdentity(this.archiveLocation(uri) ?? this.artifactLocation(uri), temp);
  }

  async removeTemp(uri: string, temp: string): Promise<void> {
    const location = this.archiveLocation(uri) ?? this.artifactLocation(uri);
    let dir: Directory;
    try {
      dir = await Directory.walk(location.base, location.dirs);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || error instanceof UnsafePathError) return;
      throw error;
    }
    try {
      await dir.remove(temp);
    } finally {
      await dir.close();
    }
  }

  private async entryIdentity(location: FileLocation, name: string): Promise<ArtifactIdentity | undefined> {
    let dir: Directory;
    try {
      dir = await Directory.walk(location.base, location.dirs);
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || error instanceof UnsafePathError) return undefined;
      throw error;
    }
    try {
      const entry = await dir.lstatEntry(name);
      return entry?.kind === 'file' ? { size: entry.size, dev: entry.dev, ino: entry.ino, mtime: entry.mtime } : undefined;
    } finally {
      await dir.close();
    }
  }

  /** An artifact inside a root, as its root folder and the names below it (UnsafePathError otherwise). */
  private artifactLocation(artifactUri: string): FileLocation {
    const { uri, root } = this.roots.require(artifactUri);
    const below = uri.segments.slice(root.segments.length);
    return { base: `/${root.segments.join('/')}`, dirs: below.slice(0, -1), name: below[below.length - 1] };
  }

  private archiveLocation(uri: string): FileLocation | undefined {
    const parsed = parseArtifactUri(uri);
    if (parsed.scheme !== 'file' || parsed.unsafe || !parsed.key.startsWith(this.archivePrefix)) return undefined;
    const below = parsed.segments.slice(this.archiveSegments.length);
    if (below.length === 0) return undefined;
    return { base: `/${this.archiveSegments.join('/')}`, dirs: below.slice(0, -1), name: below[below.length - 1] };
  }

  private requireArchiveLocation(uri: string): FileLocation {
    const location = this.archiveLocation(uri);
    if (!location) throw new UnsafePathError('the location is not inside ARCHIVE_DIR');
    return location;
  }
}
