import { Command, Option } from 'commander';
import { CLI_VERSION, envDefaults } from './context';
import { bindingsCommand } from './commands/bindings';
import { eventsCommand } from './commands/events';
import { hashCommand } from './commands/hash';
import { modelsCommand } from './commands/models';
import { promoteCommand } from './commands/promote';
import { resolveCommand } from './commands/resolve';
import { retentionCommand } from './commands/retention';
import { versionsCommand } from './commands/versions';
import { whoamiCommand } from './commands/whoami';
import * as parse from './options';

const EPILOG = `
Environment: MODEL_REGISTRY_URL, MODEL_REGISTRY_API_KEY, MODEL_REGISTRY_RETRIES, MODEL_REGISTRY_RETRY_BUDGET, MODEL_REGISTRY_TIMEOUT.
Exit codes: 0 success; 1 the registry refused the request (its problem's title and detail on stderr,
the problem JSON on stdout with --json); 2 bad flags or arguments; 3 the registry unreachable or
unavailable after the retries.`;

/** The whole command tree. Global options are accepted before or after the command name. */
export function buildProgram(): Command {
  const defaults = envDefaults();
  const program = new Command('model-registry')
    .description('Command-line client of the Model Registry Service, for CI pipelines: idempotent, streaming, scriptable.')
    .version(CLI_VERSION, '-V, --cli-version', 'print the CLI version')
    .addOption(new Option('--base-url <url>', 'the registry (env MODEL_REGISTRY_URL)').default(defaults.baseUrl, defaults.baseUrl))
    .option('--api-key <token>', 'an API key or OIDC token, sent as a bearer token (env MODEL_REGISTRY_API_KEY)')
    .option('--json', 'machine output: exactly the JSON the API answered')
    .addOption(new Option('--retries <n>', 'retries after the first attempt (env MODEL_REGISTRY_RETRIES)').argParser(parse.nonNegativeInteger).default(defaults.retries, String(defaults.retries)))
    .addOption(
      new Option('--retry-budget <seconds>', 'the most time spent waiting between attempts (env MODEL_REGISTRY_RETRY_BUDGET)')
        .argParser(parse.seconds)
        .default(defaults.retryBudget, String(defaults.retryBudget / 1000)),
    )
    .addOption(
      new Option('--timeout <seconds>', 'how long one attempt waits for an answer, 0 for no limit (env MODEL_REGISTRY_TIMEOUT)')
        .argParser(parse.seconds)
        .default(defaults.timeout, String(defaults.timeout / 1000)),
    )
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', EPILOG)
    .exitOverride();

  for (const command of [versionsCommand(), promoteCommand(), resolveCommand(), modelsCommand(), bindingsCommand(), retentionCommand(), eventsCommand(), whoamiCommand(), hashCommand()]) {
    program.addCommand(command);
  }
  inheritSettings(program);
  return program;
}

/** addCommand() does not copy the parent's settings (commands built on their own): apply them down the tree. */
function inheritSettings(command: Command): void {
  for (const sub of command.commands) {
    sub.exitOverride().showHelpAfterError('(add --help for usage)').configureHelp({ showGlobalOptions: true });
    inheritSettings(sub);
  }
}
