import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { Webhook } from 'standardwebhooks';
import { bareHost, isIpLiteral, judgeAddress, type AddressVerdict } from '../common/net/address-policy';
import { webhookConfig } from '../config/webhook.config';
import { describeVerdict, HostResolver } from './webhook-url-policy';

/** Response bodies are kept up to this many bytes (the rest is not even read). */
export const MAX_RESPONSE_BODY_BYTES = 1024;
const USER_AGENT = 'model-registry-webhooks/1';

export type AttemptOutcome = 'delivered' | 'http_status' | 'timeout' | 'connection' | 'tls' | 'blocked';

export interface AttemptResult {
  ok: boolean;
  outcome: AttemptOutcome;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
}

export interface OutgoingMessage {
  /** `webhook-id`: the same for every attempt of a message, so receivers can deduplicate. */
  id: string;
  /** The exact bytes sent and signed. */
  body: string;
  /** Every secret to sign with (after a rotation, the new one and the old one). */
  secrets: string[];
}

class BlockedAddressError extends Error {
  /** `hostname`: the name that resolved to the address (none for an IP address in the URL). */
  constructor(verdict: AddressVerdict, hostname?: string) {
    super(`blocked: ${hostname ? `${hostname} resolves to ` : ''}${describeVerdict(verdict)}`);
  }
}

class AttemptTimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/** One `v1,<base64>` signature per secret, space-separated (Standard Webhooks allows several). */
export function signatureHeader(secrets: string[], id: string, timestamp: Date, body: string): string {
  return secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' ');
}

/** Up to 1 KiB of a response body as text (PostgreSQL text cannot hold NUL). */
export function keptResponseBody(bytes: Buffer): string | null {
  if (bytes.length === 0) return null;
  let text = bytes.subarray(0, MAX_RESPONSE_BODY_BYTES).toString('utf8').replace(/\u0000/g, '');
  // A multi-byte character cut at the limit decodes to U+FFFD (3 bytes): trim until it fits.
  while (Buffer.byteLength(text) > MAX_RESPONSE_BODY_BYTES) text = text.slice(0, -1);
  return text;
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|ERR_OSSL)/;

function describeError(error: Error & { code?: string }): Pick<AttemptResult, 'outcome' | 'error'> {
  if (error instanceof BlockedAddressError) return { outcome: 'blocked', error: error.message };
  if (error instanceof AttemptTimeoutError) return { outcome: 'timeout', error: error.message };
  const code = error.code ?? '';
  const text = `${code ? `${code}: ` : ''}${error.message}`.slice(0, 500);
  return { outcome: TLS_CODES.test(code) ? 'tls' : 'connection', error: text };
}

/**
 * Sends one signed delivery over HTTP(S): POST, the Standard Webhooks headers, a hard deadline of
 * WEBHOOK_TIMEOUT_MS for the whole exchange, no redirects (Node's client never follows them; a 3xx is
 * a failed attempt), and — unless WEBHOOK_ALLOW_PRIVATE_NETWORKS — no private destination: names are
 * resolved by our own `lookup`, which refuses any non-public answer, so the address checked is the
 * address connected to (a DNS answer that changes after the subscription was checked cannot steer a
 * delivery inside), and the socket's remote address is checked again once connected.
 */
@Injectable()
export class WebhookSender implements OnModuleDestroy {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly resolver: HostResolver,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {
    const extraCa = config.caFile ? readFileSync(config.caFile, 'utf8') : undefined;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ...(extraCa ? { ca: [...rootCertificates, extraCa] } : {}) });
  }

  onModuleDestroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private readonly guardedLookup: LookupFunction = (hostname, options, callback) => {
    this.resolver.resolve(hostname).then(
      (all) => {
        const addresses = options.family === 4 || options.family === 6 ? all.filter((entry) => entry.family === options.family) : all;
        if (!this.config.allowPrivateNetworks) {
          const blocked = addresses.map((entry) => judgeAddress(entry.address)).find((verdict) => !verdict.allowed);
          if (blocked) return callback(new BlockedAddressError(blocked, hostname), '', 0);
        }
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 0);
        if (options.all) return (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(null, addresses);
        return callback(null, addresses[0].address, addresses[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };

  send(target: string, message: OutgoingMessage): Promise<AttemptResult> {
    const started = performance.now();
    const timeoutMs = this.config.timeoutMs;
    return new Promise<AttemptResult>((resolve) => {
      const attempt: { settled: boolean; deadline?: NodeJS.Timeout } = { settled: false };
      const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
        if (attempt.settled) return;
        attempt.settled = true;
        clearTimeout(attempt.deadline);
        resolve({ ...result, durationMs: Math.round(performance.now() - started) });
      };
      const fail = (error: Error) => finish({ ok: false, statusCode: null, responseBody: null, ...describeError(error) });

      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return fail(Object.assign(new Error('the stored URL is not valid'), { code: 'ERR_INVALID_URL' }));
      }
      const host = bareHost(url.hostname);
      if (!this.config.allowPrivateNetworks) {
        if (url.protocol !== 'https:') return fail(Object.assign(new Error('plain http is refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)'), { code: 'EPROTO' }));
        const verdict = isIpLiteral(url.hostname) ? judgeAddress(host) : undefined;
        if (verdict && !verdict.allowed) return fail(new BlockedAddressError(verdict));
      }

      const body = Buffer.from(message.body, 'utf8');
      const timestamp = new Date();
      const request = (url.protocol === 'https:' ? https : http).request({
        method: 'POST',
        protocol: url.protocol,
        hostname: host,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent,
        lookup: this.guardedLookup,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'user-agent': USER_AGENT,
          'webhook-id': message.id,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signatureHeader(message.secrets, message.id, timestamp, message.body),
        },
      });
      attempt.deadline = setTimeout(() => request.destroy(new AttemptTimeoutError(timeoutMs)), timeoutMs);

      request.on('socket', (socket: Socket) => {
        if (this.config.allowPrivateNetworks) return;
        const checkPeer = () => {
          const verdict = judgeAddress(socket.remoteAddress ?? '');
          if (!verdict.allowed) request.destroy(new BlockedAddressError(verdict, isIpLiteral(url.hostname) ? undefined : host));
        };
        if (socket.connecting) socket.once('connect', checkPeer);
        else checkPeer();
      });
      request.on('response', (response) => {
        const statusCode = response.statusCode ?? 0;
        const ok = statusCode >= 200 && statusCode < 300;
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          finish({ ok, outcome: ok ? 'delivered' : 'http_status', statusCode, responseBody: keptResponseBody(Buffer.concat(chunks)), error: ok ? null : `HTTP ${statusCode}` });
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // Enough is kept: stop reading (the status already decided the outcome).
          if (size >= MAX_RESPONSE_BODY_BYTES) {
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('close', done);
        response.on('error', done);
      });
      request.on('error', fail);
      request.end(body);
    });
  }
}
