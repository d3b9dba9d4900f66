import { unwrap, type Schemas } from '@model-registry/client';
import { Command } from 'commander';
import { Context } from '../context';
import { fields, table } from '../output';
import * as parse from '../options';

type Report = Schemas['RetentionReport'];

function reportText(report: Report): string {
  const head = fields([
    ['run_id', report.run_id],
    ['dry_run', report.dry_run],
    ['purge', report.purge],
    ['status', report.status],
    ['kept', report.totals.kept],
    ['archived', report.totals.archived],
    ['purged', report.totals.purged],
    ['failed', report.totals.failed],
  ]);
  const models = table(
    ['MODEL', 'KEPT', 'ARCHIVED', 'PURGED', 'FAILED'],
    report.models.map((m) => [m.model_name, m.kept.length, m.archived.length, m.purged.length, m.failed.length]),
  );
  return report.models.length > 0 ? `${head}\n\n${models}` : head;
}

export function retentionCommand(): Command {
  const retention = new Command('retention').description('Apply the retention policy.');
  retention
    .command('apply')
    .description('Archive versions beyond each model\'s retention count now (and purge old archives with --purge).')
    .option('--model <name>', 'only this model')
    .option('--retention-count <n>', 'keep this many live versions (1-10) instead of the model\'s setting', parse.positiveInteger)
    .option('--dry-run', 'report what would happen, change nothing')
    .option('--purge', 'also purge archived versions past the purge delay')
    .action(async (options: { model?: string; retentionCount?: number; dryRun?: boolean; purge?: boolean }, command: Command) => {
      const ctx = Context.of(command);
      const body: Schemas['ApplyRetention'] = {};
      if (options.model !== undefined) body.model_id = (await ctx.model(options.model)).id;
      if (options.retentionCount !== undefined) body.retention_count = options.retentionCount;
      if (options.dryRun) body.dry_run = true;
      if (options.purge) body.purge = true;
      const report = await unwrap(ctx.api.POST('/retention/apply', { body }));
      ctx.out.result(report, () => reportText(report));
    });
  return retention;
}
