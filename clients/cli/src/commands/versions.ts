import { isProblem, unwrap, type Model, type operations, type Schemas, type Version } from '@model-registry/client';
import { Command, Option } from 'commander';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stat } from 'node:fs/promises';
import { Context } from '../context';
import { UsageError } from '../errors';
import { formatBytes, hashFile, progressBar } from '../hash';
import { fields, labelsText, shortHash, table } from '../output';
import * as parse from '../options';
import { listOptions, printPage, type ListOptions } from './lists';

interface RegisterOptions {
  model: string;
  version: string;
  artifact: string;
  artifactUri?: string;
  evalScore?: number;
  costPer1k?: number;
  framework?: string;
  modelType?: string;
  region?: string;
  label?: Record<string, string>;
  source?: string;
  createModel?: boolean;
  task?: string;
  subject?: string;
  description?: string;
}

export function versionRows(versions: Version[]): string {
  return table(
    ['ID', 'MODEL', 'VERSION', 'HASH', 'SIZE', 'EVAL', 'COST/1K', 'ALIASES', 'ARCHIVED', 'ARTIFACT'],
    versions.map((v) => [
      v.id,
      v.model_id,
      v.version,
      shortHash(v.hash),
      v.size_bytes === null ? null : formatBytes(v.size_bytes),
      v.eval_score,
      v.cost_per_1k,
      v.aliases.length > 0 ? v.aliases.join(',') : null,
      v.archived_at ? 'yes' : null,
      v.artifact_uri,
    ]),
  );
}

export function versionFields(v: Version): string {
  return fields([
    ['id', v.id],
    ['model_id', v.model_id],
    ['version', v.version],
    ['hash', v.hash],
    ['size_bytes', v.size_bytes],
    ['artifact_uri', v.artifact_uri],
    ['archive_uri', v.archive_uri],
    ['eval_score', v.eval_score],
    ['cost_per_1k', v.cost_per_1k],
    ['framework', v.framework],
    ['model_type', v.model_type],
    ['region', v.region],
    ['labels', labelsText(v.labels)],
    ['source', v.source],
    ['aliases', v.aliases.join(',') || null],
    ['pinned', v.pinned],
    ['archived_at', v.archived_at],
    ['created_at', v.created_at],
  ]);
}

/** The model, created first when asked (and when it does not exist yet; a concurrent creation is fine). */
async function modelFor(ctx: Context, options: RegisterOptions): Promise<Model> {
  try {
    return await ctx.model(options.model);
  } catch (error) {
    if (!options.createModel || !isProblem(error, 'not-found')) throw error;
  }
  const body: Schemas['CreateModel'] = { name: options.model, task: options.task! };
  if (options.subject !== undefined) body.subject = options.subject;
  if (options.description !== undefined) body.description = options.description;
  const created = await ctx.api.POST('/models', { body });
  if (created.response.status === 409) return ctx.model(options.model);
  const model = await unwrap(Promise.resolve(created));
  ctx.out.note(`created model ${model.name} (id ${model.id})`);
  return model;
}

/** Optional fields sent that an existing registration has with another value (a replay does not change them). */
function differences(sent: Partial<Schemas['CreateVersion']>, existing: Version): string[] {
  const keys = ['artifact_uri', 'size_bytes', 'eval_score', 'cost_per_1k', 'framework', 'model_type', 'region', 'source', 'labels'] as const;
  return keys.filter((key) => sent[key] !== undefined && JSON.stringify(sent[key]) !== JSON.stringify(existing[key]));
}

async function register(options: RegisterOptions, command: Command): Promise<void> {
  if (options.createModel && !options.task) throw new UsageError('--create-model needs --task (e.g. --task generation).');
  const ctx = Context.of(command);
  const path = resolvePath(options.artifact);
  const file = await stat(path).catch(() => undefined);
  if (!file?.isFile()) throw new UsageError(`--artifact: ${options.artifact} is not a readable file.`);

  // The model first: a wrong name fails before a large file is read.
  const model = await modelFor(ctx, options);
  const bar = progressBar(`sha256 ${options.artifact}`);
  const digest = await hashFile(path, (read, total) => bar.update(read, total)).finally(() => bar.done());

  const body: Schemas['CreateVersion'] = {
    model_id: model.id,
    version: options.version,
    hash: digest.hash,
    size_bytes: digest.size,
    artifact_uri: options.artifactUri ?? pathToFileURL(path).href,
  };
  if (options.evalScore !== undefined) body.eval_score = options.evalScore;
  if (options.costPer1k !== undefined) body.cost_per_1k = options.costPer1k;
  if (options.framework !== undefined) body.framework = options.framework;
  if (options.modelType !== undefined) body.model_type = options.modelType;
  if (options.region !== undefined) body.region = options.region;
  if (options.label !== undefined) body.labels = options.label;
  if (options.source !== undefined) body.source = options.source;

  const result = await ctx.api.POST('/versions', { body });
  const version = await unwrap(Promise.resolve(result));
  const replay = result.response.status === 200;
  if (replay) {
    const changed = differences(body, version);
    ctx.out.note(
      `${model.name} ${version.version} is already registered with this hash (id ${version.id}): nothing changed` +
        (changed.length > 0 ? `; it keeps its own ${changed.join(', ')} (a re-registration changes no field)` : ''),
    );
  } else {
    ctx.out.note(`registered ${model.name} ${version.version} (id ${version.id})`);
  }
  ctx.out.result(version, () => versionRows([version]));
}

