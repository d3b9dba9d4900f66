import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { parseArtifactUri, s3Uri, type ArtifactRoot, type S3ArtifactUri } from '../../config/artifact-uri';
import { forEachLimited } from '../../common/concurrency';
import {
  ArchivedArtifactMissingError,
  ArchiveRestorePendingError,
  ArtifactExistsError,
  ArtifactRoots,
  placementOf,
  versionSuffix,
  type ArtifactIdentity,
  type MovingArchive,
} from './archive-storage';
import { UnsafePathError } from './safe-fs';

interface S3Location {
  bucket: string;
  key: string;
}

const locationOf = (uri: S3ArtifactUri): S3Location => ({ bucket: uri.bucket, key: uri.segments.join('/') });

/** x-amz-copy-source, URL-encoded; "/" and "@" (archive keys end in @v<id>) are valid in a path as they are. */
const copySource = ({ bucket, key }: S3Location) => encodeURIComponent(`${bucket}/${key}`).replace(/%2F/g, '/').replace(/%40/g, '@');

const isNotFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

/** A server that does not implement a conditional header (older S3-compatible servers). */
const isNotImplemented = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotImplemented' || e.$metadata?.httpStatusCode === 501;
};

/** A conditional request the condition refused (the object changed or appeared meanwhile). */
const isPreconditionFailed = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'PreconditionFailed' || e.$metadata?.httpStatusCode === 412;
};

export interface S3ArchiveOptions {
  bucket: string;
  keyPrefix: string;
  storageClass: string;
  client: S3Client;
  /** ARTIFACT_ROOTS: the only places artifacts are moved from (and restored to). */
  roots?: ArtifactRoot[];
  /** Objects larger than this are copied in parts (S3's single CopyObject stops at 5 GiB). */
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
}

/**
 * Archives `s3://` artifacts inside ARTIFACT_ROOTS into ARCHIVE_BUCKET with an archive storage class
 * (GLACIER by default), each archived version at its own key: s3://models/a/v1.bin archived as version
 * 7 is s3://<ARCHIVE_BUCKET>/<ARCHIVE_KEY_PREFIX>models/a/v1.bin@v7. The copy keeps the content type
 * and metadata (REPLACE is needed for the storage class to apply, and clears them). Deleting an
 * original and restoring onto a key are conditional (If-Match / If-None-Match) where S3 supports it,
 * after a HEAD that checks the same.
 */
export class S3ArchiveStorage implements MovingArchive {
  readonly kind = 's3' as const;
  readonly movesArtifacts = true as const;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly roots: ArtifactRoots<S3ArtifactUri>;
  private readonly archivePrefix: string;

  constructor(private readonly options: S3ArchiveOptions) {
    this.multipartThreshold = options.multipartThresholdBytes ?? 5 * 1024 ** 3;
    this.partSize = options.partSizeBytes ?? 512 * 1024 ** 2;
    this.archivePrefix = options.keyPrefix === '' ? `s3://${options.bucket}/` : s3Uri(options.bucket, options.keyPrefix);
    this.roots = new ArtifactRoots('s3', options.roots ?? [], this.archivePrefix);
  }

  locate(artifactUri: string) {
    return placementOf(this.roots.locate(artifactUri));
  }

  archiveUriFor(artifactUri: string, versionId: number): string {
    const source = locationOf(this.roots.require(artifactUri).uri);
    return s3Uri(this.options.bucket, `${this.options.keyPrefix}${source.bucket}/${source.key}${versionSuffix(versionId)}`);
  }

  legacyArchiveUriFor(artifactUri: string): string {
    const source = locationOf(this.roots.require(artifactUri).uri);
    return s3Uri(this.options.bucket, `${this.options.keyPrefix}${source.bucket}/${source.key}`);
  }

  owns(uri: string): boolean {
    return this.archiveLocation(uri) !== undefined;
  }

  async inspect(artifactUris: string[], concurrency: number): Promise<Map<string, unknown>> {
    const problems = new Map<string, unknown>();
    await forEachLimited(artifactUris, concurrency, async (uri) => {
      try {
        await this.head(this.artifactLocation(uri));
      } catch (error) {
        problems.set(uri, error);
      }
    });
    return problems;
  }

  async copyToArchive(artifactUri: string, archiveUri: string): Promise<ArtifactIdentity> {
    const source = this.artifactLocation(artifactUri);
    const head = await this.head(source);
    await this.copy(source, this.requireArchiveLocation(archiveUri), this.options.storageClass as StorageClass, head);
    return { size: head.ContentLength ?? 0, etag: head.ETag };
  }

  async deleteOriginal(artifactUri: string, expected: ArtifactIdentity): Promise<'deleted' | 'gone' | 'changed'> {
    const source = this.artifactLocation(artifactUri);
    const current = await this.identityOf(source);
    if (!current) return 'gone';
    if (current.etag !== expected.etag || current.size !== expected.size) return 'changed';
    try {
      await this.withCondition(
        (condition) => new DeleteObjectCommand({ Bucket: source.bucket, Key: source.key, ...(condition ? { IfMatch: expected.etag } : {}) }),
      );
      return 'deleted';
    } catch (error) {
      if (isPreconditionFailed(error)) return 'changed';
      throw error;
    }
  }

  async identityAt(uri: string): Promise<ArtifactIdentity | undefined> {
    return this.identityOf(this.archiveLocation(uri) ?? this.artifactLocation(uri));
  }

