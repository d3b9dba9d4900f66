/**
 * What a provider deployment can do. A binding's `capabilities` is a set of these, stored and
 * returned in this order; `/resolve?capability=` requires all those asked for.
 */
export const BINDING_CAPABILITIES = ['chat', 'completion', 'embeddings', 'tools', 'vision', 'json_mode', 'streaming', 'audio', 'reasoning'] as const;
export type BindingCapability = (typeof BINDING_CAPABILITIES)[number];

export function isBindingCapability(value: unknown): value is BindingCapability {
  return typeof value === 'string' && (BINDING_CAPABILITIES as readonly string[]).includes(value);
}

/** Deduplicated, in the enum's order. */
export function normalizeCapabilities(values: Iterable<BindingCapability>): BindingCapability[] {
  const set = new Set(values);
  return BINDING_CAPABILITIES.filter((capability) => set.has(capability));
}
