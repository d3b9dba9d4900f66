import type { S3Client } from '@aws-sdk/client-s3';
import { prefixMapping } from './archive-storage';
import { FileArchiveStorage } from './file.storage';
import { RecordOnlyStorage } from './none.storage';
import { parseS3Uri, S3ArchiveStorage } from './s3.storage';

describe('archive locations', () => {
  it('record-only: prefix + the artifact URI without its scheme', () => {
    expect(prefixMapping('archive://', 's3://models/gpt/v1/model.bin')).toBe('archive://models/gpt/v1/model.bin');
    expect(new RecordOnlyStorage('glacier://vault/').archiveUriFor('gs://b/k.bin')).toEqual({ uri: 'glacier://vault/b/k.bin' });
  });

  it('file: mirrors the absolute path under the archive folder; only file:// artifacts outside it', () => {
    const sut = new FileArchiveStorage('/srv/archive');
    expect(sut.archiveUriFor('file:///models/a/v1.bin')).toEqual({ uri: 'file:///srv/archive/models/a/v1.bin' });
    expect(sut.archiveUriFor('s3://b/k')).toHaveProperty('unsupported');
    expect(sut.archiveUriFor('file:///srv/archive/models/a.bin')).toHaveProperty('unsupported');
    expect(sut.owns('file:///srv/archive/models/a.bin')).toBe(true);
    expect(sut.owns('file:///models/a.bin')).toBe(false);
  });

  it('s3: bucket + key under the archive bucket and key prefix; only s3:// artifacts from other buckets', () => {
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: 'old/', storageClass: 'GLACIER', client: {} as S3Client });
    expect(sut.archiveUriFor('s3://models/gpt/v1/model.bin')).toEqual({ uri: 's3://vault/old/models/gpt/v1/model.bin' });
    expect(sut.archiveUriFor('gs://models/a')).toHaveProperty('unsupported');
    expect(sut.archiveUriFor('s3://vault/x')).toHaveProperty('unsupported');
    expect(parseS3Uri('s3://b/a%20b/c')).toEqual({ bucket: 'b', key: 'a b/c' });
    expect(parseS3Uri('s3://b')).toBeUndefined();
  });
});

/** Records the commands sent; answers HeadObject with the given size. */
function fakeS3(size: number, failOnPart?: number) {
  const sent: { name: string; input: Record<string, any> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      if (name === 'HeadObjectCommand') return { ContentLength: size, ContentType: 'application/octet-stream', Metadata: { a: '1' } };
      if (name === 'CreateMultipartUploadCommand') return { UploadId: 'u-1' };
      if (name === 'UploadPartCopyCommand') {
        if (command.input.PartNumber === failOnPart) throw new Error('part failed');
        return { CopyPartResult: { ETag: `"etag-${command.input.PartNumber}"` } };
      }
      return {};
    },
  } as unknown as S3Client;
  return { client, sent };
}

describe('S3ArchiveStorage copies (multipart above the single-copy limit)', () => {
  it('uses one CopyObject with the storage class, type and metadata for objects up to the limit', async () => {
    const { client, sent } = fakeS3(100);
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: '', storageClass: 'GLACIER', client, multipartThresholdBytes: 100 });
    await sut.copyToArchive('s3://models/a.bin', 's3://vault/models/a.bin');
    expect(sent.map((c) => c.name)).toEqual(['HeadObjectCommand', 'CopyObjectCommand']);
    expect(sent[1].input).toMatchObject({ Bucket: 'vault', Key: 'models/a.bin', CopySource: 'models/a.bin', StorageClass: 'GLACIER', MetadataDirective: 'REPLACE', ContentType: 'application/octet-stream', Metadata: { a: '1' } });
  });

  it('copies larger objects in byte-range parts and completes them in order', async () => {
    const { client, sent } = fakeS3(250);
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: '', storageClass: 'DEEP_ARCHIVE', client, multipartThresholdBytes: 100, partSizeBytes: 100 });
    await sut.copyToArchive('s3://models/big.bin', 's3://vault/models/big.bin');
    expect(sent.map((c) => c.name)).toEqual(['HeadObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCopyCommand', 'UploadPartCopyCommand', 'UploadPartCopyCommand', 'CompleteMultipartUploadCommand']);
    expect(sent[1].input).toMatchObject({ StorageClass: 'DEEP_ARCHIVE', ContentType: 'application/octet-stream' });
    expect(sent.filter((c) => c.name === 'UploadPartCopyCommand').map((c) => c.input.CopySourceRange)).toEqual(['bytes=0-99', 'bytes=100-199', 'bytes=200-249']);
    expect(sent[5].input.MultipartUpload.Parts).toEqual([1, 2, 3].map((n) => ({ ETag: `"etag-${n}"`, PartNumber: n })));
  });

  it('aborts the multipart upload when a part fails', async () => {
    const { client, sent } = fakeS3(250, 2);
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: '', storageClass: 'GLACIER', client, multipartThresholdBytes: 100, partSizeBytes: 100 });
    await expect(sut.copyToArchive('s3://models/big.bin', 's3://vault/models/big.bin')).rejects.toThrow('part failed');
    expect(sent[sent.length - 1]).toMatchObject({ name: 'AbortMultipartUploadCommand', input: { UploadId: 'u-1' } });
  });
});
