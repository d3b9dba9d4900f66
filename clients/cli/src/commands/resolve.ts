import { unwrap, type operations, type Resolved } from '@model-registry/client';
import { Command } from 'commander';
import { Context } from '../context';
import { fields, table } from '../output';
import * as parse from '../options';

type ResolveQuery = NonNullable<operations['resolveModel']['parameters']['query']>;

interface ResolveOptions {
  version?: string;
  alias?: string;
  capability?: string[];
  provider?: string;
  region?: string;
  selector?: string;
  bindingSelector?: string;
  maxCostPer1k?: number;
  minEvalScore?: number;
  requireSlo?: boolean;
}

function resolvedText(resolved: Resolved): string {
  const head = fields([
    ['model', `${resolved.model.name} (id ${resolved.model.id})`],
    ['version', `${resolved.version.version} (id ${resolved.version.id})`],
    ['resolved_by', resolved.alias ? `${resolved.resolved_by} ${resolved.alias}` : resolved.resolved_by],
    ['hash', resolved.version.hash],
    ['artifact_uri', resolved.version.artifact_uri],
  ]);
  const bindings = table(
    ['RANK', 'BINDING', 'PROVIDER', 'PROVIDER_MODEL', 'LATENCY_MS', 'SUCCESS', 'CAPABILITIES'],
    resolved.bindings.map((b) => [b.rank, b.id, b.provider, b.provider_model_id, b.avg_latency_ms, b.success_rate, b.capabilities.join(',') || null]),
  );
  return `${head}\n\n${bindings}`;
}

export function resolveCommand(): Command {
  return new Command('resolve')
    .description('Resolve a model to a version and its active bindings in routing order, as a gateway does.')
    .argument('<model>', 'the model name')
    .option('--version <range>', 'an exact version or a SemVer range (^1.4, ~2.0.1, >=1.2 <2)')
    .option('--alias <alias>', 'an alias (default: production, else the newest live version)')
    .option('--capability <names>', 'bindings must have every one (comma-separated, repeatable)', parse.list)
    .option('--provider <provider>', 'only bindings to this provider')
    .option('--region <region>', 'the version must be in this region')
    .option('--selector <selector>', "a label selector on the version's labels")
    .option('--binding-selector <selector>', "a label selector on the bindings' labels")
    .option('--max-cost-per-1k <cost>', 'the version costs at most this', parse.number)
    .option('--min-eval-score <score>', 'the version scores at least this', parse.number)
    .option('--require-slo', 'the version must meet its SLO')
    .action(async (model: string, options: ResolveOptions, command: Command) => {
      const ctx = Context.of(command);
      const query: ResolveQuery = {};
      if (options.version !== undefined) query.version = options.version;
      if (options.alias !== undefined) query.alias = options.alias;
      if (options.capability !== undefined) query.capability = options.capability as NonNullable<ResolveQuery['capability']>;
      if (options.provider !== undefined) query.provider = options.provider;
      if (options.region !== undefined) query.region = options.region;
      if (options.selector !== undefined) query.selector = options.selector;
      if (options.bindingSelector !== undefined) query.binding_selector = options.bindingSelector;
      if (options.maxCostPer1k !== undefined) query.max_cost_per_1k = options.maxCostPer1k;
      if (options.minEvalScore !== undefined) query.min_eval_score = options.minEvalScore;
      if (options.requireSlo) query.require_slo = true;
      const resolved = await unwrap(ctx.api.GET('/resolve/{model_name}', { params: { path: { model_name: model }, query } }));
      ctx.out.result(resolved, () => resolvedText(resolved));
    });
}
