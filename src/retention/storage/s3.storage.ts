import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCopyCommand,
  AbortMultipartUploadCommand,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { ArchivedArtifactMissingError, ArchiveRestorePendingError, type ArchiveStorage } from './archive-storage';

interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) return undefined;
  try {
    return { bucket: match[1], key: decodeURIComponent(match[2]) };
  } catch {
    return undefined;
  }
}

const copySource = ({ bucket, key }: S3Location) => encodeURIComponent(`${bucket}/${key}`).replace(/%2F/g, '/');

const isNotFound = (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

export interface S3ArchiveOptions {
  bucket: string;
  keyPrefix: string;
  storageClass: string;
  client: S3Client;
  /** Objects larger than this are copied in parts (S3's single CopyObject stops at 5 GiB). */
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
}

/**
 * Archives `s3://` artifacts into ARCHIVE_BUCKET with an archive storage class (GLACIER by default):
 * s3://models/a/v1.bin → s3://<ARCHIVE_BUCKET>/<ARCHIVE_KEY_PREFIX>models/a/v1.bin. The copy keeps
 * the content type and metadata (REPLACE is needed for the storage class to apply, and clears them).
 */
export class S3ArchiveStorage implements ArchiveStorage {
  readonly kind = 's3' as const;
  readonly movesArtifacts = true;
  private readonly multipartThreshold: number;
  private readonly partSize: number;

  constructor(private readonly options: S3ArchiveOptions) {
    this.multipartThreshold = options.multipartThresholdBytes ?? 5 * 1024 ** 3;
    this.partSize = options.partSizeBytes ?? 512 * 1024 ** 2;
  }

  archiveUriFor(artifactUri: string) {
    const source = parseS3Uri(artifactUri);
    if (!source) return { unsupported: `the S3 archive only takes s3:// artifacts, not ${artifactUri.split(':')[0]}://` };
    if (source.bucket === this.options.bucket) return { unsupported: 'the artifact is already in the archive bucket' };
    return { uri: `s3://${this.options.bucket}/${this.options.keyPrefix}${source.bucket}/${source.key}` };
  }

  async copyToArchive(artifactUri: string, archiveUri: string): Promise<void> {
    await this.copy(parseS3Uri(artifactUri)!, parseS3Uri(archiveUri)!, this.options.storageClass as StorageClass);
  }

  async restoreFromArchive(archiveUri: string, artifactUri: string): Promise<void> {
    const archived = parseS3Uri(archiveUri)!;
    try {
      await this.copy(archived, parseS3Uri(artifactUri)!, 'STANDARD');
    } catch (error) {
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

  async delete(uri: string): Promise<void> {
    const location = parseS3Uri(uri);
    if (!location) return;
    await this.options.client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }));
  }

  owns(uri: string): boolean {
    return parseS3Uri(uri)?.bucket === this.options.bucket;
  }

  private async copy(from: S3Location, to: S3Location, storageClass: StorageClass): Promise<void> {
    const { client } = this.options;
    const head = await client.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key }));
    const common = { Bucket: to.bucket, Key: to.key, StorageClass: storageClass, ContentType: head.ContentType, Metadata: head.Metadata };
    const size = head.ContentLength ?? 0;
    if (size <= this.multipartThreshold) {
      await client.send(new CopyObjectCommand({ ...common, CopySource: copySource(from), MetadataDirective: 'REPLACE' }));
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
      await client.send(new CompleteMultipartUploadCommand({ Bucket: to.bucket, Key: to.key, UploadId, MultipartUpload: { Parts: parts } }));
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
