/** Where archived artifacts go. Adapters: none (database record only), file, s3. */
import { parseArtifactUri, type ArtifactRoot, type FileArtifactUri, type S3ArtifactUri } from '../../config/artifact-uri';
import { UnsafePathError } from './safe-fs';

/** What identifies the bytes an artifact had when they were archived (a file's inode; an object's ETag). */
export interface ArtifactIdentity {
  size: number;
  dev?: string;
  ino?: string;
  mtime?: string;
  etag?: string;
}

/** Where an artifact stands for a storage: inside an artifact root (the service may move it), or not. */
export type Placement = { where: 'inside'; key: string } | { where: 'outside' } | { where: 'unsafe'; detail: string };

/** `none`: archiving records where the artifact would go (ARCHIVE_URI_PREFIX); nothing is touched. */
export interface RecordOnlyArchive {
  readonly kind: 'none';
  readonly movesArtifacts: false;
  recordedArchiveUri(artifactUri: string): string;
}

/**
 * `file` and `s3`: archive copies live at locations the service chooses — one per archived version —
 * and every operation re-checks that the artifact it touches is inside an artifact root (or the
 * archive) and safe. Nothing is ever overwritten except the service's own unreferenced archive copy.
 */
export interface MovingArchive {
  readonly kind: 'file' | 's3';
  readonly movesArtifacts: true;
  /** Whether the service may touch this artifact (ARTIFACT_ROOTS), and its normalised key. */
  locate(artifactUri: string): Placement;
  /** The archive location of a version's artifact: unique per version. */
  archiveUriFor(artifactUri: string, versionId: number): string;
  /** The location earlier releases used (the artifact's path mirrored under the archive), still restorable. */
  legacyArchiveUriFor(artifactUri: string): string;
  /** Whether `uri` is a location inside this storage's archive. */
  owns(uri: string): boolean;
  /**
   * Read-only check (dry runs) that each artifact exists and is safe to move: for each URI, undefined,
   * or the error a real run would meet (an UnsafePathError, a missing file or object, …).
   */
  inspect(artifactUris: string[], concurrency: number): Promise<Map<string, unknown>>;
  /** Copies the artifact to `archiveUri` (replacing only an unreferenced copy there); returns the original's identity. */
  copyToArchive(artifactUri: string, archiveUri: string, temp: string): Promise<ArtifactIdentity>;
  /** Deletes the original only if it is still the one archived (`expected`). */
  deleteOriginal(artifactUri: string, expected: ArtifactIdentity): Promise<'deleted' | 'gone' | 'changed'>;
  /** The identity of what is at an artifact or archive location now; undefined when nothing is there. */
  identityAt(uri: string): Promise<ArtifactIdentity | undefined>;
  /** Puts the archived copy back at the artifact's location, only if nothing is there (else ArtifactExistsError). */
  placeFromArchive(archiveUri: string, artifactUri: string, temp: string): Promise<void>;
  /** Deletes an archive copy; one already gone is not an error. */
  deleteArchived(archiveUri: string): Promise<void>;
  /**
   * Makes the links, renames and deletes done at these locations durable (the folders holding them are
   * flushed once each), before the journal records them as done.
   */
  flush(uris: string[]): Promise<void>;
  /** The identity of the temporary file `temp` next to `uri`, if it exists. */
  tempIdentity(uri: string, temp: string): Promise<ArtifactIdentity | undefined>;
  /** Removes the temporary file (or unfinished upload) `temp` next to `uri`, if any. */
  removeTemp(uri: string, temp: string): Promise<void>;
}

export type ArchiveStorage = RecordOnlyArchive | MovingArchive;

export const ARCHIVE_STORAGE = Symbol('ArchiveStorage');

/** The archived copy cannot be read yet (e.g. S3 Glacier): a restore was requested; retry later. */
export class ArchiveRestorePendingError extends Error {
  constructor(readonly archiveUri: string) {
    super(`The archived artifact ${archiveUri} is in cold storage; a restore has been requested.`);
  }
}

