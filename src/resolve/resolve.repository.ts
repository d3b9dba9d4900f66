import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { BindingCatalogColumns } from '../bindings/bindings.repository';
import type { Requirement } from '../common/labels/selector';
import { selectorAsJson } from '../common/labels/selector-sql';
import { PreparedStatements } from '../database/prepared-statements';
import type { RangeBound } from './semver-range';

/** How the version is chosen. `default`: the alias if the model has it, else the newest live version. */
export type ResolveMode = 'alias' | 'default' | 'latest' | 'exact' | 'range';

export interface ResolveRequest {
  modelName: string;
  mode: ResolveMode;
  alias?: string;
  version?: string;
  bounds?: RangeBound[];
  provider?: string;
  region?: string;
  maxCostPer1k?: number;
  minEvalScore?: number;
  requireSlo: boolean;
  /** Constrains the candidate versions by their labels. */
  selector?: Requirement[];
  /** Constrains the bindings by their labels. */
  bindingSelector?: Requirement[];
  /** Every one of these capabilities is required of a binding. */
  capabilities?: string[];
  /** Only bindings priced in `currency` at most this per 1M input tokens. */
  maxInputCostPer1m?: number;
  /** The currency of maxInputCostPer1m and of the price ranking; default USD. */
  currency?: string;
}

export interface ResolvedBindingRow extends BindingCatalogColumns {
  id: number;
  provider: string;
  provider_model_id: string;
  endpoint_url: string | null;
  config: Record<string, unknown>;
  avg_latency_ms: number | null;
  success_rate: number | null;
  labels: Record<string, string>;
}

export interface ResolveRow {
  model_id: number;
  model_name: string;
  task: string;
  alias_version_id: number | null;
  id: number | null;
  version: string;
  hash: string;
  region: string | null;
  cost_per_1k: number | null;
  eval_score: number | null;
  slo_ok: boolean;
  artifact_uri: string | null;
  labels: Record<string, string>;
  created_at: Date;
  bindings: ResolvedBindingRow[] | null;
}

export interface CandidateRow {
  id: number;
  version: string;
  region: string | null;
  cost_per_1k: number | null;
  eval_score: number | null;
  slo_ok: boolean;
  has_binding: boolean;
  has_provider_binding: boolean;
  matches_selector: boolean;
  /** Whether an active binding (to the provider, if given) passes each binding constraint alone, and all together. */
  has_selected_binding: boolean;
  has_capable_binding: boolean;
  has_affordable_binding: boolean;
  has_usable_binding: boolean;
}

/** The versions a mode considers ($2 mode, $3 alias version, $4 exact version, $5-$9 range bounds). */
const MODE_FILTER = `
  CASE $2
    WHEN 'alias' THEN v.id = a.version_id
    WHEN 'default' THEN (a.version_id IS NULL OR v.id = a.version_id)
    WHEN 'exact' THEN v.version = $4
    WHEN 'range' THEN EXISTS (
      SELECT 1 FROM unnest($5::text[], $6::bool[], $7::text[], $8::bool[], $9::text[]) AS r(lo, loi, hi, hii, pre)
       WHERE (r.lo IS NULL OR v.version_sort_key > r.lo OR (r.loi AND v.version_sort_key = r.lo))
         AND (r.hi IS NULL OR v.version_sort_key < r.hi OR (r.hii AND v.version_sort_key = r.hi))
         AND (position('!' in v.version_sort_key) = 0 OR strpos(r.pre, left(v.version_sort_key, 50)) > 0))
    ELSE true
  END`;

/** Ranges pick the highest version; everything else the newest. */
const MODE_ORDER = `CASE WHEN $2 = 'range' THEN v.version_sort_key END DESC, v.created_at DESC, v.id DESC`;

/** Where the binding constraints are among a query's parameters. */
interface BindingParams {
  provider: string;
  bindingSelector: string;
  capabilities: string;
  maxInputCost: string;
  currency: string;
}

/** Each binding constraint on `pb` alone; an active binding passing all of them is one the request can route to. */
const bindingChecks = (p: BindingParams) => ({
  provider: `(${p.provider}::text IS NULL OR pb.provider = ${p.provider})`,
  selector: `(${p.bindingSelector}::jsonb IS NULL OR registry_labels_match(pb.labels, ${p.bindingSelector}))`,
  capabilities: `(${p.capabilities}::text[] IS NULL OR pb.capabilities @> ${p.capabilities})`,
  price: `(${p.maxInputCost}::numeric IS NULL OR (pb.currency = ${p.currency}::text AND pb.input_per_1m_tokens <= ${p.maxInputCost}))`,
});
const usableBinding = (p: BindingParams) => `pb.status = 'active' AND ${Object.values(bindingChecks(p)).join(' AND ')}`;

