import { ifMatch, isProblem, unwrap, withEtag, type Alias } from '@model-registry/client';
import { Command } from 'commander';
import { Context } from '../context';
import { RefusedError } from '../errors';
import { table } from '../output';
import * as parse from '../options';

const aliasRows = (alias: Alias, model: string) =>
  table(['MODEL', 'ALIAS', 'VERSION', 'VERSION_ID', 'UPDATED'], [[model, alias.alias, alias.version, alias.version_id, alias.updated_at]]);

interface PromoteOptions {
  version: string;
  alias: string;
  ifCurrentVersion?: string;
}

/**
 * Points an alias at a version. With --if-current-version the move is guarded: the alias is read
 * with its ETag, must point at that version, and is moved with If-Match, so a move by someone else
 * in between makes the service refuse it (412) instead of being overwritten.
 */
async function promote(name: string, options: PromoteOptions, command: Command): Promise<void> {
  const ctx = Context.of(command);
  const model = await ctx.model(name);
  const target = await ctx.version(model, options.version);
  const path = { id: model.id, alias: options.alias };
  let header: Record<string, string> = {};
  if (options.ifCurrentVersion !== undefined) {
    let current: { data: Alias; etag: string | undefined };
    try {
      current = await withEtag(ctx.api.GET('/models/{id}/aliases/{alias}', { params: { path } }));
    } catch (error) {
      if (!isProblem(error, 'not-found')) throw error;
      throw new RefusedError('Alias moved', `${model.name} has no alias ${options.alias}, so it does not point at ${options.ifCurrentVersion}; nothing changed.`);
    }
    if (current.data.version !== options.ifCurrentVersion) {
      throw new RefusedError('Alias moved', `${model.name} ${options.alias} points at ${current.data.version}, not ${options.ifCurrentVersion}; nothing changed.`, {
        title: 'Alias moved',
        detail: `${model.name} ${options.alias} points at ${current.data.version}, not ${options.ifCurrentVersion}; nothing changed.`,
        alias: current.data,
      });
    }
    if (!current.etag) {
      // Without the alias's ETag the move could not be guarded (If-Match: * only checks that it exists).
      throw new RefusedError('No ETag', `The registry answered ${model.name} ${options.alias} without an ETag (a proxy may strip it), so the move cannot be guarded; nothing changed.`);
    }
    header = ifMatch(current.etag);
  }
  const result = await ctx.api.PUT('/models/{id}/aliases/{alias}', { params: { path, header }, body: { version_id: target.id } });
  if (result.response.status === 412) {
    // A retried PUT (its first answer lost) finds its own move done: the alias already points at the target.
    const now = await ctx.api.GET('/models/{id}/aliases/{alias}', { params: { path } });
    if (now.data && now.data.version_id === target.id) {
      ctx.out.note(`${model.name} ${now.data.alias} → ${now.data.version} (moved)`);
      ctx.out.result(now.data, () => aliasRows(now.data!, model.name));
      return;
    }
    const problem = result.error as Record<string, unknown> | undefined;
    throw new RefusedError('Alias moved', `${model.name} ${options.alias} was moved by someone else after it was read; nothing changed. Read it again and decide.`, {
      ...problem,
      title: 'Alias moved',
      detail: `${model.name} ${options.alias} was moved by someone else after it was read; nothing changed.`,
    });
  }
  const alias = await unwrap(Promise.resolve(result));
  ctx.out.note(`${model.name} ${alias.alias} → ${alias.version} (${result.response.status === 201 ? 'created' : 'moved'})`);
  ctx.out.result(alias, () => aliasRows(alias, model.name));
}

export function promoteCommand(): Command {
  return new Command('promote')
    .description('Point an alias (production, staging, …) at a version of a model: created, or moved atomically.')
    .argument('<model>', 'the model name')
    .requiredOption('--version <semver>', 'the version to point at', parse.semver)
    .requiredOption('--alias <alias>', 'the alias, e.g. production')
    .option('--if-current-version <semver>', 'only if the alias points at this version now, and nobody moves it meanwhile (exit 1 otherwise)', parse.semver)
    .action(promote);
}
