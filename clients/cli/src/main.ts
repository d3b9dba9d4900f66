import { ProblemError, RegistryError } from '@model-registry/client';
import { CommanderError } from 'commander';
import { EXIT, RefusedError, UnreachableError, UsageError } from './errors';
import { buildProgram } from './program';

/** Statuses after which the registry counts as unavailable (exit 3), not as refusing (exit 1). */
const UNAVAILABLE = new Set([502, 503, 504]);

function wantsJson(argv: string[]): boolean {
  return argv.includes('--json');
}

/** Reports an error the way scripts expect and returns the exit code. */
export function report(error: unknown, json: boolean): number {
  const stderr = (line: string) => process.stderr.write(`${line}\n`);
  if (error instanceof CommanderError) {
    // Commander already printed its message (and the help it shows after errors).
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError) {
    stderr(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof UnreachableError) {
    stderr(`error: the registry is unreachable after ${error.attempts} attempt(s): ${error.message}`);
    return EXIT.unreachable;
  }
  if (error instanceof ProblemError) {
    const problem = error.problem as { title: string; detail: string; status: number; request_id?: string; errors?: { field: string; message: string }[] };
    if (json) process.stdout.write(`${JSON.stringify(error.problem, null, 2)}\n`);
    stderr(`error: ${problem.title} (${problem.status}): ${problem.detail}`);
    for (const field of problem.errors ?? []) stderr(`  ${field.field}: ${field.message}`);
    if (problem.request_id) stderr(`  request id: ${problem.request_id}`);
    return UNAVAILABLE.has(problem.status) ? EXIT.unreachable : EXIT.refused;
  }
  if (error instanceof RegistryError) {
    if (json && error.body !== undefined && typeof error.body === 'object') process.stdout.write(`${JSON.stringify(error.body, null, 2)}\n`);
    stderr(`error: the registry answered ${error.message}${typeof error.body === 'string' && error.body ? `: ${error.body.slice(0, 200)}` : ''}`);
    return UNAVAILABLE.has(error.status) ? EXIT.unreachable : EXIT.refused;
  }
  if (error instanceof RefusedError) {
    if (json) process.stdout.write(`${JSON.stringify(error.problem, null, 2)}\n`);
    stderr(`error: ${error.title}: ${error.detail}`);
    return EXIT.refused;
  }
  if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'EACCES') {
    stderr(`error: ${error.message}`);
    return EXIT.usage;
  }
  stderr(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.refused;
}

/** Runs the CLI with `argv` (process.argv) and exits with the code the outcome calls for. */
export async function main(argv: string[]): Promise<void> {
  // A reader that stops early (`| head`) is not an error of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
    throw error;
  });
  let code: number = EXIT.ok;
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    code = report(error, wantsJson(argv));
  }
  // Let stdout drain to a pipe before exiting.
  process.exitCode = code;
}
