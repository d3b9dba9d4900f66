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

/**
 * Why a storage operation failed, as a fixed category a client may see. Storage errors carry paths,
 * bucket names and endpoints, so their text goes to the service log only.
 */
export function storageFailureReason(error: unknown): string {
  const e = (error ?? {}) as { code?: string; name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.code === 'ENOENT' || e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) return 'not_found: the artifact does not exist';
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.name === 'AccessDenied' || status === 403) return 'access_denied: the service is not allowed to read or write it';
  if (e.name === 'InvalidObjectState') return 'cold_storage: the object is in an archive storage class and must be restored first';
  return 'storage_error: the storage failed (details in the service log)';
}
