import { Injectable } from '@nestjs/common';
import { ApplicationError, RequestValidationError } from '../common/errors/application.error';
import { parseSelector } from '../common/labels/selector';
import { normalizeCapabilities } from '../bindings/capabilities';
import { pricingOf } from '../bindings/dto/binding-response.dto';
import { DEFAULT_CURRENCY } from '../bindings/dto/pricing.dto';
import { isSemVer } from '../common/semver';
import type { ResolveQueryDto } from './dto/resolve-query.dto';
import type { ResolveResponseDto, RoutedBindingDto } from './dto/resolve-response.dto';
import { rankInPlace } from './ranking';
import { ResolveCache } from './resolve-cache';
import { ResolveRepository, type CandidateRow, type ResolveMode, type ResolveRequest, type ResolveRow } from './resolve.repository';
import { rangeBounds, type RangeBound } from './semver-range';

export const DEFAULT_ALIAS = 'production';
const LATEST = 'latest';
/** Versions named in a 404 for a version or range that matched none. */
const VERSIONS_NAMED = 10;

/**
 * Everything an answer depends on besides the data: the cache key. Every query parameter takes part,
 * so a parameter added to the query DTO can never be forgotten here.
 */
function cacheKey(modelName: string, query: ResolveQueryDto): string {
  const names = Object.keys(query);
  // The common question, without parameters: no sorting or serialising.
  if (names.length === 0) return `${modelName}\0[]`;
  const parameters = names
    .filter((name) => query[name as keyof ResolveQueryDto] !== undefined)
    .sort()
    .map((name) => [name, query[name as keyof ResolveQueryDto]]);
  return `${modelName}\0${JSON.stringify(parameters)}`;
}

/**
 * The version's bindings in routing order, each built once in its response shape (on the hot path:
 * no intermediate copies of the bindings). The version's cost and SLO take part in the ranking.
 */
function rankedBindings(row: ResolveRow, currency: string | undefined): RoutedBindingDto[] {
  const bindings = (row.bindings ?? []).map(
    (b): RoutedBindingDto => ({
      rank: 0,
      id: b.id,
      provider: b.provider,
      provider_model_id: b.provider_model_id,
      endpoint_url: b.endpoint_url,
      config: b.config,
      cost_per_1k: row.cost_per_1k,
      avg_latency_ms: b.avg_latency_ms,
      success_rate: b.success_rate,
      slo_ok: row.slo_ok,
      pricing: pricingOf(b),
      context_window: b.context_window,
      max_output_tokens: b.max_output_tokens,
      capabilities: b.capabilities,
      labels: b.labels,
    }),
  );
  return rankInPlace(bindings, currency);
}

/** What the gateway calls on every routing decision: one round trip in the common case. */
@Injectable()
export class ResolveService {
  constructor(
    private readonly resolver: ResolveRepository,
    private readonly cache: ResolveCache,
  ) {}

  /** Whether answers are kept (and so handed out again, unchanged). */
  get caching(): boolean {
    return this.cache.enabled;
  }

  /** The answer; with the cache on, the same object for the same question until the data changes (never mutate it). */
  async resolve(modelName: string, query: ResolveQueryDto): Promise<ResolveResponseDto> {
    if (!this.cache.enabled) return this.resolveUncached(modelName, query);
    const key = cacheKey(modelName, query);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const ticket = this.cache.begin();
    const answer = await this.resolveUncached(modelName, query);
    this.cache.fill(ticket, key, answer);
    return answer;
  }

  private async resolveUncached(modelName: string, query: ResolveQueryDto): Promise<ResolveResponseDto> {
    const request = this.toRequest(modelName, query);
    const row = await this.resolver.resolve(request);
    if (!row) throw new ApplicationError('not-found', `No model named ${JSON.stringify(modelName)} exists.`, undefined, { resource: 'model' });
    if (row.id === null) throw await this.noMatch(request, query, row);

    const resolvedByAlias = request.mode === 'alias' || (request.mode === 'default' && row.alias_version_id !== null);
    return {
      model: { id: row.model_id, name: row.model_name, task: row.task },
      version: {
        id: row.id,
        version: row.version,
        hash: row.hash,
        region: row.region,
        cost_per_1k: row.cost_per_1k,
        eval_score: row.eval_score,
        slo_ok: row.slo_ok,
        artifact_uri: row.artifact_uri,
        labels: row.labels,
        created_at: row.created_at.toISOString(),
      },
      resolved_by: resolvedByAlias ? 'alias' : request.mode === 'exact' ? 'version' : request.mode === 'range' ? 'range' : 'latest',
      alias: resolvedByAlias ? request.alias! : null,
      bindings: rankedBindings(row, request.currency),
    };
  }

