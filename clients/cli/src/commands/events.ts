import { unwrap, type Schemas } from '@model-registry/client';
import { Command } from 'commander';
import { createParser } from 'eventsource-parser';
import { Context } from '../context';
import * as parse from '../options';

type Event = Schemas['Event'];

interface TailOptions {
  follow?: boolean;
  after?: string;
  model?: string[];
  type?: string[];
  interval: number;
}

function eventLine(event: Event): string {
  const parts = [event.occurred_at, event.type, `model=${event.model_id ?? '-'}`];
  if (event.version_id !== null) parts.push(`version=${event.version_id}`);
  if (event.binding_id !== null) parts.push(`binding=${event.binding_id}`);
  if (event.alias !== null) parts.push(`alias=${event.alias}`);
  if (event.data && Object.keys(event.data).length > 0) parts.push(JSON.stringify(event.data));
  parts.push(`actor=${event.actor ?? '-'}`);
  return parts.join('  ');
}

/** The stream's own filters, applied here when polling: model ids, and types or families (`version.*`). */
/** Other names the registry accepts for an event type (events always carry the feed's name). */
const TYPE_SYNONYMS: Readonly<Record<string, string>> = { 'alias.updated': 'alias.set' };

function matcher(modelIds: number[], types: string[]): (event: Event) => boolean {
  const wanted = types.map((type) => TYPE_SYNONYMS[type] ?? type);
  return (event) =>
    (modelIds.length === 0 || (event.model_id !== null && modelIds.includes(event.model_id))) &&
    (wanted.length === 0 || wanted.some((type) => (type.endsWith('.*') ? event.type.startsWith(type.slice(0, -1)) : event.type === type)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class Tail {
  private readonly matches: (event: Event) => boolean;

  constructor(
    private readonly ctx: Context,
    private readonly modelIds: number[],
    private readonly types: string[],
  ) {
    this.matches = matcher(modelIds, types);
  }

  print(event: Event): void {
    if (this.ctx.out.json) this.ctx.out.printJsonLine(event);
    else this.ctx.out.line(eventLine(event));
  }

  /** Reads `GET /events` pages from `after` until the head; returns the cursor to continue from. */
  async drain(after: string | undefined): Promise<string> {
    let cursor = after;
    for (;;) {
      const page = await unwrap(this.ctx.api.GET('/events', { params: { query: { limit: 100, ...(cursor === undefined ? {} : { after: cursor }) } } }));
      for (const event of page.items) if (this.matches(event)) this.print(event);
      cursor = page.next_cursor;
      if (page.items.length < 100) return cursor;
    }
  }

  /** Follows by polling `GET /events` every `intervalMs` (registries without the push stream). */
  async poll(after: string, intervalMs: number): Promise<never> {
    let cursor = after;
    for (;;) {
      cursor = await this.drain(cursor);
      await sleep(intervalMs);
    }
  }

  /**
   * Follows the push stream (`GET /events/stream`), resuming with Last-Event-ID whenever it ends.
   * Returns false, having printed nothing, when the registry has no stream (404): then poll.
   */
  async stream(after: string): Promise<boolean> {
    let lastId: string | undefined;
    let retryMs = 2_000;
    for (;;) {
      const url = new URL(`${this.ctx.options.baseUrl.replace(/\/+$/, '')}/events/stream`);
      url.searchParams.set('after', after);
      if (this.modelIds.length > 0) url.searchParams.set('model', this.modelIds.join(','));
      if (this.types.length > 0) url.searchParams.set('type', this.types.join(','));
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      const token = this.ctx.options.apiKey || process.env.MODEL_REGISTRY_API_KEY;
      if (token) headers.authorization = `Bearer ${token}`;
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      const response = await this.ctx.fetch(new Request(url, { headers }));
      if (response.status === 404 && lastId === undefined) {
        await response.body?.cancel();
        return false;
      }
      if (!response.ok || !response.body) {
        const body = (await response.json().catch(() => undefined)) as unknown;
        // A problem: the same handling as any refused request (exit 1, or 3 for 503).
        await unwrap(Promise.resolve({ error: body, response }));
      }
      const parser = createParser({
        onEvent: (message) => {
          if (message.id !== undefined) lastId = message.id;
          this.print(JSON.parse(message.data) as Event);
        },
        onRetry: (ms) => {
          retryMs = ms;
        },
      });
      const decoder = new TextDecoder();
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch {
        // The connection broke mid-stream: resume below, as after a clean end.
      }
      await sleep(retryMs);
    }
  }
}

export function eventsCommand(): Command {
  const events = new Command('events').description('Read the change feed.');
  events
    .command('tail')
    .description(
      'Print change-feed events: from --after (default: the oldest retained; with --follow: now) up to the newest; with --follow, keep printing new ones ' +
        'from the push stream (or by polling GET /events where there is none). With --json, one event JSON per line.',
    )
    .option('-f, --follow', 'keep following new events')
    .option('--after <cursor>', 'start after this cursor (a next_cursor or event id from before), or "now"')
    .option('--model <names>', 'only events of these models (comma-separated, repeatable)', parse.list)
    .option('--type <types>', 'only these event types or families, e.g. version.*,alias.set (comma-separated, repeatable)', parse.list)
    .option('--interval <seconds>', 'with --follow, when polling: seconds between polls', parse.seconds, 2_000)
    .action(async (options: TailOptions, command: Command) => {
      const ctx = Context.of(command);
      const modelIds = await Promise.all((options.model ?? []).map(async (name) => (await ctx.model(name)).id));
      const tail = new Tail(ctx, modelIds, options.type ?? []);
      if (!options.follow) {
        await tail.drain(options.after);
        return;
      }
      // "now" is anchored to a cursor once, so the stream's reconnects (even before its first event) and
      // the polls continue from one place instead of from a later "now", which would drop what came between.
      const after = options.after ?? 'now';
      const start = after === 'now' ? (await unwrap(ctx.api.GET('/events', { params: { query: { after: 'now', limit: 1 } } }))).next_cursor : after;
      if (!(await tail.stream(start))) {
        ctx.out.note('this registry has no event stream: polling GET /events');
        await tail.poll(start, options.interval);
      }
    });
  return events;
}

