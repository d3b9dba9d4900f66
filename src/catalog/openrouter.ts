import { rankForRouting } from '../resolve/ranking';
import { perToken } from './decimal';
import type { CatalogBinding } from './litellm';

/** A binding with what the routing order needs. */
export interface RoutableCatalogBinding extends CatalogBinding {
  model_description: string | null;
  version_created_at: Date;
  slo_ok: boolean;
  cost_per_1k: number | null;
  avg_latency_ms: number | null;
  success_rate: number | null;
}

/** One model of OpenRouter's `GET /api/v1/models` (https://openrouter.ai/docs/guides/overview/models). */
export interface OpenRouterModel {
  id: string;
  canonical_slug: string;
  name: string;
  created: number;
  description: string;
  context_length: number | null;
  architecture: {
    modality: string;
    input_modalities: string[];
    output_modalities: string[];
    tokenizer: string;
    instruct_type: string | null;
  };
  pricing?: { prompt: string; completion: string };
  top_provider: { context_length: number | null; max_completion_tokens: number | null; is_moderated: boolean };
  per_request_limits: null;
  supported_parameters: string[];
}

const PARAMETERS: [string, string[]][] = [
  ['tools', ['tools', 'tool_choice']],
  ['json_mode', ['response_format', 'structured_outputs']],
  ['reasoning', ['reasoning', 'include_reasoning']],
];

const usdPrice = (b: CatalogBinding) => (b.currency === 'USD' && b.input_per_1m_tokens !== null && b.output_per_1m_tokens !== null ? b : undefined);

/**
 * A registry model (the version a gateway routes to, with its active bindings) as OpenRouter
 * describes a model: `pricing` is the lowest USD price among the bindings (OpenRouter's "lowest price
 * structure", as per-token decimal strings; omitted when no binding is priced in USD), `top_provider`
 * the binding resolve ranks first, `context_length` the largest context window, and the architecture
 * and supported parameters what the bindings' capabilities say.
 */
export function openRouterModel(bindings: RoutableCatalogBinding[]): OpenRouterModel {
  const first = bindings[0];
  const [top] = rankForRouting(
    bindings.map((b) => ({
      ...b,
      id: b.binding_id,
      pricing:
        b.input_per_1m_tokens !== null && b.output_per_1m_tokens !== null && b.currency !== null
          ? { input_per_1m_tokens: Number(b.input_per_1m_tokens), output_per_1m_tokens: Number(b.output_per_1m_tokens), currency: b.currency }
          : null,
    })),
  );
  const capabilities = new Set(bindings.flatMap((b) => b.capabilities));
  const inputs = ['text', ...(capabilities.has('vision') ? ['image'] : []), ...(capabilities.has('audio') ? ['audio'] : [])];
  const outputs = capabilities.has('embeddings') && !capabilities.has('chat') && !capabilities.has('completion') ? ['embeddings'] : ['text'];
  const cheapest = bindings
    .map(usdPrice)
    .filter((b) => b !== undefined)
    .sort((a, b) => Number(a.input_per_1m_tokens) - Number(b.input_per_1m_tokens) || Number(a.output_per_1m_tokens) - Number(b.output_per_1m_tokens))[0];
  const windows = bindings.map((b) => b.context_window).filter((w) => w !== null);
  return {
    id: first.model_name,
    canonical_slug: first.model_name,
    name: first.model_name,
    created: Math.floor(first.version_created_at.getTime() / 1000),
    description: first.model_description ?? '',
    context_length: windows.length > 0 ? Math.max(...windows) : null,
    architecture: {
      modality: `${inputs.join('+')}->${outputs.join('+')}`,
      input_modalities: inputs,
      output_modalities: outputs,
      tokenizer: 'Other',
      instruct_type: null,
    },
    ...(cheapest ? { pricing: { prompt: perToken(cheapest.input_per_1m_tokens!), completion: perToken(cheapest.output_per_1m_tokens!) } } : {}),
    top_provider: { context_length: top.context_window, max_completion_tokens: top.max_output_tokens, is_moderated: false },
    per_request_limits: null,
    supported_parameters: PARAMETERS.filter(([capability]) => capabilities.has(capability)).flatMap(([, parameters]) => parameters),
  };
}
