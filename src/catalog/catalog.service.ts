import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { stringify } from 'yaml';
import { AuditLog } from '../audit/audit-log.service';
import { normalizeCapabilities, isBindingCapability } from '../bindings/capabilities';
import type { BindingCatalogColumns } from '../bindings/bindings.repository';
import { pricingOf } from '../bindings/dto/binding-response.dto';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { RequestValidationError } from '../common/errors/application.error';
import { quoteForMessage } from '../common/labels/label-rules';
import { parseSelector } from '../common/labels/selector';
import { CatalogRepository, type CatalogFilter, type CatalogRow, type ImportBindingRow, type ImportUpdate } from './catalog.repository';
import { plainDecimal } from './decimal';
import type { CatalogImportReportDto, ImportedBindingDto, ImportWarningDto, LiteLlmCatalogDto, OpenRouterCatalogDto } from './dto/catalog-response.dto';
import type { CatalogQueryDto } from './dto/catalog-query.dto';
import { candidateModelIds, liteLlmDeployment, matchingKey, parseLiteLlmEntry, type ParsedEntry } from './litellm';
import { openRouterModel } from './openrouter';

const DEFAULT_ALIAS = 'production';
const LATEST = 'latest';
/** Entries of the price file that describe no model. */
const NOT_MODELS = new Set(['sample_spec']);
const MAX_REPORTED_BINDINGS = 1_000;
const MAX_REPORTED_WARNINGS = 100;
const MAX_MODEL_ID_LENGTH = 256;

/**
 * YAML for LiteLLM, which reads its configuration with PyYAML (YAML 1.1): numbers are written as plain
 * decimals, since `1.5e-07` would be read as a string there.
 */
function toYaml(document: unknown): string {
  return stringify(document, {
    customTags: (tags) => [
      {
        tag: 'tag:yaml.org,2002:float',
        default: true,
        identify: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
        // Among several matching tags the stringifier prefers those with a test; this one comes first.
        test: /^\d+(?:\.\d*)?$/,
        resolve: Number,
        stringify: ({ value }) => plainDecimal(value as number),
      },
      ...tags,
    ],
  });
}

@Injectable()
export class CatalogService {
  constructor(
    private readonly catalog: CatalogRepository,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** `restriction`: a model-restricted caller sees only its models. */
  async liteLlm(query: CatalogQueryDto, restriction?: ModelRestriction): Promise<LiteLlmCatalogDto> {
    const rows = await this.catalog.activeBindings(this.filterOf(query, restriction));
    return { model_list: rows.map(liteLlmDeployment) };
  }

  liteLlmYaml(catalog: LiteLlmCatalogDto): string {
    return toYaml(catalog);
  }

  async openRouter(query: CatalogQueryDto, restriction?: ModelRestriction): Promise<OpenRouterCatalogDto> {
    const rows = await this.catalog.activeBindings(this.filterOf(query, restriction));
    const byModel = new Map<number, CatalogRow[]>();
    for (const row of rows) byModel.set(row.model_id, [...(byModel.get(row.model_id) ?? []), row]);
    return { data: [...byModel.values()].map(openRouterModel) };
  }

  private filterOf(query: CatalogQueryDto, restriction: ModelRestriction | undefined): CatalogFilter {
    const common = { selector: query.selector === undefined ? [] : parseSelector(query.selector), modelNameLike: restriction?.like };
    if (query.alias === undefined) return { mode: 'default', alias: DEFAULT_ALIAS, ...common };
    if (query.alias === LATEST) return { mode: 'latest', alias: null, ...common };
    return { mode: 'alias', alias: query.alias, ...common };
  }

  /**
   * Fills pricing, context window and capabilities of the bindings that entries of LiteLLM's
   * model_prices_and_context_window.json describe (see `matchingKey`). Prices and limits the entry
   * gives replace the binding's; capabilities it declares are added (never removed); nothing else is
   * touched. A real run locks the matched bindings and updates them in one transaction.
   */
  async import(document: unknown, dryRun: boolean): Promise<CatalogImportReportDto> {
    if (document === null || typeof document !== 'object' || Array.isArray(document)) {
      throw new RequestValidationError([{ field: '(body)', message: "must be LiteLLM's model_prices_and_context_window.json: an object of model names to entries" }]);
    }
    const entries = new Map<string, unknown>();
    let invalid = 0;
    for (const [key, entry] of Object.entries(document)) {
      if (NOT_MODELS.has(key)) continue;
      entries.set(key, entry);
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) invalid++;
    }
    const modelIds = new Set<string>();
    for (const key of entries.keys()) for (const id of candidateModelIds(key)) if (id.length <= MAX_MODEL_ID_LENGTH) modelIds.add(id);

    const plan = dryRun
      ? this.planImport(await this.catalog.importTargets([...modelIds], this.dataSource.manager, false), entries)
      : await this.dataSource.transaction(async (manager) => {
          const targets = await this.catalog.importTargets([...modelIds], manager, true);
          const planned = this.planImport(targets, entries);
          await this.catalog.applyImport(planned.updates, manager);
          await this.auditImport(manager, targets, planned.updates);
          return planned;
        });
    return {
      dry_run: dryRun,
      entries: entries.size,
      invalid_entries: invalid,
      matched_entries: plan.matchedKeys,
      matched_bindings: plan.items.length,
      updated_bindings: plan.updates.length,
      unchanged_bindings: plan.items.length - plan.updates.length,
      bindings: plan.items.slice(0, MAX_REPORTED_BINDINGS),
      bindings_truncated: plan.items.length > MAX_REPORTED_BINDINGS,
      warnings: plan.warnings.slice(0, MAX_REPORTED_WARNINGS),
      warnings_truncated: plan.warnings.length > MAX_REPORTED_WARNINGS,
    };
  }

