/**
 * Artifact URIs, normalised. This is the one definition of "the same artifact" (two versions whose
 * URIs normalise to the same key share one artifact) and of where a `file://` or `s3://` artifact
 * really is. A URI that could mean something else than it reads — a `..` segment, an encoded slash,
 * a NUL or control character, a remote host, a query or fragment — is marked unsafe: the service
 * records it but never touches what it points at.
 */

export interface FileArtifactUri {
  scheme: 'file';
  /** Canonical form: `file:///` + percent-decoded segments, re-encoded one way. Equal keys = same artifact. */
  key: string;
  /** Decoded path segments, `..` resolved lexically (for the key only: an unsafe URI is never opened). */
  segments: string[];
  /** Why the URI must not be touched; undefined when it is safe. */
  unsafe?: string;
}

export interface S3ArtifactUri {
  scheme: 's3';
  key: string;
  bucket: string;
  /** Decoded key segments (S3 keys are literal: no segment is resolved). */
  segments: string[];
  unsafe?: string;
}

/** A scheme the service never touches (https://, gs://, …): the key is the URI with its scheme lowercased. */
export interface OtherArtifactUri {
  scheme: 'other';
  key: string;
  unsafe?: undefined;
}

export type ArtifactUri = FileArtifactUri | S3ArtifactUri | OtherArtifactUri;

/** RFC 3986 pchar minus pct-encoded: these stay as they are in a canonical segment; every other byte is %XX. */
const PCHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/;

/** Percent-encodes a decoded segment canonically (UTF-8, uppercase hex; pchar characters kept). */
export function encodeSegment(segment: string): string {
  let out = '';
  for (const char of segment) {
    if (PCHAR.test(char)) out += char;
    else for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function decodeSegment(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

const AUTHORITY_AND_PATH = /^\/\/([^/?#]*)(\/[^?#]*)?([?#][\s\S]*)?$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The first unsafe property of one decoded segment, if any. */
function segmentProblem(decoded: string | undefined): string | undefined {
  if (decoded === undefined) return 'an invalid percent-encoding';
  if (decoded.includes('\u0000')) return 'a NUL byte';
  if (CONTROL.test(decoded)) return 'a control character';
  if (decoded.includes('/')) return 'an encoded slash';
  if (decoded === '..') return 'a ".." segment';
  return undefined;
}

function parseFile(rest: string): FileArtifactUri {
  const match = AUTHORITY_AND_PATH.exec(rest);
  const problems: string[] = [];
  if (!match) problems.push('no "//" after "file:"');
  const host = match?.[1] ?? '';
  if (host !== '' && host.toLowerCase() !== 'localhost') problems.push('a remote host');
  if (match?.[3]) problems.push('a query or fragment');
  const raw = match ? (match[2] ?? '').split('/').slice(1) : rest.split('/');
  const segments: string[] = [];
  for (const part of raw) {
    const decoded = decodeSegment(part);
    const problem = segmentProblem(decoded);
    if (problem) problems.push(problem);
    // For the key, an undecodable segment stays as written and an encoded slash separates: conservative,
    // so that anything that may name the same file gets the same key.
    for (const piece of (decoded ?? part).split('/')) {
      if (piece === '' || piece === '.') continue;
      if (piece === '..') segments.pop();
      else segments.push(piece);
    }
  }
  if (segments.length === 0) problems.push('no file name');
  return { scheme: 'file', key: `file:///${segments.map(encodeSegment).join('/')}`, segments, unsafe: problems[0] };
}

function parseS3(rest: string): S3ArtifactUri {
  const match = AUTHORITY_AND_PATH.exec(rest);
  const problems: string[] = [];
  if (!match) problems.push('no "//" after "s3:"');
  const bucket = match?.[1] ?? '';
  if (!S3_BUCKET.test(bucket)) problems.push('an invalid bucket name');
  if (match?.[3]) problems.push('a query or fragment');
  const raw = match?.[2] ? match[2].split('/').slice(1) : [];
  if (raw.length === 0 || (raw.length === 1 && raw[0] === '')) problems.push('no object key');
  const segments: string[] = [];
  for (const part of raw) {
    const decoded = decodeSegment(part);
    const problem = segmentProblem(decoded) ?? (decoded === '' ? 'an empty key segment' : decoded === '.' ? 'a "." segment' : undefined);
    if (problem) problems.push(problem);
    segments.push(decoded ?? part);
  }
  return { scheme: 's3', key: `s3://${bucket}/${segments.map(encodeSegment).join('/')}`, bucket, segments, unsafe: problems[0] };
}

/** Parses and normalises an artifact URI. Never throws: whatever is not understood is unsafe. */
export function parseArtifactUri(uri: string): ArtifactUri {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):([\s\S]*)$/.exec(uri);
  if (!match) return { scheme: 'other', key: uri };
  const scheme = match[1].toLowerCase();
  if (scheme === 'file') return parseFile(match[2]);
  if (scheme === 's3') return parseS3(match[2]);
  return { scheme: 'other', key: `${scheme}:${match[2]}` };
}

/** The normalised key of an artifact URI (stored as model_versions.artifact_key). */
export function artifactKey(uri: string): string {
  return parseArtifactUri(uri).key;
}

/** A file:// URI for an absolute path (segments encoded canonically). */
export function fileUri(segments: string[]): string {
  return `file:///${segments.map(encodeSegment).join('/')}`;
}

/** An s3:// URI for a bucket and key (segments encoded canonically). */
export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key.split('/').map(encodeSegment).join('/')}`;
}

/** A folder (or bucket prefix) inside which the service may move and delete artifacts. */
export type ArtifactRoot =
  | { scheme: 'file'; /** canonical, ends with "/" */ prefix: string; segments: string[] }
  | { scheme: 's3'; prefix: string; bucket: string; segments: string[] };

/**
 * Parses ARTIFACT_ROOTS: comma-separated `file:///folder/` or `s3://bucket/prefix/` URIs. Each is a
 * folder: `file:///srv/models` and `file:///srv/models/` are the same root, and neither contains
 * /srv/models-old. Returns the roots, or one problem per bad entry.
 */
export function parseArtifactRoots(raw: string): { roots: ArtifactRoot[]; problems: string[] } {
  const roots: ArtifactRoot[] = [];
  const problems: string[] = [];
  for (const entry of raw.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(entry)?.[1].toLowerCase();
    if (scheme === 'file') {
      // A probe file name under the folder: the folder is whatever contains it.
      const folder = entry.slice(5).replace(/\/+$/, '');
      const parsed = parseFile(`${folder.length >= 2 ? folder : '//'}/x`);
      if (parsed.unsafe) problems.push(`${JSON.stringify(entry)} has ${parsed.unsafe}`);
      else {
        const segments = parsed.segments.slice(0, -1);
        roots.push({ scheme: 'file', prefix: fileUri(segments).replace(/\/?$/, '/'), segments });
      }
    } else if (scheme === 's3') {
      const parsed = parseS3(`${entry.slice(3).replace(/\/+$/, '')}/x`);
      if (parsed.unsafe) problems.push(`${JSON.stringify(entry)} has ${parsed.unsafe}`);
      else {
        const segments = parsed.segments.slice(0, -1);
        roots.push({ scheme: 's3', prefix: `s3://${parsed.bucket}/${segments.map((s) => `${encodeSegment(s)}/`).join('')}`, bucket: parsed.bucket, segments });
      }
    } else {
      problems.push(`${JSON.stringify(entry)} is not a file:/// or s3:// URI`);
    }
  }
  return { roots, problems };
}