/** The archived copy does not exist. */
export class ArchivedArtifactMissingError extends Error {
  constructor(readonly archiveUri: string) {
    super(`The archived artifact ${archiveUri} does not exist.`);
  }
}

/** Restore found something at the artifact's location: it is never overwritten. */
export class ArtifactExistsError extends Error {
  constructor(readonly artifactUri: string) {
    super(`Something already exists at ${artifactUri}.`);
  }
}

/** Maps `scheme://rest` to `prefix + rest`: s3://models/a.bin with prefix archive:// is archive://models/a.bin. */
export function prefixMapping(prefix: string, artifactUri: string): string {
  return prefix + artifactUri.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
}

/** The suffix that makes an archive location unique per version: `<artifact path>@v<id>`. */
export const versionSuffix = (versionId: number) => `@v${versionId}`;

/**
 * Decides whether an artifact is inside an artifact root: its normalised key must start with a root's
 * prefix (a whole folder), and it must not be inside the archive itself. Unsafe URIs are never inside.
 */
export class ArtifactRoots<U extends FileArtifactUri | S3ArtifactUri> {
  constructor(
    private readonly scheme: U['scheme'],
    private readonly roots: ArtifactRoot[],
    private readonly archivePrefix: string,
  ) {}

  locate(artifactUri: string): { where: 'inside'; uri: U; root: ArtifactRoot } | { where: 'outside' } | { where: 'unsafe'; detail: string } {
    const uri = parseArtifactUri(artifactUri);
    if (uri.scheme !== this.scheme) return { where: 'outside' };
    if (uri.unsafe) return { where: 'unsafe', detail: `the URI has ${uri.unsafe}` };
    if (uri.key.startsWith(this.archivePrefix)) return { where: 'outside' };
    let best: ArtifactRoot | undefined;
    for (const root of this.roots) {
      if (root.scheme === this.scheme && uri.key.startsWith(root.prefix) && uri.key.length > root.prefix.length && (!best || root.prefix.length > best.prefix.length)) best = root;
    }
    return best ? { where: 'inside', uri: uri as U, root: best } : { where: 'outside' };
  }

  /** Like locate, for an operation about to touch the artifact: anything not inside is refused. */
  require(artifactUri: string): { uri: U; root: ArtifactRoot } {
    const located = this.locate(artifactUri);
    if (located.where === 'inside') return located;
    throw new UnsafePathError(located.where === 'unsafe' ? located.detail : 'the artifact is outside ARTIFACT_ROOTS');
  }
}

export function placementOf(located: ReturnType<ArtifactRoots<FileArtifactUri | S3ArtifactUri>['locate']>): Placement {
  return located.where === 'inside' ? { where: 'inside', key: located.uri.key } : located;
}

/**
 * Why a storage operation failed, as a fixed category a client may see. Storage errors carry paths,
 * bucket names and endpoints, so their text goes to the service log only.
 */
export function storageFailureReason(error: unknown): string {
  if (error instanceof UnsafePathError) return 'unsafe_path: the path changed or holds a symbolic link; the artifact was left alone';
  const e = (error ?? {}) as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.code === 'ENOENT' || e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) return 'not_found: the artifact does not exist';
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.name === 'AccessDenied' || status === 403) return 'access_denied: the service is not allowed to read or write it';
  if (e.name === 'InvalidObjectState') return 'cold_storage: the object is in an archive storage class and must be restored first';
  return 'storage_error: the storage failed (details in the service log)';
}

/** Whether two identities are the same bytes: the same file (device and inode), or the same object (ETag and size). */
export function sameArtifact(a: ArtifactIdentity | null | undefined, b: ArtifactIdentity | null | undefined): boolean {
  if (!a || !b) return false;
  if (a.ino !== undefined || b.ino !== undefined) return a.dev === b.dev && a.ino === b.ino;
  return a.etag !== undefined && a.etag === b.etag && a.size === b.size;
}
