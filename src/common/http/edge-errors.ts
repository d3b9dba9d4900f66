import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError } from 'fastify';
import { buildProblem, PROBLEM_CONTENT_TYPE } from '../errors/problem-details';
import { PROBLEM_TYPES, type ProblemCode } from '../errors/problem-types';

/** A request line longer than this is a URI too long (414); otherwise an overflow is in the headers (431). */
const MAX_REQUEST_LINE_BYTES = 8 * 1024;

const CLIENT_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request-timeout', detail: 'The request did not arrive in time (REQUEST_TIMEOUT_MS); the connection is closed.' },
  ERR_HTTP_HEADERS_TIMEOUT: { code: 'request-timeout', detail: 'The request headers did not arrive in time; the connection is closed.' },
  HPE_HEADER_OVERFLOW: { code: 'request-header-fields-too-large', detail: 'The request headers are larger than the 16 KiB the service accepts.' },
};

const FRAMEWORK_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  FST_ERR_BAD_URL: { code: 'bad-request', detail: 'The request URL is malformed (an invalid percent-encoding).' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri-too-long', detail: 'A path parameter is longer than the 256 characters the service accepts.' },
  FST_ERR_ASYNC_CONSTRAINT: { code: 'bad-request', detail: 'The request cannot be routed.' },
};

function requestLineLength(packet: unknown): number {
  if (!Buffer.isBuffer(packet)) return 0;
  const end = packet.indexOf('\r\n');
  return end < 0 ? packet.length : end;
}

/**
 * Errors Node's HTTP parser finds before Fastify sees a request (headers too large, a request line too
 * long, a request that did not arrive in REQUEST_TIMEOUT_MS, malformed HTTP): answered as
 * problem+json on the raw socket, never echoing what the client sent, and the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let known = CLIENT_ERRORS[error.code ?? ''] ?? { code: 'bad-request' as ProblemCode, detail: 'The request is not valid HTTP.' };
  if (error.code === 'HPE_HEADER_OVERFLOW' && requestLineLength(error.rawPacket) > MAX_REQUEST_LINE_BYTES) {
    known = { code: 'uri-too-long', detail: 'The request URI is longer than the 8 KiB the service accepts.' };
  }
  answerOnSocketAndClose(socket, known.code, known.detail, randomUUID());
}

/** Writes a problem+json response straight to the socket (no HTTP machinery left to use) and closes it. */
export function answerOnSocketAndClose(socket: Socket, code: ProblemCode, detail: string, requestId: string): void {
  const body = JSON.stringify(buildProblem(code, detail, { instance: '/', requestId }));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${PROBLEM_TYPES[code].status} ${PROBLEM_TYPES[code].title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's router errors (before any hook runs): problem+json without the offending URL. */
interface RawReply {
  raw: { headersSent: boolean; writeHead(status: number, headers: Record<string, string | number>): unknown; end(body: string): unknown };
}

export function frameworkErrorHandler(error: FastifyError, request: { id: unknown }, reply: RawReply): void {
  const known = FRAMEWORK_ERRORS[error.code] ?? { code: 'bad-request' as ProblemCode, detail: 'The request cannot be routed.' };
  const requestId = String(request.id);
  const body = JSON.stringify(buildProblem(known.code, known.detail, { instance: '/', requestId }));
  if (reply.raw.headersSent) return;
  reply.raw.writeHead(PROBLEM_TYPES[known.code].status, {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  });
  reply.raw.end(body);
}
