import { normalizeCapabilities, type BindingCapability } from '../bindings/capabilities';
import { MAX_TOKENS } from '../bindings/dto/create-binding.dto';
import { MAX_PRICE_PER_1M_TOKENS } from '../bindings/dto/pricing.dto';
import { per1mTokens, perToken } from './decimal';

/**
 * LiteLLM's names for the registry's providers (https://docs.litellm.ai/docs/providers). The first
 * name is the prefix of `litellm_params.model` in exports; all of them are the `litellm_provider`
 * values and key prefixes an import accepts for the provider. Any other provider slug is its own
 * LiteLLM name (and, with "-" read as "_", e.g. `together-ai` matches `together_ai`).
 */
export const LITELLM_PROVIDERS: Record<string, string[]> = {
  openai: ['openai', 'text-completion-openai'],
  'azure-openai': ['azure', 'azure_text'],
  anthropic: ['anthropic'],
  vertex: ['vertex_ai'],
  bedrock: ['bedrock', 'bedrock_converse'],
  cohere: ['cohere', 'cohere_chat'],
  mistral: ['mistral'],
  groq: ['groq'],
  together: ['together_ai'],
  fireworks: ['fireworks_ai'],
  huggingface: ['huggingface'],
  replicate: ['replicate'],
  ollama: ['ollama', 'ollama_chat'],
  vllm: ['hosted_vllm', 'vllm'],
  // A self-hosted OpenAI-compatible server is called through LiteLLM's openai provider and api_base.
  'self-hosted': ['openai'],
};

export function litellmNamesOf(provider: string): string[] {
  return [...new Set([...(LITELLM_PROVIDERS[provider] ?? []), provider, provider.replaceAll('-', '_')])];
}

/** Whether an entry's `litellm_provider` (e.g. `vertex_ai-language-models`) is the binding's provider. */
export function providerAccepts(provider: string, litellmProvider: unknown): boolean {
  if (typeof litellmProvider !== 'string') return false;
  return litellmNamesOf(provider).some((name) => litellmProvider === name || litellmProvider.startsWith(`${name}-`));
}

/** What a catalog export knows of one active binding. Prices are decimal text per 1M tokens. */
export interface CatalogBinding {
  binding_id: number;
  model_name: string;
  provider: string;
  provider_model_id: string;
  endpoint_url: string | null;
  input_per_1m_tokens: string | null;
  output_per_1m_tokens: string | null;
  currency: string | null;
  context_window: number | null;
  max_output_tokens: number | null;
  capabilities: string[];
}

export interface LiteLlmDeployment {
  model_name: string;
  litellm_params: { model: string; api_base?: string };
  model_info: Record<string, string | number | boolean>;
}

/** LiteLLM `mode` from capabilities: chat before completion before embedding. */
function modeOf(capabilities: Set<string>): string | undefined {
  if (capabilities.has('chat')) return 'chat';
  if (capabilities.has('completion')) return 'completion';
  if (capabilities.has('embeddings')) return 'embedding';
  return undefined;
}

/**
 * One entry of a LiteLLM proxy `model_list` (https://docs.litellm.ai/docs/proxy/configs): the model
 * name clients ask for, the deployment to call, and `model_info` with the keys of LiteLLM's
 * model_prices_and_context_window.json. Costs are exported only for USD prices (LiteLLM's are USD).
 * Capability flags are written only when the binding declares capabilities; streaming is never
 * written as false, since LiteLLM assumes it when the flag is absent.
 */
export function liteLlmDeployment(binding: CatalogBinding): LiteLlmDeployment {
  const info: Record<string, string | number | boolean> = { id: `registry-binding-${binding.binding_id}` };
  const capabilities = new Set(binding.capabilities);
  const mode = modeOf(capabilities);
  if (mode) info.mode = mode;
  if (binding.currency === 'USD' && binding.input_per_1m_tokens !== null && binding.output_per_1m_tokens !== null) {
    info.input_cost_per_token = Number(perToken(binding.input_per_1m_tokens));
    info.output_cost_per_token = Number(perToken(binding.output_per_1m_tokens));
  }
  // max_tokens is LiteLLM's legacy field: the output limit when known, else the input limit.
  const maxTokens = binding.max_output_tokens ?? binding.context_window;
  if (maxTokens !== null) info.max_tokens = maxTokens;
  if (binding.context_window !== null) info.max_input_tokens = binding.context_window;
  if (binding.max_output_tokens !== null) info.max_output_tokens = binding.max_output_tokens;
  if (capabilities.size > 0) {
    info.supports_function_calling = capabilities.has('tools');
    info.supports_tool_choice = capabilities.has('tools');
    info.supports_vision = capabilities.has('vision');
    info.supports_response_schema = capabilities.has('json_mode');
    info.supports_reasoning = capabilities.has('reasoning');
    info.supports_audio_input = capabilities.has('audio');
    info.supports_audio_output = capabilities.has('audio');
    if (capabilities.has('streaming')) info.supports_native_streaming = true;
  }
  return {
    model_name: binding.model_name,
    litellm_params: {
      model: `${litellmNamesOf(binding.provider)[0]}/${binding.provider_model_id}`,
      ...(binding.endpoint_url !== null ? { api_base: binding.endpoint_url } : {}),
    },
    model_info: info,
  };
}