  /** One object of one shape whatever the mode (this runs on every resolve). */
  private toRequest(modelName: string, query: ResolveQueryDto): ResolveRequest {
    let mode: ResolveMode;
    let alias: string | undefined;
    let bounds: RangeBound[] | undefined;
    if (query.version !== undefined) {
      if (query.alias !== undefined) throw new RequestValidationError([{ field: 'version', message: 'cannot be combined with alias: resolve one or the other' }]);
      if (isSemVer(query.version)) {
        mode = 'exact';
      } else {
        bounds = rangeBounds(query.version);
        if (!bounds) throw new RequestValidationError([{ field: 'version', message: 'must be a SemVer version (1.4.2) or range (^1.4, ~2.0.1, >=1.2 <2, 1.x)' }]);
        mode = 'range';
      }
    } else if (query.alias === LATEST) {
      mode = 'latest';
    } else {
      mode = query.alias === undefined ? 'default' : 'alias';
      alias = query.alias ?? DEFAULT_ALIAS;
    }
    return {
      modelName,
      mode,
      alias,
      version: query.version,
      bounds,
      provider: query.provider,
      region: query.region,
      maxCostPer1k: query.max_cost_per_1k,
      minEvalScore: query.min_eval_score,
      requireSlo: query.require_slo ?? false,
      selector: query.selector === undefined ? undefined : parseSelector(query.selector),
      bindingSelector: query.binding_selector === undefined ? undefined : parseSelector(query.binding_selector),
      capabilities: query.capability && normalizeCapabilities(query.capability),
      maxInputCostPer1m: query.max_input_cost_per_1m,
      currency: query.currency ?? DEFAULT_CURRENCY,
    };
  }

  /** A 404 that says what was considered and which constraint excluded what. */
  private async noMatch(request: ResolveRequest, query: ResolveQueryDto, row: ResolveRow): Promise<ApplicationError> {
    const name = request.modelName;
    if (request.mode === 'alias' && row.alias_version_id === null) {
      return new ApplicationError('not-found', `Model ${name} has no alias ${JSON.stringify(request.alias)}.`);
    }
    const candidates = await this.resolver.candidates(request);
    if (candidates.length === 0 && (request.mode === 'exact' || request.mode === 'range')) {
      // Named like the other constraints: what the version asked for, and what it was compared with.
      const live = await this.resolver.liveVersions(name, 50);
      const compared = live.length === 0 ? 'no live version' : `none of ${live.slice(0, VERSIONS_NAMED).join(', ')}${live.length > VERSIONS_NAMED ? ', …' : ''}`;
      return new ApplicationError('not-found', `No version of ${name} satisfies the request: version ${request.version} matches ${compared}.`, undefined, {
        considered: live,
        excluded: [{ constraint: 'version', value: request.version, versions: live }],
      });
    }
    if (candidates.length === 0) return new ApplicationError('not-found', `Model ${name} has no live versions.`);
    const excluded = this.exclusions(request, query, candidates);
    const considered = request.mode === 'alias' || (request.mode === 'default' && row.alias_version_id !== null) ? `alias ${request.alias} → ${candidates[0].version}` : `${candidates.length} live version(s)`;
    const summary = excluded.map((e) => `${e.constraint}${e.value === undefined ? '' : `=${e.value}`} excluded ${e.versions.slice(0, 10).join(', ')}${e.versions.length > 10 ? ', …' : ''}`);
    return new ApplicationError('not-found', `No version of ${name} satisfies the request (${considered} considered): ${summary.join('; ')}.`, undefined, {
      considered: candidates.slice(0, 50).map((c) => c.version),
      excluded: excluded.map((e) => ({ ...e, versions: e.versions.slice(0, 50) })),
    });
  }

  /**
   * Each constraint with the versions it excludes on its own. Binding constraints exclude a version
   * when none of its active bindings (to `provider`, if given) passes them; `binding_constraints`
   * names versions where each binding constraint is met by some binding but no binding meets all.
   */
  private exclusions(request: ResolveRequest, query: ResolveQueryDto, candidates: CandidateRow[]) {
    const bindingConstrained = query.binding_selector !== undefined || request.capabilities !== undefined || request.maxInputCostPer1m !== undefined;
    // Binding constraints are judged among the bindings the provider constraint leaves (it reports the rest).
    const routable = (c: CandidateRow) => (request.provider === undefined ? c.has_binding : c.has_provider_binding);
    const checks: { constraint: string; value?: string | number | boolean; fails: (c: CandidateRow) => boolean }[] = [
      { constraint: 'region', value: request.region, fails: (c) => request.region !== undefined && c.region !== request.region },
      { constraint: 'max_cost_per_1k', value: request.maxCostPer1k, fails: (c) => request.maxCostPer1k !== undefined && (c.cost_per_1k === null || c.cost_per_1k > request.maxCostPer1k) },
      { constraint: 'min_eval_score', value: request.minEvalScore, fails: (c) => request.minEvalScore !== undefined && (c.eval_score === null || c.eval_score < request.minEvalScore) },
      { constraint: 'require_slo', value: true, fails: (c) => request.requireSlo && !c.slo_ok },
      { constraint: 'provider', value: request.provider, fails: (c) => request.provider !== undefined && !c.has_provider_binding },
      { constraint: 'active_binding', value: undefined, fails: (c) => request.provider === undefined && !c.has_binding },
      { constraint: 'selector', value: query.selector, fails: (c) => !c.matches_selector },
      { constraint: 'binding_selector', value: query.binding_selector, fails: (c) => routable(c) && !c.has_selected_binding },
      { constraint: 'capability', value: request.capabilities?.join(','), fails: (c) => routable(c) && !c.has_capable_binding },
      { constraint: 'max_input_cost_per_1m', value: request.maxInputCostPer1m, fails: (c) => routable(c) && !c.has_affordable_binding },
      {
        constraint: 'binding_constraints',
        value: undefined,
        fails: (c) => bindingConstrained && routable(c) && c.has_selected_binding && c.has_capable_binding && c.has_affordable_binding && !c.has_usable_binding,
      },
    ];
    return checks
      .map((check) => ({ constraint: check.constraint, value: check.value, versions: candidates.filter(check.fails).map((c) => c.version) }))
      .filter((e) => e.versions.length > 0);
  }
}
