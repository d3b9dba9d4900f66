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

/** Collects a statement's values: `param(value, cast)` appends one and returns its placeholder. */
function parameters() {
  const values: unknown[] = [];
  return { values, param: (value: unknown, cast = ''): string => `$${values.push(value)}${cast}` };
}
type Param = ReturnType<typeof parameters>['param'];

/** The alias join (only when the request names an alias) and the column holding the alias's version. */
function aliasOf(request: ResolveRequest, param: Param): { join: string; version: string } {
  if (request.alias === undefined) return { join: '', version: 'NULL::bigint' };
  return { join: `\n  LEFT JOIN model_aliases a ON a.model_id = m.id AND a.alias = ${param(request.alias)}`, version: 'a.version_id' };
}

/** The versions the request's mode considers (`latest`: every live one). */
function modeFilter(request: ResolveRequest, aliasVersion: string, param: Param): string | undefined {
  switch (request.mode) {
    case 'alias':
      return `v.id = ${aliasVersion}`;
    case 'default':
      return `(${aliasVersion} IS NULL OR v.id = ${aliasVersion})`;
    case 'exact':
      return `v.version = ${param(request.version ?? null, '::text')}`;
    case 'range': {
      const bounds = request.bounds ?? [];
      const arrays = [
        param(bounds.map((b) => b.low), '::text[]'),
        param(bounds.map((b) => b.lowInclusive), '::bool[]'),
        param(bounds.map((b) => b.high), '::text[]'),
        param(bounds.map((b) => b.highInclusive), '::bool[]'),
        param(bounds.map((b) => b.prereleaseCores), '::text[]'),
      ];
      return `EXISTS (
      SELECT 1 FROM unnest(${arrays.join(', ')}) AS r(lo, loi, hi, hii, pre)
       WHERE (r.lo IS NULL OR v.version_sort_key > r.lo OR (r.loi AND v.version_sort_key = r.lo))
         AND (r.hi IS NULL OR v.version_sort_key < r.hi OR (r.hii AND v.version_sort_key = r.hi))
         AND (position('!' in v.version_sort_key) = 0 OR strpos(r.pre, left(v.version_sort_key, 50)) > 0))`;
    }
    case 'latest':
      return undefined;
  }
}

/** Ranges pick the highest version; everything else the newest. */
const modeOrder = (request: ResolveRequest) => (request.mode === 'range' ? 'v.version_sort_key DESC, v.created_at DESC, v.id DESC' : 'v.created_at DESC, v.id DESC');

/** The version selector, on `v`, when the request has one. */
function versionSelector(request: ResolveRequest, param: Param): string | undefined {
  const selector = selectorAsJson(request.selector ?? []);
  return selector === null ? undefined : `registry_labels_match(v.labels, ${param(selector, '::jsonb')})`;
}

/** Each binding constraint the request has, on `pb` alone; an active binding passing all of them is one it can route to. */
function bindingConstraints(request: ResolveRequest, param: Param): { provider?: string; selector?: string; capabilities?: string; price?: string } {
  const selector = selectorAsJson(request.bindingSelector ?? []);
  return {
    provider: request.provider === undefined ? undefined : `pb.provider = ${param(request.provider, '::text')}`,
    selector: selector === null ? undefined : `registry_labels_match(pb.labels, ${param(selector, '::jsonb')})`,
    capabilities: request.capabilities && request.capabilities.length > 0 ? `pb.capabilities @> ${param(request.capabilities, '::text[]')}` : undefined,
    price:
      request.maxInputCostPer1m === undefined
        ? undefined
        : `pb.currency = ${param(request.currency ?? 'USD', '::text')} AND pb.input_per_1m_tokens <= ${param(request.maxInputCostPer1m, '::numeric')}`,
  };
}

const activeBinding = (...checks: (string | undefined)[]) =>
  `EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND ${["pb.status = 'active'", ...checks.filter((check) => check !== undefined)].join(' AND ')})`;

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
  const { values, param } = parameters();
  const name = param(request.modelName);
  const alias = aliasOf(request, param);
  const versionFilters = [
    modeFilter(request, alias.version, param),
    request.region === undefined ? undefined : `v.region = ${param(request.region, '::text')}`,
    request.maxCostPer1k === undefined ? undefined : `v.cost_per_1k <= ${param(request.maxCostPer1k, '::numeric')}`,
    request.minEvalScore === undefined ? undefined : `v.eval_score >= ${param(request.minEvalScore, '::float8')}`,
    request.requireSlo ? 'v.slo_ok' : undefined,
    versionSelector(request, param),
  ].filter((filter) => filter !== undefined);
  const usable = ["pb.status = 'active'", ...Object.values(bindingConstraints(request, param)).filter((check) => check !== undefined)].join(' AND ');

  const text = `
SELECT m.id AS model_id, m.name AS model_name, m.task, ${alias.version} AS alias_version_id,
       v.id, v.version, v.hash, v.region, v.cost_per_1k, v.eval_score, v.slo_ok, v.artifact_uri, v.labels, v.created_at,
       bb.bindings
  FROM models m${alias.join}
  LEFT JOIN LATERAL (
    SELECT v.* FROM model_versions v
     WHERE v.model_id = m.id AND v.archived_at IS NULL${versionFilters.map((filter) => `\n       AND ${filter}`).join('')}
       AND EXISTS (SELECT 1 FROM provider_bindings pb WHERE pb.version_id = v.id AND ${usable})
     ORDER BY ${modeOrder(request)}
     LIMIT 1) v ON true
  LEFT JOIN LATERAL (
    SELECT json_agg(${BINDING_JSON} ORDER BY pb.id) AS bindings
      FROM provider_bindings pb
     WHERE pb.version_id = v.id AND ${usable}) bb ON true
 WHERE m.name = ${name}`;
  return { text, values };
}

/** Only when nothing matched: every version the mode considers (up to 200), with what each constraint says of it. */
export function candidatesStatement(request: ResolveRequest): Statement {
  const { values, param } = parameters();
  const name = param(request.modelName);
  const alias = aliasOf(request, param);
  const mode = modeFilter(request, alias.version, param);
  const selector = versionSelector(request, param);
  const b = bindingConstraints(request, param);
  const text = `
SELECT v.id, v.version, v.region, v.cost_per_1k, v.eval_score, v.slo_ok,
       ${selector ?? 'true'} AS matches_selector,
       ${activeBinding()} AS has_binding,
       ${b.provider === undefined ? 'false' : activeBinding(b.provider)} AS has_provider_binding,
       ${activeBinding(b.provider, b.selector)} AS has_selected_binding,
       ${activeBinding(b.provider, b.capabilities)} AS has_capable_binding,
       ${activeBinding(b.provider, b.price)} AS has_affordable_binding,
       ${activeBinding(b.provider, b.selector, b.capabilities, b.price)} AS has_usable_binding
  FROM models m${alias.join}
  JOIN model_versions v ON v.model_id = m.id AND v.archived_at IS NULL
 WHERE m.name = ${name}${mode === undefined ? '' : ` AND ${mode}`}
 ORDER BY ${modeOrder(request)}
 LIMIT 200`;
  return { text, values };
}

/** A model's live versions, highest first: what a version or range that matched nothing was compared with. */
const LIVE_VERSIONS_SQL = `
SELECT v.version FROM models m JOIN model_versions v ON v.model_id = m.id AND v.archived_at IS NULL
 WHERE m.name = $1 ORDER BY v.version_sort_key DESC, v.id DESC LIMIT $2`;

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
    const { text, values } = candidatesStatement(request);
    return this.dataSource.query(text, values);
  }
}
