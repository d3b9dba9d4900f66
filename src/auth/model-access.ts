import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ModelLookup, ModelRule, ModelTarget } from '../common/auth/access.decorator';
import type { Principal } from '../common/auth/principal';
import { ApplicationError } from '../common/errors/application.error';
import { PreparedStatements } from '../database/prepared-statements';

/** The model a referenced resource belongs to: its name, or null when it belongs to none (a catalog-wide retention run). */
const MODEL_OF: Record<Exclude<ModelLookup, 'model_name'>, string> = {
  model_id: 'SELECT name FROM models WHERE id = $1',
  version_id: 'SELECT m.name FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = $1',
  binding_id: 'SELECT m.name FROM provider_bindings b JOIN model_versions v ON v.id = b.version_id JOIN models m ON m.id = v.model_id WHERE b.id = $1',
  retention_run_id: 'SELECT m.name FROM retention_runs r LEFT JOIN models m ON m.id = r.model_id WHERE r.id = $1',
};

function forbidden(principal: Principal, detail: string): ApplicationError {
  return new ApplicationError('forbidden', `${detail} This key is restricted to models matching ${principal.models!.patterns.join(', ')}.`, undefined, {
    model_restriction: principal.models!.patterns,
  });
}

function valueOf(request: FastifyRequest, target: ModelTarget): string | number | undefined {
  const container = request[target.source] as Record<string, unknown> | undefined | null;
  const raw = container && typeof container === 'object' ? container[target.field] : undefined;
  if (target.lookup === 'model_name') return typeof raw === 'string' && raw !== '' ? raw : undefined;
  const id = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

/**
 * Enforces the model restriction of API keys created with `models`, from the route's declaration:
 * the models a request names (by name, or through the version, binding or run it addresses) must
 * match the key's patterns. A resource that does not exist is left to the handler (a 404).
 */
@Injectable()
export class ModelAccess {
  constructor(private readonly prepared: PreparedStatements) {}

  /** Whether the rule needs the request's body (then the check waits until it is parsed). */
  static needsRequestData(rule: ModelRule): rule is ModelTarget[] {
    return Array.isArray(rule);
  }

  async check(principal: Principal, rule: ModelRule, request: FastifyRequest): Promise<void> {
    const restriction = principal.models;
    if (!restriction || !Array.isArray(rule)) return;
    for (const target of rule) {
      const value = valueOf(request, target);
      if (value === undefined) {
        if (target.whenMissing === 'forbid') throw forbidden(principal, `Name the model (${target.field}): this operation spans every model otherwise.`);
        continue;
      }
      let name: string | null | undefined;
      if (target.lookup === 'model_name') name = value as string;
      else {
        const rows: { name: string | null }[] = await this.prepared.query(MODEL_OF[target.lookup], [value]);
        if (rows.length === 0) continue;
        name = rows[0].name;
      }
      if (name === null) throw forbidden(principal, 'This resource is not limited to one model.');
      if (!restriction.allows(name)) throw forbidden(principal, 'The model this request addresses is not one of them.');
    }
  }
}
