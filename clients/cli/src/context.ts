import { createRegistryClient, paginate, unwrap, type Model, type RegistryClient, type Version } from '@model-registry/client';
import { type Command } from 'commander';
import { RefusedError, UsageError } from './errors';
import { Output } from './output';
import { DEFAULT_RETRY, retryingFetch, type RetrySettings } from './retry';
import * as parse from './options';

export const DEFAULT_BASE_URL = 'http://localhost:8003';

/** The options every command takes (declared on the program, accepted before or after the command). */
export interface GlobalOptions {
  baseUrl: string;
  apiKey?: string;
  json?: boolean;
  retries: number;
  retryBudget: number;
  timeout: number;
}

/** Reads a number from the environment with the flag's own parser, so a bad value is a usage error naming it. */
function fromEnv<T>(name: string, parser: (value: string) => T, fallback: T): T {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  try {
    return parser(value);
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
}

export function envDefaults() {
  return {
    baseUrl: process.env.MODEL_REGISTRY_URL || DEFAULT_BASE_URL,
    retries: fromEnv('MODEL_REGISTRY_RETRIES', parse.nonNegativeInteger, DEFAULT_RETRY.retries),
    retryBudget: fromEnv('MODEL_REGISTRY_RETRY_BUDGET', parse.seconds, DEFAULT_RETRY.budgetMs),
    timeout: fromEnv('MODEL_REGISTRY_TIMEOUT', parse.seconds, DEFAULT_RETRY.timeoutMs),
  };
}

/** What a command needs: the typed client, the output, and look-ups by name. */
export class Context {
  readonly api: RegistryClient;
  readonly out: Output;
  readonly retry: RetrySettings;
  readonly fetch: (request: Request) => Promise<Response>;

  constructor(readonly options: GlobalOptions) {
    let baseUrl: URL;
    try {
      baseUrl = new URL(options.baseUrl);
    } catch {
      throw new UsageError(`--base-url: ${JSON.stringify(options.baseUrl)} is not a URL.`);
    }
    if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') throw new UsageError('--base-url: must be an http:// or https:// URL.');
    this.out = new Output(options.json === true);
    this.retry = { ...DEFAULT_RETRY, retries: options.retries, budgetMs: options.retryBudget, timeoutMs: options.timeout };
    this.fetch = retryingFetch(this.retry);
    const token = options.apiKey || process.env.MODEL_REGISTRY_API_KEY || undefined;
    this.api = createRegistryClient({
      baseUrl: options.baseUrl,
      ...(token ? { token } : {}),
      // The CLI's fetch retries (connection failures too); the client's own retry would multiply it.
      retry: false,
      fetch: this.fetch,
      headers: { 'user-agent': `model-registry-cli/${CLI_VERSION}` },
    });
  }

  static of(command: Command): Context {
    return new Context(command.optsWithGlobals<GlobalOptions>());
  }

  model(name: string): Promise<Model> {
    return unwrap(this.api.GET('/models/name/{name}', { params: { path: { name } } }));
  }

  /** The version of a model with this version string; a refusal (exit 1) when there is none. */
  async version(model: Model, version: string): Promise<Version> {
    const found = await this.findVersion(model.id, version);
    if (!found) throw new RefusedError('Not found', `Model ${JSON.stringify(model.name)} has no version ${version}.`, { title: 'Not found', status: 404, code: 'not-found', detail: `Model ${JSON.stringify(model.name)} has no version ${version}.`, resource: 'version' });
    return found;
  }

  /** Looks a version string up among the model's versions (newest first; archived ones too). */
  async findVersion(modelId: number, version: string): Promise<Version | undefined> {
    for await (const candidate of paginate((page) => this.api.GET('/versions', { params: { query: { model_id: modelId, sort: '-version', limit: 100, ...page } } }))) {
      if (candidate.version === version) return candidate;
    }
    return undefined;
  }
}

export const CLI_VERSION = '0.1.0';
