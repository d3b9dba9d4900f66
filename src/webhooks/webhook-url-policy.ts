import { lookup } from 'node:dns/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { RequestValidationError } from '../common/errors/application.error';
import { bareHost, isIpLiteral, judgeAddress, type AddressVerdict } from '../common/net/address-policy';
import { MAX_URI_LENGTH } from '../common/validation/validators';
import { webhookConfig } from '../config/webhook.config';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** DNS for webhook hosts: the system resolver (tests replace this provider to map names to addresses). */
@Injectable()
export class HostResolver {
  resolve(hostname: string): Promise<ResolvedAddress[]> {
    return lookup(hostname, { all: true, verbatim: true });
  }
}

const RANGE_WORDS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  uniqueLocal: 'a unique-local (private) address',
  linkLocal: 'a link-local address (where cloud metadata services answer)',
  carrierGradeNat: 'a carrier-grade NAT address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  cloudHost: "a cloud provider's host address",
  invalid: 'not a valid address',
};

/** "127.0.0.1, a loopback address" */
export function describeVerdict(verdict: AddressVerdict): string {
  return `${verdict.address}, ${RANGE_WORDS[verdict.range] ?? `a ${verdict.range} address (not public)`}`;
}

const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * Where a webhook may point. With WEBHOOK_ALLOW_PRIVATE_NETWORKS off (production): https only, no
 * credentials, and a host that is — or resolves only to — public addresses. This is checked when a
 * subscription is created or its URL changed, and again by the sender at every connection, against
 * the address actually connected to (DNS may answer differently the second time).
 */
@Injectable()
export class WebhookUrlPolicy {
  constructor(
    private readonly resolver: HostResolver,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {}

  async check(text: string): Promise<void> {
    const problem = await this.problemWith(text);
    if (problem) throw new RequestValidationError([{ field: 'url', message: problem }]);
  }

  private async problemWith(text: string): Promise<string | undefined> {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'must be an absolute https URL';
    }
    if (text.length > MAX_URI_LENGTH || /\s/.test(text)) return `must be an absolute https URL of at most ${MAX_URI_LENGTH} characters without spaces`;
    const allowPrivate = this.config.allowPrivateNetworks;
    if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
      return allowPrivate ? 'must be an http or https URL' : 'must be an https URL (plain http only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, for development)';
    }
    if (url.username !== '' || url.password !== '') return 'must not contain credentials: receivers authenticate deliveries by their signature';
    if (url.hash !== '' || text.includes('#')) return 'must not contain a fragment';
    if (allowPrivate) return undefined;

    const host = bareHost(url.hostname);
    if (isIpLiteral(url.hostname)) {
      const verdict = judgeAddress(host);
      return verdict.allowed ? undefined : `points at ${describeVerdict(verdict)}: webhooks may only target public addresses`;
    }
    // RFC 6761: *.localhost is loopback whatever DNS says.
    if (host === 'localhost' || host.endsWith('.localhost')) return `host ${host} is loopback: webhooks may only target public addresses`;
    let addresses: ResolvedAddress[];
    try {
      addresses = await withTimeout(this.resolver.resolve(host), RESOLVE_TIMEOUT_MS);
    } catch {
      return `host ${host} does not resolve`;
    }
    if (addresses.length === 0) return `host ${host} does not resolve`;
    const blocked = addresses.map((entry) => judgeAddress(entry.address)).find((verdict) => !verdict.allowed);
    return blocked ? `host ${host} resolves to ${describeVerdict(blocked)}: webhooks may only target public addresses` : undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]);
}
