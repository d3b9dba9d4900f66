import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SseMessage {
  id?: string;
  data: string;
  /** When the message was parsed (Date.now()). */
  at: number;
}

/**
 * A Server-Sent Events client over a raw HTTP connection that parses the stream as the SSE spec says
 * (fields per line, a blank line dispatches; comment lines count as heartbeats), so tests see exactly
 * what an EventSource would.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The body when the server answered with something other than an event stream. */
  body = '';
  ended = false;
  retry?: number;
  private response?: IncomingMessage;
  private requestRef?: ClientRequest;
  private buffer = '';
  private current: { id?: string; data: string[] } = { data: [] };

  private constructor() {}

  /** Connects and resolves once the response headers arrived. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
        client.response = res;
        client.status = res.statusCode ?? 0;
        client.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (client.status === 200 ? client.parse(chunk) : (client.body += chunk)));
        res.on('end', () => (client.ended = true));
        res.on('close', () => (client.ended = true));
        res.on('error', () => (client.ended = true));
        resolve(client);
      });
      client.requestRef = req;
      req.on('error', reject);
      req.end();
    });
  }

  get ids(): string[] {
    return this.messages.map((m) => m.id ?? '');
  }

  json<T = Record<string, unknown>>(): T[] {
    return this.messages.map((m) => JSON.parse(m.data) as T);
  }

  /** The id an EventSource would send as Last-Event-ID on reconnecting. */
  get lastEventId(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].id !== undefined) return this.messages[i].id;
    return undefined;
  }

  async waitFor(predicate: (client: SseClient) => boolean, timeoutMs = 5_000): Promise<void> {
    const started = Date.now();
    while (!predicate(this)) {
      if (Date.now() - started > timeoutMs) throw new Error(`SSE condition not met within ${timeoutMs} ms (${this.messages.length} messages, ended: ${this.ended})`);
      await sleep(10);
    }
  }

  /** Stops reading: the server's writes back up into its buffers. */
  pause(): void {
    this.response?.pause();
  }

  close(): void {
    this.requestRef?.destroy();
    this.response?.destroy();
  }

  private parse(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + (this.buffer.startsWith('\r\n', newline) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.current.data.length > 0) this.messages.push({ id: this.current.id, data: this.current.data.join('\n'), at: Date.now() });
      this.current = { data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.current.data.push(value);
    else if (field === 'id') this.current.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
  }
}
