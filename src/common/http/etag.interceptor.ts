import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { etagOf, ifNoneMatchHits } from './etag';

/**
 * For single-resource responses: sets `ETag` from the representation, and answers a GET whose
 * If-None-Match already holds that tag with 304 and no body.
 */
@Injectable()
export class EtagInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (body === undefined || body === null || reply.statusCode >= 300) return body;
        const etag = etagOf(body);
        void reply.header('etag', etag);
        const conditional = request.headers['if-none-match'];
        if ((request.method === 'GET' || request.method === 'HEAD') && ifNoneMatchHits(conditional, etag)) {
          void reply.status(304);
          return undefined;
        }
        return body;
      }),
    );
  }
}
