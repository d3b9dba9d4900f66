import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { parseArtifactRoots } from '../../config/artifact-uri';
import { ArtifactExistsError, prefixMapping, sameArtifact } from './archive-storage';
import { FileArchiveStorage } from './file.storage';
import { RecordOnlyStorage } from './none.storage';
import { S3ArchiveStorage } from './s3.storage';

const roots = (raw: string) => parseArtifactRoots(raw).roots;

describe('archive locations', () => {
  it('record-only: prefix + the artifact URI without its scheme', () => {
    expect(prefixMapping('archive://', 's3://models/gpt/v1/model.bin')).toBe('archive://models/gpt/v1/model.bin');
    expect(new RecordOnlyStorage('glacier://vault/').recordedArchiveUri('gs://b/k.bin')).toBe('glacier://vault/b/k.bin');
  });

  it('file: only artifacts inside a root, never inside the archive; one archive location per version', () => {
    const sut = new FileArchiveStorage('/srv/archive', roots('file:///models/,file:///srv/'));
    expect(sut.locate('file:///models/a/v1.bin')).toEqual({ where: 'inside', key: 'file:///models/a/v1.bin' });
    expect(sut.locate('file:///models-old/a.bin')).toEqual({ where: 'outside' });
    expect(sut.locate('file:///etc/hostname')).toEqual({ where: 'outside' });
    expect(sut.locate('file:///models')).toEqual({ where: 'outside' });
    expect(sut.locate('s3://b/k')).toEqual({ where: 'outside' });
    expect(sut.locate('file:///srv/archive/models/a.bin@v3')).toEqual({ where: 'outside' });
    expect(sut.locate('file:///models/../etc/passwd')).toEqual({ where: 'unsafe', detail: 'the URI has a ".." segment' });
    expect(sut.locate('file:///models/a%2Fb')).toEqual({ where: 'unsafe', detail: 'the URI has an encoded slash' });
    expect(sut.archiveUriFor('file:///models/a/v1.bin', 7)).toBe('file:///srv/archive/models/a/v1.bin@v7');
    expect(sut.archiveUriFor('file:///models/a%20b.bin', 8)).toBe('file:///srv/archive/models/a%20b.bin@v8');
    expect(sut.legacyArchiveUriFor('file:///models/a/v1.bin')).toBe('file:///srv/archive/models/a/v1.bin');
    expect(() => sut.archiveUriFor('file:///etc/hostname', 7)).toThrow(/outside ARTIFACT_ROOTS/);
    expect(sut.owns('file:///srv/archive/models/a.bin@v3')).toBe(true);
    expect(sut.owns('file:///srv/archive/../etc/passwd')).toBe(false);
    expect(sut.owns('file:///models/a.bin')).toBe(false);
  });

  it('file: no roots, nothing inside', () => {
    expect(new FileArchiveStorage('/srv/archive', []).locate('file:///models/a/v1.bin')).toEqual({ where: 'outside' });
  });

  it('s3: only keys under a root prefix, never in the archive; one archive key per version', () => {
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: 'old/', storageClass: 'GLACIER', client: {} as S3Client, roots: roots('s3://models/,s3://vault/') });
    expect(sut.locate('s3://models/gpt/v1/model.bin')).toEqual({ where: 'inside', key: 's3://models/gpt/v1/model.bin' });
    expect(sut.archiveUriFor('s3://models/gpt/v1/model.bin', 9)).toBe('s3://vault/old/models/gpt/v1/model.bin@v9');
    expect(sut.legacyArchiveUriFor('s3://models/gpt/v1/model.bin')).toBe('s3://vault/old/models/gpt/v1/model.bin');
    expect(sut.locate('gs://models/a')).toEqual({ where: 'outside' });
    expect(sut.locate('s3://other/a')).toEqual({ where: 'outside' });
    expect(sut.locate('s3://vault/old/models/a@v1')).toEqual({ where: 'outside' });
    expect(sut.locate('s3://vault/mine/a')).toEqual({ where: 'inside', key: 's3://vault/mine/a' });
    expect(sut.locate('s3://models/a/../b')).toEqual({ where: 'unsafe', detail: 'the URI has a ".." segment' });
    expect(sut.owns('s3://vault/old/models/a@v1')).toBe(true);
    expect(sut.owns('s3://vault/mine/a')).toBe(false);
  });

  it('sameArtifact: the same file (device, inode) or the same object (ETag, size)', () => {
    expect(sameArtifact({ size: 1, dev: '1', ino: '2' }, { size: 9, dev: '1', ino: '2' })).toBe(true);
    expect(sameArtifact({ size: 1, dev: '1', ino: '2' }, { size: 1, dev: '1', ino: '3' })).toBe(false);
    expect(sameArtifact({ size: 1, etag: '"a"' }, { size: 1, etag: '"a"' })).toBe(true);
    expect(sameArtifact({ size: 1, etag: '"a"' }, { size: 2, etag: '"a"' })).toBe(false);
    expect(sameArtifact({ size: 1 }, { size: 1 })).toBe(false);
    expect(sameArtifact(undefined, { size: 1, etag: '"a"' })).toBe(false);
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
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: 'a/', storageClass: 'GLACIER', client, roots: roots('s3://models/'), multipartThresholdBytes: 100 });
    await sut.copyToArchive('s3://models/a.bin', 's3://vault/a/models/a.bin@v1');
    expect(sent.map((c) => c.name)).toEqual(['HeadObjectCommand', 'CopyObjectCommand']);
    expect(sent[1].input).toMatchObject({ Bucket: 'vault', Key: 'a/models/a.bin@v1', CopySource: 'models/a.bin', StorageClass: 'GLACIER', MetadataDirective: 'REPLACE', ContentType: 'application/octet-stream', Metadata: { a: '1' } });
  });

  it('copies larger objects in byte-range parts and completes them in order', async () => {
    const { client, sent } = fakeS3(250);
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: 'a/', storageClass: 'DEEP_ARCHIVE', client, roots: roots('s3://models/'), multipartThresholdBytes: 100, partSizeBytes: 100 });
    await sut.copyToArchive('s3://models/big.bin', 's3://vault/a/models/big.bin@v1');
    expect(sent.map((c) => c.name)).toEqual(['HeadObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCopyCommand', 'UploadPartCopyCommand', 'UploadPartCopyCommand', 'CompleteMultipartUploadCommand']);
    expect(sent[1].input).toMatchObject({ StorageClass: 'DEEP_ARCHIVE', ContentType: 'application/octet-stream' });
    expect(sent.filter((c) => c.name === 'UploadPartCopyCommand').map((c) => c.input.CopySourceRange)).toEqual(['bytes=0-99', 'bytes=100-199', 'bytes=200-249']);
    expect(sent[5].input.MultipartUpload.Parts).toEqual([1, 2, 3].map((n) => ({ ETag: `"etag-${n}"`, PartNumber: n })));
  });

  it('aborts the multipart upload when a part fails', async () => {
    const { client, sent } = fakeS3(250, 2);
    const sut = new S3ArchiveStorage({ bucket: 'vault', keyPrefix: 'a/', storageClass: 'GLACIER', client, roots: roots('s3://models/'), multipartThresholdBytes: 100, partSizeBytes: 100 });
    await expect(sut.copyToArchive('s3://models/big.bin', 's3://vault/a/models/big.bin@v1')).rejects.toThrow('part failed');
    expect(sent[sent.length - 1]).toMatchObject({ name: 'AbortMultipartUploadCommand', input: { UploadId: 'u-1' } });
  });
});

