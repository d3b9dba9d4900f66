/**
 * Named database constraints and what a client should be told when one rejects a request. Entities
 * and migrations use these names; the error translation looks them up, so no driver message is ever
 * shown to a client.
 */
export interface ConstraintDescription {
  field: string;
  message: string;
}

const LABELS_RULE = 'must be at most 64 labels whose keys and values follow the Kubernetes label rules';

export const CONSTRAINTS: Record<string, ConstraintDescription> = {
  uq_models_name: { field: 'name', message: 'a model with this name already exists' },
  ck_models_name: { field: 'name', message: 'must be 1-128 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit' },
  ck_models_task: { field: 'task', message: 'must be a lowercase slug' },
  ck_models_subject: { field: 'subject', message: 'must be a lowercase slug' },
  ck_models_retention_count: { field: 'retention_count', message: 'must be an integer from 1 to 10' },
  uq_model_versions_model_hash: { field: 'hash', message: 'this model already has a version with this hash' },
  uq_model_versions_model_version: { field: 'version', message: 'this model already has this version' },
  fk_model_versions_model: { field: 'model_id', message: 'no model with this id exists' },
  ck_model_versions_hash: { field: 'hash', message: 'must be 64 lowercase hexadecimal characters (SHA-256)' },
  ck_model_versions_eval_score: { field: 'eval_score', message: 'must be a number from 0 to 1' },
  ck_model_versions_cost_per_1k: { field: 'cost_per_1k', message: 'must be zero or more' },
  ck_model_versions_size_bytes: { field: 'size_bytes', message: 'must be an integer from 0 to 2^53-1' },
  uq_provider_bindings_version_provider_model: {
    field: 'provider_model_id',
    message: 'this version already has a binding for this provider and provider_model_id',
  },
  fk_provider_bindings_version: { field: 'version_id', message: 'no version with this id exists' },
  ck_provider_bindings_status: { field: 'status', message: 'must be one of active, inactive, deprecated' },
  ck_provider_bindings_config: { field: 'config', message: 'must be a JSON object of at most 16 KiB' },
  ck_provider_bindings_avg_latency_ms: { field: 'avg_latency_ms', message: 'must be zero or more' },
  ck_provider_bindings_success_rate: { field: 'success_rate', message: 'must be a number from 0 to 1' },
  ck_models_labels: { field: 'labels', message: LABELS_RULE },
  ck_model_versions_labels: { field: 'labels', message: LABELS_RULE },
  ck_provider_bindings_labels: { field: 'labels', message: LABELS_RULE },
  ck_model_versions_metadata: { field: 'metadata', message: 'must be a JSON object of at most 64 KiB' },
  ck_provider_bindings_pricing: { field: 'pricing', message: 'must have input_per_1m_tokens and output_per_1m_tokens zero or more and an ISO 4217 currency' },
  ck_provider_bindings_context_window: { field: 'context_window', message: 'must be a positive integer' },
  ck_provider_bindings_max_output_tokens: { field: 'max_output_tokens', message: 'must be a positive integer' },
  ck_provider_bindings_capabilities: { field: 'capabilities', message: 'must be a set of chat, completion, embeddings, tools, vision, json_mode, streaming, audio, reasoning' },
  fk_webhook_deliveries_webhook: { field: 'webhook_id', message: 'no webhook with this id exists' },
  // 48 random bits: a collision is possible in theory only; the client retries.
  uq_api_keys_prefix: { field: 'key', message: 'a generated key collided with an existing one; send the request again' },
};
