import { Injectable } from '@nestjs/common';
import { ApplicationError, RequestValidationError } from '../common/errors/application.error';
import { isSemVer } from '../versions/semver';
import type { ResolveQueryDto } from './dto/resolve-query.dto';
import type { ResolveResponseDto } from './dto/resolve-response.dto';
import { rankForRouting } from './ranking';
import { ResolveCache } from './resolve-cache';
import { ResolveRepository, type CandidateRow, type ResolveRequest, type ResolveRow } from './resolve.repository';
import { rangeBounds } from './semver-range';

export const DEFAULT_ALIAS = 'production';
const LATEST = 'latest';
/** Versions named in a 404 for a version or range that matched none. */
const VERSIONS_NAMED = 10;

/** Everything an answer depends on besides the data: the cache key. */
function cacheKey(modelName: string, query: ResolveQueryDto): string {
  return `${modelName}\0${query.alias ?? ''}\0${query.version ?? ''}\0${query.provider ?? ''}\0${query.region ?? ''}\0${query.max_cost_per_1k ?? ''}\0${query.min_eval_score ?? ''}\0${query.require_slo === true}`;
}

/** What the gateway calls on every routing decision: one round trip in the common case. */
@Injectable()
export class ResolveService {
  constructor(
    private readonly resolver: ResolveRepository,
    private readonly cache: ResolveCache,
  ) {}

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
    if (row.id === null) throw await this.noMatch(request, row);

    const resolvedByAlias = request.mode === 'alias' || (request.mode === 'default' && row.alias_version_id !== null);
    const bindings = rankForRouting((row.bindings ?? []).map((b) => ({ ...b, cost_per_1k: row.cost_per_1k, slo_ok: row.slo_ok })));
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
        created_at: row.created_at.toISOString(),
      },
      resolved_by: resolvedByAlias ? 'alias' : request.mode === 'exact' ? 'version' : request.mode === 'range' ? 'range' : 'latest',
      alias: resolvedByAlias ? request.alias! : null,
      bindings: bindings.map((b) => ({
        rank: b.rank,
        id: b.id,
        provider: b.provider,
        provider_model_id: b.provider_model_id,
        endpoint_url: b.endpoint_url,
        config: b.config,
        cost_per_1k: b.cost_per_1k,
        avg_latency_ms: b.avg_latency_ms,
        success_rate: b.success_rate,
        slo_ok: b.slo_ok,
      })),
    };
  }

  private toRequest(modelName: string, query: ResolveQueryDto): ResolveRequest {
    const constraints = {
      modelName,
      provider: query.provider,
      region: query.region,
      maxCostPer1k: query.max_cost_per_1k,
      minEvalScore: query.min_eval_score,
      requireSlo: query.require_slo ?? false,
    };
    if (query.version !== undefined) {
      if (query.alias !== undefined) throw new RequestValidationError([{ field: 'version', message: 'cannot be combined with alias: resolve one or the other' }]);
      if (isSemVer(query.version)) return { ...constraints, mode: 'exact', version: query.version };
      const bounds = rangeBounds(query.version);
      if (!bounds) throw new RequestValidationError([{ field: 'version', message: 'must be a SemVer version (1.4.2) or range (^1.4, ~2.0.1, >=1.2 <2, 1.x)' }]);
      return { ...constraints, mode: 'range', version: query.version, bounds };
    }
    if (query.alias === LATEST) return { ...constraints, mode: 'latest' };
    if (query.alias !== undefined) return { ...constraints, mode: 'alias', alias: query.alias };
    return { ...constraints, mode: 'default', alias: DEFAULT_ALIAS };
  }

  /** A 404 that says what was considered and which constraint excluded what. */
  private async noMatch(request: ResolveRequest, row: ResolveRow): Promise<ApplicationError> {
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
    const excluded = this.exclusions(request, candidates);
    const considered = request.mode === 'alias' || (request.mode === 'default' && row.alias_version_id !== null) ? `alias ${request.alias} → ${candidates[0].version}` : `${candidates.length} live version(s)`;
    const summary = excluded.map((e) => `${e.constraint}${e.value === undefined ? '' : `=${e.value}`} excluded ${e.versions.slice(0, 10).join(', ')}${e.versions.length > 10 ? ', …' : ''}`);
    return new ApplicationError('not-found', `No version of ${name} satisfies the request (${considered} considered): ${summary.join('; ')}.`, undefined, {
      considered: candidates.slice(0, 50).map((c) => c.version),
      excluded: excluded.map((e) => ({ ...e, versions: e.versions.slice(0, 50) })),
    });
  }

  private exclusions(request: ResolveRequest, candidates: CandidateRow[]) {
    const checks: { constraint: string; value?: string | number | boolean; fails: (c: CandidateRow) => boolean }[] = [
      { constraint: 'region', value: request.region, fails: (c) => request.region !== undefined && c.region !== request.region },
      { constraint: 'max_cost_per_1k', value: request.maxCostPer1k, fails: (c) => request.maxCostPer1k !== undefined && (c.cost_per_1k === null || c.cost_per_1k > request.maxCostPer1k) },
      { constraint: 'min_eval_score', value: request.minEvalScore, fails: (c) => request.minEvalScore !== undefined && (c.eval_score === null || c.eval_score < request.minEvalScore) },
      { constraint: 'require_slo', value: true, fails: (c) => request.requireSlo && !c.slo_ok },
      { constraint: 'provider', value: request.provider, fails: (c) => request.provider !== undefined && !c.has_provider_binding },
      { constraint: 'active_binding', value: undefined, fails: (c) => request.provider === undefined && !c.has_binding },
    ];
    return checks
      .map((check) => ({ constraint: check.constraint, value: check.value, versions: candidates.filter(check.fails).map((c) => c.version) }))
      .filter((e) => e.versions.length > 0);
  }
}
