import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The headers helmet sets with `options`, found once by running its middleware against a recorder.
 * They depend on nothing in the request, so every response can get them as one Fastify reply-header
 * object: Node then writes them with the status line instead of storing each through setHeader, which
 * helmet's middleware (and the Fastify plugin, which rebuilt that middleware per request) cost on
 * every request.
 */
export function securityHeaders(options: Readonly<HelmetOptions>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number) => (headers[name.toLowerCase()] = String(value)),
    // helmet removes X-Powered-By, which nothing here sets.
    removeHeader: () => undefined,
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
  });
  return headers;
}
