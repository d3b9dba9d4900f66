import fc from 'fast-check';
import { artifactKey, encodeSegment, parseArtifactRoots, parseArtifactUri } from './artifact-uri';

describe('parseArtifactUri', () => {
  it('normalises file URIs: percent-encoding, "." and empty segments, localhost, scheme case', () => {
    const key = 'file:///srv/models/a%20b/v1.bin';
    for (const uri of [
      'file:///srv/models/a%20b/v1.bin',
      'FILE:///srv/models/a b/v1.bin',
      'file://localhost/srv/models/a%20b/v1.bin',
      'file:///srv//models/./a%20b/v1.bin',
      'file:///srv/%6Dodels/a%20b/v1.bin',
      'file:///srv/models/a%20b/v1%2ebin',
    ]) {
      expect(parseArtifactUri(uri)).toEqual({ scheme: 'file', key, segments: ['srv', 'models', 'a b', 'v1.bin'], unsafe: undefined });
    }
  });

  it.each([
    ['file:///srv/models/../etc/passwd', 'a ".." segment', 'file:///srv/etc/passwd'],
    ['file:///srv/models/%2e%2e/etc/passwd', 'a ".." segment', 'file:///srv/etc/passwd'],
    ['file:///srv/models/.%2E/x', 'a ".." segment', 'file:///srv/x'],
    ['file:///srv/models/a%2Fb', 'an encoded slash', 'file:///srv/models/a/b'],
    ['file:///srv/models/a%00b', 'a NUL byte', 'file:///srv/models/a%00b'],
    ['file:///srv/models/a%0Ab', 'a control character', 'file:///srv/models/a%0Ab'],
    ['file:///srv/models/%zz', 'an invalid percent-encoding', 'file:///srv/models/%25zz'],
    ['file:///srv/models/%FF', 'an invalid percent-encoding', 'file:///srv/models/%25FF'],
    ['file://evil.example/srv/models/a', 'a remote host', 'file:///srv/models/a'],
    ['file:///srv/models/a?x=1', 'a query or fragment', 'file:///srv/models/a'],
    ['file:/srv/models/a', 'no "//" after "file:"', 'file:///srv/models/a'],
  ])('%s is unsafe (%s) and keyed conservatively', (uri, unsafe, key) => {
    expect(parseArtifactUri(uri)).toMatchObject({ scheme: 'file', unsafe, key });
  });

  it('normalises s3 URIs literally and marks ambiguous keys unsafe', () => {
    expect(parseArtifactUri('s3://models/gpt/v1/model%20x.bin')).toEqual({
      scheme: 's3',
      key: 's3://models/gpt/v1/model%20x.bin',
      bucket: 'models',
      segments: ['gpt', 'v1', 'model x.bin'],
      unsafe: undefined,
    });
    expect(artifactKey('S3://models/gpt/%761/model%20x.bin')).toBe('s3://models/gpt/v1/model%20x.bin');
    expect(parseArtifactUri('s3://models/gpt/../x').unsafe).toBe('a ".." segment');
    expect(parseArtifactUri('s3://models/gpt/./x').unsafe).toBe('a "." segment');
    expect(parseArtifactUri('s3://models/gpt//x').unsafe).toBe('an empty key segment');
    expect(parseArtifactUri('s3://models/a%2Fb').unsafe).toBe('an encoded slash');
    expect(parseArtifactUri('s3://Models/a').unsafe).toBe('an invalid bucket name');
    expect(parseArtifactUri('s3://models').unsafe).toBe('no object key');
  });

  it('keeps other schemes opaque', () => {
    expect(parseArtifactUri('HTTPS://host/a/../b')).toEqual({ scheme: 'other', key: 'https://host/a/../b' });
    expect(parseArtifactUri('gs://bucket/k')).toEqual({ scheme: 'other', key: 'gs://bucket/k' });
  });

  it('is idempotent: a key parses to itself (property)', () => {
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !['.', '..'].includes(s) && !s.includes('/') && !/[\u0000-\u001f\u007f]/.test(s));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const uri = `file:///${segments.map(encodeURIComponent).join('/')}`;
        const parsed = parseArtifactUri(uri);
        expect(parsed).toMatchObject({ segments, unsafe: undefined });
        expect(parseArtifactUri(parsed.key)).toEqual(parsed);
      }),
    );
  });
});

describe('parseArtifactRoots', () => {
  it('parses folders and bucket prefixes, with or without a trailing slash', () => {
    expect(parseArtifactRoots(' file:///srv/models , s3://ml-artifacts/prod/,file:///,s3://bkt ')).toEqual({
      roots: [
        { scheme: 'file', prefix: 'file:///srv/models/', segments: ['srv', 'models'] },
        { scheme: 's3', prefix: 's3://ml-artifacts/prod/', bucket: 'ml-artifacts', segments: ['prod'] },
        { scheme: 'file', prefix: 'file:///', segments: [] },
        { scheme: 's3', prefix: 's3://bkt/', bucket: 'bkt', segments: [] },
      ],
      problems: [],
    });
    expect(parseArtifactRoots('').roots).toEqual([]);
    expect(encodeSegment('a b@c')).toBe('a%20b@c');
  });

  it('rejects roots that are not safe file:/// or s3:// folders', () => {
    expect(parseArtifactRoots('file:///srv/../etc,https://x/,s3://B/x,/srv/models').problems).toEqual([
      '"file:///srv/../etc" has a ".." segment',
      '"https://x/" is not a file:/// or s3:// URI',
      '"s3://B/x" has an invalid bucket name',
      '"/srv/models" is not a file:/// or s3:// URI',
    ]);
  });
});
