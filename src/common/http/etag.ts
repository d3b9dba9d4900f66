import { hash } from 'node:crypto';
import { PreconditionFailedError } from '../errors/application.error';

/**
 * A strong ETag derived from the resource's JSON representation: any change to any field (by any
 * writer, including retention or usage reports) changes it, with no version column to keep in step.
 */
export function etagOf(representation: unknown): string {
  return etagOfJson(JSON.stringify(representation));
}

/** The same tag from the serialised JSON (what Fastify sends for a representation). */
export function etagOfJson(json: string): string {
  // One-shot hashing: no Hash object per response.
  return `"${hash('sha256', json, 'base64url').slice(0, 27)}"`;
}

function entityTags(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
}

const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** If-None-Match uses weak comparison (RFC 9110 §13.1.2): true when the client's copy is current. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = entityTags(header);
  return tags.includes('*') || tags.some((tag) => opaque(tag) === etag);
}

/**
 * If-Match uses strong comparison (RFC 9110 §13.1.1). Absent header: unconditional. Throws 412 with
 * the current ETag when the client's copy is stale.
 */
export function assertIfMatch(header: string | undefined, etag: string): void {
  if (header === undefined) return;
  const tags = entityTags(header);
  if (tags.includes('*') || tags.some((tag) => !tag.startsWith('W/') && tag === etag)) return;
  throw new PreconditionFailedError(etag);
}