/** What an entry of model_prices_and_context_window.json gives a binding. */
export interface ImportedSpec {
  litellm_provider?: string;
  pricing?: { input_per_1m_tokens: number; output_per_1m_tokens: number; currency: 'USD' };
  context_window?: number;
  max_output_tokens?: number;
  capabilities: BindingCapability[];
}

export interface ParsedEntry {
  spec: ImportedSpec;
  /** Fields that were present but unusable (wrong type, out of range): ignored. */
  problems: string[];
}

const MAX_COST_PER_TOKEN = MAX_PRICE_PER_1M_TOKENS / 1_000_000;

const MODE_CAPABILITIES: Record<string, BindingCapability> = {
  chat: 'chat',
  responses: 'chat',
  completion: 'completion',
  embedding: 'embeddings',
  audio_transcription: 'audio',
  audio_speech: 'audio',
};

const FLAG_CAPABILITIES: [string, BindingCapability][] = [
  ['supports_function_calling', 'tools'],
  ['supports_parallel_function_calling', 'tools'],
  ['supports_tool_choice', 'tools'],
  ['supports_vision', 'vision'],
  ['supports_response_schema', 'json_mode'],
  ['supports_native_streaming', 'streaming'],
  ['supports_audio_input', 'audio'],
  ['supports_audio_output', 'audio'],
  ['supports_reasoning', 'reasoning'],
];

/**
 * Reads one entry of LiteLLM's price file, defensively: it is client input. Unusable fields are
 * reported and ignored; undefined when the entry is not an object.
 */
export function parseLiteLlmEntry(entry: unknown): ParsedEntry | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  const fields = entry as Record<string, unknown>;
  const problems: string[] = [];
  const spec: ImportedSpec = { capabilities: [] };

  if (typeof fields.litellm_provider === 'string') spec.litellm_provider = fields.litellm_provider;

  const cost = (name: string): number | undefined => {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_COST_PER_TOKEN) {
      problems.push(`${name}: must be a number from 0 to ${MAX_COST_PER_TOKEN}`);
      return undefined;
    }
    return value;
  };
  const input = cost('input_cost_per_token');
  const output = cost('output_cost_per_token');
  // LiteLLM counts a missing output price as 0 (embeddings); without an input price there is none.
  // Rounded as the numeric(20,10) columns store them, so a second import finds nothing changed.
  const per1m = (perTokenPrice: number) => Number(per1mTokens(perTokenPrice).toFixed(10));
  if (input !== undefined) spec.pricing = { input_per_1m_tokens: per1m(input), output_per_1m_tokens: per1m(output ?? 0), currency: 'USD' };

  const tokens = (name: string): number | undefined => {
    const value = fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TOKENS) {
      problems.push(`${name}: must be an integer from 1 to ${MAX_TOKENS}`);
      return undefined;
    }
    return value;
  };
  spec.context_window = tokens('max_input_tokens');
  spec.max_output_tokens = tokens('max_output_tokens');

  const capabilities: BindingCapability[] = [];
  if (fields.mode !== undefined) {
    if (typeof fields.mode === 'string') {
      if (Object.prototype.hasOwnProperty.call(MODE_CAPABILITIES, fields.mode)) capabilities.push(MODE_CAPABILITIES[fields.mode]);
    } else {
      problems.push('mode: must be a string');
    }
  }
  for (const [flag, capability] of FLAG_CAPABILITIES) {
    const value = fields[flag];
    if (value === true) capabilities.push(capability);
    else if (value !== undefined && value !== null && value !== false) problems.push(`${flag}: must be true or false`);
  }
  spec.capabilities = normalizeCapabilities(capabilities);
  return { spec, problems };
}

/** A binding as the import matches and updates it. */
export interface ImportTarget {
  id: number;
  provider: string;
  provider_model_id: string;
}

/**
 * The key of the price file that describes a binding, or undefined. Most specific first:
 * `<litellm name of the provider>/<provider_model_id>` (`azure/gpt-4o`, `bedrock/anthropic.claude-…`),
 * then `<provider_model_id>` itself when its entry's `litellm_provider` is the binding's provider (so
 * `gpt-4o`, an OpenAI entry, never prices an Azure deployment).
 */
export function matchingKey(target: ImportTarget, entries: ReadonlyMap<string, unknown>): string | undefined {
  for (const name of litellmNamesOf(target.provider)) {
    const key = `${name}/${target.provider_model_id}`;
    if (entries.has(key)) return key;
  }
  const entry = entries.get(target.provider_model_id);
  if (entry !== null && typeof entry === 'object' && !Array.isArray(entry) && providerAccepts(target.provider, (entry as Record<string, unknown>).litellm_provider)) {
    return target.provider_model_id;
  }
  return undefined;
}

/** The provider_model_ids a key could match: the key itself, and the key without its provider prefix. */
export function candidateModelIds(key: string): string[] {
  const slash = key.indexOf('/');
  return slash > 0 ? [key, key.slice(slash + 1)] : [key];
}