  async placeFromArchive(archiveUri: string, artifactUri: string): Promise<void> {
    const archived = this.requireArchiveLocation(archiveUri);
    const target = this.artifactLocation(artifactUri);
    if (await this.identityOf(target)) throw new ArtifactExistsError(artifactUri);
    let head: Awaited<ReturnType<S3ArchiveStorage['head']>>;
    try {
      head = await this.head(archived);
    } catch (error) {
      if (isNotFound(error)) throw new ArchivedArtifactMissingError(archiveUri);
      throw error;
    }
    try {
      await this.copy(archived, target, 'STANDARD', head, { ifNoneMatch: true });
    } catch (error) {
      if (isPreconditionFailed(error)) throw new ArtifactExistsError(artifactUri);
      if (isNotFound(error)) throw new ArchivedArtifactMissingError(archiveUri);
      if ((error as { name?: string }).name !== 'InvalidObjectState') throw error;
      // Glacier objects must be restored (hours) before they can be copied.
      try {
        await this.options.client.send(
          new RestoreObjectCommand({ Bucket: archived.bucket, Key: archived.key, RestoreRequest: { Days: 7, GlacierJobParameters: { Tier: 'Standard' } } }),
        );
      } catch (restoreError) {
        if ((restoreError as { name?: string }).name !== 'RestoreAlreadyInProgress') throw restoreError;
      }
      throw new ArchiveRestorePendingError(archiveUri);
    }
  }

  async deleteArchived(archiveUri: string): Promise<void> {
    const location = this.requireArchiveLocation(archiveUri);
    await this.options.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  }

  /** S3 writes are durable once acknowledged. */
  async flush(): Promise<void> {}

  async tempIdentity(): Promise<ArtifactIdentity | undefined> {
    return undefined;
  }

  /**
   * S3 has no temporary files; an interrupted multipart copy leaves an unfinished upload (invisible,
   * but billed), aborted here. Best effort: a server that cannot list uploads must not hold recovery
   * up — a bucket lifecycle rule (AbortIncompleteMultipartUpload) is the backstop.
   */
  async removeTemp(uri: string): Promise<void> {
    const location = this.archiveLocation(uri) ?? this.artifactLocation(uri);
    const uploads = await this.options.client.send(new ListMultipartUploadsCommand({ Bucket: location.bucket, Prefix: location.key })).catch(() => undefined);
    for (const upload of uploads?.Uploads ?? []) {
      if (upload.Key !== location.key) continue;
      await this.options.client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: upload.UploadId })).catch(() => undefined);
    }
  }

  private artifactLocation(artifactUri: string): S3Location {
    return locationOf(this.roots.require(artifactUri).uri);
  }

  private archiveLocation(uri: string): S3Location | undefined {
    const parsed = parseArtifactUri(uri);
    if (parsed.scheme !== 's3' || parsed.unsafe || !parsed.key.startsWith(this.archivePrefix) || parsed.key === this.archivePrefix) return undefined;
    return locationOf(parsed);
  }

  private requireArchiveLocation(uri: string): S3Location {
    const location = this.archiveLocation(uri);
    if (!location) throw new UnsafePathError('the location is not inside the archive bucket and prefix');
    return location;
  }

  private head(location: S3Location) {
    return this.options.client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
  }

  private async identityOf(location: S3Location): Promise<ArtifactIdentity | undefined> {
    try {
      const head = await this.head(location);
      return { size: head.ContentLength ?? 0, etag: head.ETag };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Sends a request with its condition, or without it to a server that does not implement it (checked by a HEAD before). */
  private async withCondition(build: (condition: boolean) => DeleteObjectCommand | CopyObjectCommand): Promise<void> {
    try {
      await this.options.client.send(build(true) as never);
    } catch (error) {
      if (!isNotImplemented(error)) throw error;
      await this.options.client.send(build(false) as never);
    }
  }

  private async copy(
    from: S3Location,
    to: S3Location,
    storageClass: StorageClass,
    head: { ContentLength?: number; ContentType?: string; Metadata?: Record<string, string> },
    options: { ifNoneMatch?: boolean } = {},
  ): Promise<void> {
    const { client } = this.options;
    const common = { Bucket: to.bucket, Key: to.key, StorageClass: storageClass, ContentType: head.ContentType, Metadata: head.Metadata };
    const size = head.ContentLength ?? 0;
    if (size <= this.multipartThreshold) {
      await this.withCondition(
        (condition) =>
          new CopyObjectCommand({ ...common, CopySource: copySource(from), MetadataDirective: 'REPLACE', ...(condition && options.ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
      );
      return;
    }
    const { UploadId } = await client.send(new CreateMultipartUploadCommand(common));
    try {
      const parts: { ETag?: string; PartNumber: number }[] = [];
      for (let start = 0, part = 1; start < size; start += this.partSize, part++) {
        const end = Math.min(start + this.partSize, size) - 1;
        const result = await client.send(
          new UploadPartCopyCommand({ Bucket: to.bucket, Key: to.key, UploadId, PartNumber: part, CopySource: copySource(from), CopySourceRange: `bytes=${start}-${end}` }),
        );
        parts.push({ ETag: result.CopyPartResult?.ETag, PartNumber: part });
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId, MultipartUpload: { Parts: parts }, ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
      );
    } catch (error) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId })).catch(() => undefined);
      throw error;
    }
  }
}

export function createS3Client(options: { endpoint?: string; region: string; forcePathStyle: boolean }): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle,
    maxAttempts: 3,
  });
}