  /** One audit row per binding the import changed, in its transaction: its catalog fields before and after. */
  private async auditImport(manager: EntityManager, targets: ImportBindingRow[], updates: ImportUpdate[]): Promise<void> {
    const catalogFields = (row: BindingCatalogColumns) => ({
      pricing: pricingOf(row),
      context_window: row.context_window,
      max_output_tokens: row.max_output_tokens,
      capabilities: row.capabilities,
    });
    const before = new Map(targets.map((row) => [Number(row.id), row]));
    for (const update of updates) {
      await this.audit.record(manager, {
        action: 'binding.updated',
        resourceType: 'binding',
        resourceId: update.id,
        before: catalogFields(before.get(Number(update.id))!),
        after: catalogFields(update),
      });
    }
  }

  private planImport(targets: ImportBindingRow[], entries: ReadonlyMap<string, unknown>) {
    const parsed = new Map<string, ParsedEntry | undefined>();
    const warnings: ImportWarningDto[] = [];
    const items: ImportedBindingDto[] = [];
    const updates: ImportUpdate[] = [];
    const parse = (key: string) => {
      if (!parsed.has(key)) {
        const result = parseLiteLlmEntry(entries.get(key));
        parsed.set(key, result);
        const shownKey = key.length > 200 ? quoteForMessage(key) : key;
        if (!result) warnings.push({ key: shownKey, message: 'is not an object: skipped' });
        else for (const message of result.problems) warnings.push({ key: shownKey, message: `${message} (ignored)` });
      }
      return parsed.get(key);
    };

    for (const target of targets) {
      const key = matchingKey(target, entries);
      if (key === undefined) continue;
      const entry = parse(key);
      if (!entry) continue;
      const { spec } = entry;
      const next: ImportUpdate = {
        id: target.id,
        input_per_1m_tokens: spec.pricing?.input_per_1m_tokens ?? target.input_per_1m_tokens,
        output_per_1m_tokens: spec.pricing?.output_per_1m_tokens ?? target.output_per_1m_tokens,
        currency: spec.pricing?.currency ?? target.currency,
        context_window: spec.context_window ?? target.context_window,
        max_output_tokens: spec.max_output_tokens ?? target.max_output_tokens,
        capabilities: normalizeCapabilities([...target.capabilities.filter(isBindingCapability), ...spec.capabilities]),
      };
      const changed = [
        ...(next.input_per_1m_tokens !== target.input_per_1m_tokens || next.output_per_1m_tokens !== target.output_per_1m_tokens || next.currency !== target.currency
          ? ['pricing']
          : []),
        ...(next.context_window !== target.context_window ? ['context_window'] : []),
        ...(next.max_output_tokens !== target.max_output_tokens ? ['max_output_tokens'] : []),
        ...(next.capabilities.join() !== target.capabilities.join() ? ['capabilities'] : []),
      ];
      if (changed.length > 0) updates.push(next);
      items.push({
        binding_id: target.id,
        model_id: target.model_id,
        version_id: target.version_id,
        provider: target.provider,
        provider_model_id: target.provider_model_id,
        key,
        changed,
        pricing:
          next.input_per_1m_tokens === null || next.output_per_1m_tokens === null || next.currency === null
            ? null
            : { input_per_1m_tokens: next.input_per_1m_tokens, output_per_1m_tokens: next.output_per_1m_tokens, currency: next.currency },
        context_window: next.context_window,
        max_output_tokens: next.max_output_tokens,
        capabilities: next.capabilities,
      });
    }
    const matchedKeys = new Set(items.map((item) => item.key)).size;
    return { items, updates, warnings, matchedKeys };
  }
}
