/** Where archived artifacts go. Adapters: none (database record only), file, s3. */
export interface ArchiveStorage {
  readonly kind: 'none' | 'file' | 's3';
  /** False for `none`: archiving only records where the artifact would go; nothing is moved. */
  readonly movesArtifacts: boolean;
  /** The archive location for an artifact (deterministic), or why this storage cannot archive it. */
  archiveUriFor(artifactUri: string): { uri: string } | { unsupported: string };
  /** Copies the artifact into the archive. Idempotent: an existing copy is overwritten. */
  copyToArchive(artifactUri: string, archiveUri: string): Promise<void>;
  /** Copies an archived artifact back to its original location. */
  restoreFromArchive(archiveUri: string, artifactUri: string): Promise<void>;
  /** Deletes an object; one that is already gone is not an error. */
  delete(uri: string): Promise<void>;
  /** Whether `uri` is an archive location of this storage (only those are deleted on purge). */
  owns(uri: string): boolean;
}

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

/** Maps `scheme://rest` to `prefix + rest`: s3://models/a.bin with prefix archive:// is archive://models/a.bin. */
export function prefixMapping(prefix: string, artifactUri: string): string {
  return prefix + artifactUri.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, '');
}

/** Errors from storage, shortened for run reports (no stack traces, no credentials). */
export function describeStorageError(error: unknown): string {
  if (error instanceof Error) {
    const name = (error as { name?: string; Code?: string }).Code ?? error.name;
    return `${name && name !== 'Error' ? `${name}: ` : ''}${error.message}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
