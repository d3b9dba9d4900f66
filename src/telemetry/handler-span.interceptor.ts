import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { context as otelContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';

const tracer = trace.getTracer('model-registry');

/**
 * A span per Nest handler (`ModelsController.getModel`) under the HTTP server span, when the request
 * is traced (installed only when tracing is on). OpenTelemetry's Nest instrumentation does not support
 * Nest 12, so this takes its place.
 */
@Injectable()
export class HandlerSpanInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!trace.getActiveSpan()?.isRecording()) return next.handle();
    const controller = context.getClass().name;
    const handler = context.getHandler().name;
    const span = tracer.startSpan(`${controller}.${handler}`, { attributes: { 'nestjs.controller': controller, 'nestjs.callback': handler, 'nestjs.type': 'handler' } });
    const active = trace.setSpan(otelContext.active(), span);
    return new Observable((subscriber) => {
      const subscription = otelContext.with(active, () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
            subscriber.error(error);
          },
          complete: () => {
            span.end();
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
