import { unwrap, type Binding, type operations, type Schemas } from '@model-registry/client';
import { Command, Option } from 'commander';
import { Context } from '../context';
import { UsageError } from '../errors';
import { labelsText, table } from '../output';
import * as parse from '../options';
import { listOptions, printPage, type ListOptions } from './lists';

type BindingQuery = NonNullable<operations['listBindings']['parameters']['query']>;
type CreateBinding = Schemas['CreateBinding'];

function bindingRows(bindings: Binding[]): string {
  return table(
    ['ID', 'MODEL', 'VERSION_ID', 'PROVIDER', 'PROVIDER_MODEL', 'STATUS', 'LATENCY_MS', 'SUCCESS', 'LABELS'],
    bindings.map((b) => [b.id, b.model_id, b.version_id, b.provider, b.provider_model_id, b.status, b.avg_latency_ms, b.success_rate, labelsText(b.labels)]),
  );
}

interface CreateOptions {
  model?: string;
  version?: string;
  versionId?: number;
  provider: string;
  providerModelId: string;
  status?: CreateBinding['status'];
  config?: Record<string, unknown>;
  endpointUrl?: string;
  label?: Record<string, string>;
  capability?: string[];
  contextWindow?: number;
  maxOutputTokens?: number;
}

/** The version a binding command names: --version-id, or --model with --version. */
async function versionId(ctx: Context, options: { model?: string; version?: string; versionId?: number }): Promise<number | undefined> {
  if (options.versionId !== undefined) return options.versionId;
  if (options.version === undefined) return undefined;
  if (options.model === undefined) throw new UsageError('--version needs --model.');
  return (await ctx.version(await ctx.model(options.model), options.version)).id;
}

export function bindingsCommand(): Command {
  const bindings = new Command('bindings').description('Bind versions to provider models, and list bindings.');

  bindings
    .command('create')
    .description('Bind a version to a provider model (a 409, exit 1, if that binding exists).')
    .option('--model <name>', 'the model name (with --version)')
    .option('--version <semver>', 'the version string (with --model)')
    .option('--version-id <id>', 'the version id (instead of --model and --version)', parse.positiveInteger)
    .requiredOption('--provider <provider>', 'openai, azure-openai, anthropic, vertex, bedrock, …')
    .requiredOption('--provider-model-id <id>', "the provider's model id")
    .addOption(new Option('--status <status>', 'binding status (default active)').choices(['active', 'inactive', 'deprecated']))
    .option('--config <json>', 'provider configuration, a JSON object', parse.jsonObject)
    .option('--endpoint-url <url>', 'the endpoint to call')
    .option('--label <key=value>', 'a label (repeatable)', parse.label)
    .option('--capability <names>', 'capabilities (comma-separated, repeatable)', parse.list)
    .option('--context-window <tokens>', 'context window in tokens', parse.positiveInteger)
    .option('--max-output-tokens <tokens>', 'most output tokens', parse.positiveInteger)
    .action(async (options: CreateOptions, command: Command) => {
      if (options.versionId === undefined && (options.model === undefined || options.version === undefined)) {
        throw new UsageError('name the version: --version-id, or --model and --version.');
      }
      const ctx = Context.of(command);
      const body: CreateBinding = { version_id: (await versionId(ctx, options))!, provider: options.provider, provider_model_id: options.providerModelId };
      if (options.status !== undefined) body.status = options.status;
      if (options.config !== undefined) body.config = options.config;
      if (options.endpointUrl !== undefined) body.endpoint_url = options.endpointUrl;
      if (options.label !== undefined) body.labels = options.label;
      if (options.capability !== undefined) body.capabilities = options.capability as NonNullable<CreateBinding['capabilities']>;
      if (options.contextWindow !== undefined) body.context_window = options.contextWindow;
      if (options.maxOutputTokens !== undefined) body.max_output_tokens = options.maxOutputTokens;
      const binding = await unwrap(ctx.api.POST('/bindings', { body }));
      ctx.out.result(binding, () => bindingRows([binding]));
    });

  listOptions(
    bindings
      .command('list')
      .description('List bindings, newest first by default.')
      .option('--model <name>', 'only bindings of this model')
      .option('--version <semver>', 'only bindings of this version (with --model)')
      .option('--version-id <id>', 'only bindings of this version id', parse.positiveInteger)
      .option('--provider <provider>', 'only this provider')
      .addOption(new Option('--status <status>', 'only this status').choices(['active', 'inactive', 'deprecated']))
      .option('--selector <selector>', 'a label selector on the bindings'),
  ).action(async (options: ListOptions & { model?: string; version?: string; versionId?: number; provider?: string; status?: BindingQuery['status']; selector?: string }, command: Command) => {
    const ctx = Context.of(command);
    const query: BindingQuery = {};
    const version = await versionId(ctx, options);
    if (version !== undefined) query.version_id = version;
    else if (options.model !== undefined) query.model_id = (await ctx.model(options.model)).id;
    if (options.provider !== undefined) query.provider = options.provider;
    if (options.status !== undefined) query.status = options.status;
    if (options.selector !== undefined) query.selector = options.selector;
    await printPage(ctx, options, (page) => ctx.api.GET('/bindings', { params: { query: { ...query, ...page } } }), bindingRows);
  });

  return bindings;
}
