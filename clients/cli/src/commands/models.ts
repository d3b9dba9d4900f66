import { unwrap, type Model, type operations } from '@model-registry/client';
import { Command, Option } from 'commander';
import { Context } from '../context';
import { fields, labelsText, table } from '../output';
import * as parse from '../options';
import { listOptions, printPage, type ListOptions } from './lists';

type ModelQuery = NonNullable<operations['listModels']['parameters']['query']>;

const aliasesText = (aliases: Record<string, number>) =>
  Object.entries(aliases)
    .map(([alias, id]) => `${alias}=${id}`)
    .join(',') || null;

function modelRows(models: Model[]): string {
  return table(
    ['ID', 'NAME', 'TASK', 'SUBJECT', 'ALIASES', 'LABELS', 'UPDATED'],
    models.map((m) => [m.id, m.name, m.task, m.subject, aliasesText(m.aliases), labelsText(m.labels), m.updated_at]),
  );
}

export function modelsCommand(): Command {
  const models = new Command('models').description('List and read models.');

  listOptions(
    models
      .command('list')
      .description('List models, by name by default.')
      .option('--task <task>', 'only this task')
      .option('--subject <subject>', 'only this subject')
      .option('--q <text>', 'name contains')
      .option('--selector <selector>', 'a label selector, e.g. "team=search"')
      .addOption(new Option('--sort <order>', 'sort order').choices(['name', '-name', 'created_at', '-created_at', 'updated_at', '-updated_at'])),
  ).action(async (options: ListOptions & { task?: string; subject?: string; q?: string; selector?: string; sort?: ModelQuery['sort'] }, command: Command) => {
    const ctx = Context.of(command);
    const query: ModelQuery = {};
    if (options.task !== undefined) query.task = options.task;
    if (options.subject !== undefined) query.subject = options.subject;
    if (options.q !== undefined) query.q = options.q;
    if (options.selector !== undefined) query.selector = options.selector;
    if (options.sort !== undefined) query.sort = options.sort;
    await printPage(ctx, options, (page) => ctx.api.GET('/models', { params: { query: { ...query, ...page } } }), modelRows);
  });

  models
    .command('get')
    .description('One model, by name (or by id with --id).')
    .argument('<name>', 'the model name')
    .option('--id', 'the argument is the model id')
    .action(async (name: string, options: { id?: boolean }, command: Command) => {
      const ctx = Context.of(command);
      const model = options.id
        ? await unwrap(ctx.api.GET('/models/{id}', { params: { path: { id: parse.positiveInteger(name) } } }))
        : await ctx.model(name);
      ctx.out.result(model, () =>
        fields([
          ['id', model.id],
          ['name', model.name],
          ['task', model.task],
          ['subject', model.subject],
          ['description', model.description],
          ['retention_count', model.retention_count],
          ['aliases', aliasesText(model.aliases)],
          ['labels', labelsText(model.labels)],
          ['created_at', model.created_at],
          ['updated_at', model.updated_at],
        ]),
      );
    });

  return models;
}