interface VersionListOptions extends ListOptions {
  model?: string;
  region?: string;
  framework?: string;
  modelType?: string;
  archived?: boolean;
  minEvalScore?: number;
  selector?: string;
  sort?: VersionQuery['sort'];
}

type VersionQuery = NonNullable<operations['listVersions']['parameters']['query']>;

export function versionsCommand(): Command {
  const versions = new Command('versions').description('Register, list and read model versions.');

  versions
    .command('register')
    .description(
      'Register a version of a model from its artifact file: the file is streamed through SHA-256 (constant memory), which fills `hash` and `size_bytes`. ' +
        'Idempotent: the same model, version and file again exits 0 with the same version; the same version with another file exits 1 naming the clash.',
    )
    .requiredOption('--model <name>', 'the model name')
    .requiredOption('--version <semver>', 'the version (SemVer 2.0.0, e.g. 1.4.2)', parse.semver)
    .requiredOption('--artifact <file>', 'the artifact file to hash')
    .option('--artifact-uri <uri>', 'where the artifact is kept (default: file://<absolute path of --artifact>)')
    .option('--eval-score <score>', 'evaluation score, 0 to 1', parse.number)
    .option('--cost-per-1k <cost>', 'cost per 1,000 tokens', parse.number)
    .option('--framework <name>', 'e.g. pytorch')
    .option('--model-type <type>', 'e.g. llm')
    .option('--region <region>', 'e.g. us-east-1')
    .option('--label <key=value>', 'a label (repeatable)', parse.label)
    .option('--source <uri>', 'lineage: where the version came from (a run, a commit, a pipeline URL)')
    .option('--create-model', 'create the model first if it does not exist (needs --task)')
    .option('--task <task>', 'with --create-model: the model task (generation, chat, embedding, …)')
    .option('--subject <subject>', 'with --create-model: the model subject (default general)')
    .option('--description <text>', 'with --create-model: the model description')
    .action(register);

  listOptions(
    versions
      .command('list')
      .description('List versions, newest first by default.')
      .option('--model <name>', 'only this model')
      .option('--region <region>', 'only this region')
      .option('--framework <name>', 'only this framework')
      .option('--model-type <type>', 'only this model type')
      .option('--archived', 'only archived versions')
      .option('--min-eval-score <score>', 'only versions scoring at least this', parse.number)
      .option('--selector <selector>', 'a label selector, e.g. "stage=ga,team in (a,b)"')
      .addOption(new Option('--sort <order>', 'sort order').choices(['-created_at', 'created_at', 'version', '-version', 'eval_score', '-eval_score', 'cost_per_1k', '-cost_per_1k'])),
  ).action(async (options: VersionListOptions, command: Command) => {
    const ctx = Context.of(command);
    const query: VersionQuery = {};
    if (options.model !== undefined) query.model_id = (await ctx.model(options.model)).id;
    if (options.region !== undefined) query.region = options.region;
    if (options.framework !== undefined) query.framework = options.framework;
    if (options.modelType !== undefined) query.model_type = options.modelType;
    if (options.archived) query.archived = true;
    if (options.minEvalScore !== undefined) query.min_eval_score = options.minEvalScore;
    if (options.selector !== undefined) query.selector = options.selector;
    if (options.sort !== undefined) query.sort = options.sort;
    await printPage(ctx, options, (page) => ctx.api.GET('/versions', { params: { query: { ...query, ...page } } }), versionRows);
  });

  versions
    .command('get')
    .description('One version: by id, or by --model and --version.')
    .argument('[id]', 'the version id', parse.positiveInteger)
    .option('--model <name>', 'the model name (with --version)')
    .option('--version <semver>', 'the version string (with --model)')
    .action(async (id: number | undefined, options: { model?: string; version?: string }, command: Command) => {
      if ((id === undefined) === (options.model === undefined || options.version === undefined)) {
        throw new UsageError('give a version id, or --model and --version (not both).');
      }
      const ctx = Context.of(command);
      const version = id !== undefined ? await unwrap(ctx.api.GET('/versions/{id}', { params: { path: { id } } })) : await ctx.version(await ctx.model(options.model!), options.version!);
      ctx.out.result(version, () => versionFields(version));
    });

  return versions;
}