/** The binding columns a resolve answer carries, as JSON (one round trip for the version and its bindings). */
const BINDING_JSON = `json_build_object(
             'id', pb.id, 'provider', pb.provider, 'provider_model_id', pb.provider_model_id, 'endpoint_url', pb.endpoint_url,
             'config', pb.config, 'avg_latency_ms', pb.avg_latency_ms, 'success_rate', pb.success_rate, 'labels', pb.labels,
             'input_per_1m_tokens', pb.input_per_1m_tokens, 'output_per_1m_tokens', pb.output_per_1m_tokens, 'currency', pb.currency,
             'context_window', pb.context_window, 'max_output_tokens', pb.max_output_tokens, 'capabilities', pb.capabilities)`;

export interface Statement {
  text: string;
  values: unknown[];
}

/**
 * One round trip: the model, the chosen live version (mode, constraints, at least one usable active
 * binding) and its active bindings — as a statement of this request's *shape*: only the constraints
 * the request has are in the text, and the mode's filter is written out. Run as a named prepared
 * statement, each shape is then planned once per connection: PostgreSQL's generic plan of a statement
 * whose absent constraints are `$n IS NULL OR …` parameters looked dearer than re-planning on every
 * call, which cost ~0.5 ms of planning per resolve (3-5 × the execution). Shapes are mode × which
 * constraints are present: a client could vary them, so they are named within a budget of their own
 * (STATEMENT_BUDGETS); the values are always parameters.
 */
export function resolveStatement(request: ResolveRequest): Statement {
  const values: unknown[] = [];
  const param = (value: unknown, cast = ''): string => `$${values.push(value)}${cast}`;

  const name = param(request.modelName);
  const aliasJoin = request.alias === undefined ? '' : `\n  LEFT JOIN model_aliases a ON a.model_id = m.id AND a.alias = ${param(request.alias)}`;
  const aliasVersion = request.alias === undefined ? 'NULL::bigint' : 'a.version_id';

  const versionFilters: string[] = [];
  switch (request.mode) {
    case 'alias':
      versionFilters.push(`v.id = ${aliasVersion}`);
      break;
    case 'default':
      versionFilters.push(`(${aliasVersion} IS NULL OR v.id = ${aliasVersion})`);
      break;
    case 'exact':
      versionFilters.push(`v.version = ${param(request.version ?? null, '::text')}`);
      break;
    case 'range': {
      const bounds = request.bounds ?? [];
      const arrays = [
        param(bounds.map((b) => b.low), '::text[]'),
        param(bounds.map((b) => b.lowInclusive), '::bool[]'),
        param(bounds.map((b) => b.high), '::text[]'),
        param(bounds.map((b) => b.highInclusive), '::bool[]'),
        param(bounds.map((b) => b.prereleaseCores), '::text[]'),
      ];
      versionFilters.push(`EXISTS (
      SELECT 1 FROM unnest(${arrays.join(', ')}) AS r(lo, loi, hi, hii, pre)
       WHERE (r.lo IS NULL OR v.version_sort_key > r.lo OR (r.loi AND v.version_sort_key = r.lo))
         AND (r.hi IS NULL OR v.version_sort_key < r.hi OR (r.hii AND v.version_sort_key = r.hi))
         AND (position('!' in v.version_sort_key) = 0 OR strpos(r.pre, left(v.version_sort_key, 50)) > 0))`);
      break;
    }
    case 'latest':
      break;
  }
  if (request.region !== undefined) versionFilters.push(`v.region = ${param(request.region, '::text')}`);
  if (request.maxCostPer1k !== undefined) versionFilters.push(`v.cost_per_1k <= ${param(request.maxCostPer1k, '::numeric')}`);
  if (request.minEvalScore !== undefined) versionFilters.push(`v.eval_score >= ${param(request.minEvalScore, '::float8')}`);
  if (request.requireSlo) versionFilters.push('v.slo_ok');
  const selector = selectorAsJson(request.selector ?? []);
  if (selector !== null) versionFilters.push(`registry_labels_match(v.labels, ${param(selector, '::jsonb')})`);

  const bindingFilters = ["pb.status = 'active'"];
  if (request.provider !== undefined) bindingFilters.push(`pb.provider = ${param(request.provider, '::text')}`);
  const bindingSelector = selectorAsJson(request.bindingSelector ?? []);
  if (bindingSelector !== null) bindingFilters.push(`registry_labels_match(pb.labels, ${param(bindingSelector, '::jsonb')})`);
  if (request.capabilities && request.capabilities.length > 0) bindingFilters.push(`pb.capabilities @> ${param(request.capabilities, '::text[]')}`);
  if (request.maxInputCostPer1m !== undefined) {
    bindingFilters.push(`pb.currency = ${param(request.currency ?? 'USD', '::text')} AND pb.input_per_1m_tokens <= ${param(request.maxInputCostPer1m, '::numeric')}`);
  }
  const usable = bindingFilters.join(' AND ');
  const order = request.mode === 'range' ? 'v.version_sort_key DESC, v.created_at DESC, v.id DESC' : 'v.created_at DESC, v.id DESC';

  const text = `
SELECT m.id AS model_id, m.name AS model_name, m.task, ${aliasVersion} AS alias_version_id,
       v.id, v.version, v.hash, v.region, v.cost_per_1k, v.eval_score, v.slo_ok, v.artifact_uri, v.labels, v.created_at,
       bb.bindings
  FROM models m${aliasJoin}
  LEFT JOIN LATERAL (
    SELECT v.* FROM model_versions v
     WHERE v.model_id = m.id AND v.archived_at IS NULL${versionFilters.map((filter) => `\n       AND ${filter}`).join('')}
       AND EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND ${usable})
     ORDER BY ${order}
     LIMIT 1) v ON true
  LEFT JOIN LATERAL (
    SELECT json_agg(${BINDING_JSON} ORDER BY pb.id) AS bindings
      FROM provider_bindings pb
     WHERE pb.version_id = v.id AND ${usable}) bb ON true
 WHERE m.name = ${name}`;
  return { text, values };
}

