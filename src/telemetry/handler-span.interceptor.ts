import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { context as otelContext, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { endHandlerSpan, startHandlerSpan } from '../common/http/handler-span';

/**
 * A span per Nest handler (`ModelsController.getModel`) under the HTTP server span, when the request
 * is traced (installed only when tracing is on). Routes served directly (`@Direct()`) open the same
 * span themselves.
 */
@Injectable()
export class HandlerSpanInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = startHandlerSpan(context.getClass().name, context.getHandler().name);
    if (!span) return next.handle();
    const active = trace.setSpan(otelContext.active(), span);
    return new Observable((subscriber) => {
      const subscription = otelContext.with(active, () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            endHandlerSpan(span, error);
            subscriber.error(error);
          },
          complete: () => {
            endHandlerSpan(span);
            subscriber.complete();
          },
        }),
      );
      return () => {
        subscription.unsubscribe();
        if (span.isRecording()) span.end();
      };
    });
  }
}
