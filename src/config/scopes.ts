/**
 * What a caller may do. Each route declares the scopes that let a caller through (any one of them);
 * `admin` passes everywhere. No scope implies another: a key for "register but never delete" is
 * `registry:write` (plus `registry:read` to look things up). The list lives with the configuration
 * because the environment names scopes too (AUTH_OIDC_SUBJECT_SCOPES) and is checked against it at boot.
 */
export const SCOPES = ['registry:read', 'registry:write', 'registry:manage', 'usage:report', 'retention:run', 'admin'] as const;

export type Scope = (typeof SCOPES)[number];

export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'registry:read': 'Every GET of the registry: models, versions, bindings, aliases, /resolve, /events, /stats.',
  'registry:write': 'Create models, versions and bindings.',
  'registry:manage': 'Update and delete models, versions and bindings; set and remove aliases; restore archived versions.',
  'usage:report': 'Report binding usage (POST /bindings/{id}/usage).',
  'retention:run': 'Apply retention and read retention runs.',
  admin: 'Everything, including API keys and the audit log.',
};

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value);
}