/** The candidates query's own numbering: the mode parameters ($1-$10), then $11 selector and the binding constraints. */
const CANDIDATE_BINDING: BindingParams = { provider: '$10', bindingSelector: '$12', capabilities: '$13', maxInputCost: '$14', currency: '$15' };
const candidateCheck = (check: keyof ReturnType<typeof bindingChecks>) =>
  `EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND pb.status = 'active' AND ${bindingChecks(CANDIDATE_BINDING).provider} AND ${bindingChecks(CANDIDATE_BINDING)[check]})`;

/** Only when nothing matched: every version the mode considers, with what each constraint says of it. */
const CANDIDATES_SQL = `
SELECT v.id, v.version, v.region, v.cost_per_1k, v.eval_score, v.slo_ok,
       ($11::jsonb IS NULL OR registry_labels_match(v.labels, $11)) AS matches_selector,
       EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND pb.status = 'active') AS has_binding,
       EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND pb.status = 'active' AND pb.provider = $10) AS has_provider_binding,
       ${candidateCheck('selector')} AS has_selected_binding,
       ${candidateCheck('capabilities')} AS has_capable_binding,
       ${candidateCheck('price')} AS has_affordable_binding,
       EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND ${usableBinding(CANDIDATE_BINDING)}) AS has_usable_binding
  FROM models m
  LEFT JOIN model_aliases a ON a.model_id = m.id AND a.alias = $3
  JOIN model_versions v ON v.model_id = m.id AND v.archived_at IS NULL
 WHERE m.name = $1 AND ${MODE_FILTER}
 ORDER BY ${MODE_ORDER}
 LIMIT 200`;

/** A model's live versions, highest first: what a version or range that matched nothing was compared with. */
const LIVE_VERSIONS_SQL = `
SELECT v.version FROM models m JOIN model_versions v ON v.model_id = m.id AND v.archived_at IS NULL
 WHERE m.name = $1 ORDER BY v.version_sort_key DESC, v.id DESC LIMIT $2`;

/** The parameters of the candidates query (in its own numbering, see candidates()). */
export function resolveParams(request: ResolveRequest): unknown[] {
  const bounds = request.bounds ?? [];
  return [
    request.modelName,
    request.mode,
    request.alias ?? null,
    request.version ?? null,
    bounds.map((b) => b.low),
    bounds.map((b) => b.lowInclusive),
    bounds.map((b) => b.high),
    bounds.map((b) => b.highInclusive),
    bounds.map((b) => b.prereleaseCores),
    request.provider ?? null,
    request.region ?? null,
    request.maxCostPer1k ?? null,
    request.minEvalScore ?? null,
    request.requireSlo,
    selectorAsJson(request.selector ?? []),
    selectorAsJson(request.bindingSelector ?? []),
    request.capabilities && request.capabilities.length > 0 ? request.capabilities : null,
    request.maxInputCostPer1m ?? null,
    request.currency ?? 'USD',
  ];
}

@Injectable()
export class ResolveRepository {
  constructor(
    private readonly prepared: PreparedStatements,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Undefined when the model does not exist; a row with id null when no version qualified. */
  async resolve(request: ResolveRequest): Promise<ResolveRow | undefined> {
    const { text, values } = resolveStatement(request);
    const rows: ResolveRow[] = await this.prepared.query(text, values, 'resolve');
    return rows[0];
  }

  async liveVersions(modelName: string, limit: number): Promise<string[]> {
    const rows: { version: string }[] = await this.dataSource.query(LIVE_VERSIONS_SQL, [modelName, limit]);
    return rows.map((row) => row.version);
  }

  candidates(request: ResolveRequest): Promise<CandidateRow[]> {
    const params = resolveParams(request);
    // The mode parameters and the provider ($1-$10), then the label and binding constraints.
    return this.dataSource.query(CANDIDATES_SQL, [...params.slice(0, 10), ...params.slice(14)]);
  }
}