describe('FileArchiveStorage on real files', () => {
  let base: string;
  let sut: FileArchiveStorage;
  const original = () => path.join(base, 'models', 'm', 'a.bin');
  const uri = () => pathToFileURL(original()).href;

  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'mr-file-storage-'));
    mkdirSync(path.join(base, 'models', 'm'), { recursive: true });
    writeFileSync(original(), 'archived bytes');
    sut = new FileArchiveStorage(path.join(base, 'archive'), roots(`${pathToFileURL(path.join(base, 'models')).href}/`));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('deletes the original only if it is still the file that was archived, unchanged', async () => {
    const archiveUri = sut.archiveUriFor(uri(), 1);
    const identity = await sut.copyToArchive(uri(), archiveUri, '.t.partial');
    await sut.flush([archiveUri]);

    appendFileSync(original(), ' and more');
    expect(await sut.deleteOriginal(uri(), identity)).toBe('changed');
    writeFileSync(path.join(base, 'other.bin'), 'archived bytes');
    renameSync(path.join(base, 'other.bin'), original());
    expect(await sut.deleteOriginal(uri(), identity)).toBe('changed');
    expect(readFileSync(original(), 'utf8')).toBe('archived bytes');

    rmSync(original());
    expect(await sut.deleteOriginal(uri(), identity)).toBe('gone');
    await sut.placeFromArchive(archiveUri, uri(), '.r.partial');
    // On one filesystem the archive copy is a hard link: it holds what the archived file held last.
    expect(readFileSync(original(), 'utf8')).toBe('archived bytes and more');
    const again = await sut.copyToArchive(uri(), sut.archiveUriFor(uri(), 2), '.t2.partial');
    expect(await sut.deleteOriginal(uri(), again)).toBe('deleted');
    expect(existsSync(original())).toBe(false);
  });

  it('never restores over an existing file', async () => {
    const archiveUri = sut.archiveUriFor(uri(), 1);
    await sut.copyToArchive(uri(), archiveUri, '.t.partial');
    writeFileSync(original(), 'somebody else');
    await expect(sut.placeFromArchive(archiveUri, uri(), '.r.partial')).rejects.toBeInstanceOf(ArtifactExistsError);
    expect(readFileSync(original(), 'utf8')).toBe('somebody else');
    expect(readdirSync(path.dirname(original()))).toEqual(['a.bin']);
  });
});
