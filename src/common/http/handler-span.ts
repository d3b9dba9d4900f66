import { context as otelContext, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('model-registry');

/**
 * A span per Nest handler (`ModelsController.getModel`) under the HTTP server span, when the request
 * is traced. OpenTelemetry's Nest instrumentation does not support Nest 12, so this takes its place.
 * Undefined when the request is not traced.
 */
export function startHandlerSpan(controller: string, handler: string): Span | undefined {
  if (!trace.getActiveSpan()?.isRecording()) return undefined;
  return tracer.startSpan(`${controller}.${handler}`, { attributes: { 'nestjs.controller': controller, 'nestjs.callback': handler, 'nestjs.type': 'handler' } });
}

/** Ends a handler span with the handler's error, if any. */
export function endHandlerSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `work` (a handler called outside Nest's router) inside its handler span when the request is traced. */
export function runInHandlerSpan<T>(controller: string, handler: string, work: () => T | Promise<T>): T | Promise<T> {
  const span = startHandlerSpan(controller, handler);
  if (!span) return work();
  let result: T | Promise<T>;
  try {
    result = otelContext.with(trace.setSpan(otelContext.active(), span), work);
  } catch (error) {
    endHandlerSpan(span, error);
    throw error;
  }
  return Promise.resolve(result).then(
    (value) => {
      endHandlerSpan(span);
      return value;
    },
    (error: unknown) => {
      endHandlerSpan(span, error);
      throw error;
    },
  );
}
