import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors';
import { hashFile, progressBar } from '../hash';
import { Output } from '../output';

/** What `versions register` computes, without the registry: `sha256sum`'s output, or JSON. */
export function hashCommand(): Command {
  return new Command('hash')
    .description('Hash a file as `versions register` does (streamed SHA-256, constant memory), without contacting the registry. Prints "<sha256>  <file>" like sha256sum.')
    .argument('<file>', 'the file')
    .action(async (file: string, _options: unknown, command: Command) => {
      const out = new Output(command.optsWithGlobals<{ json?: boolean }>().json === true);
      const path = resolvePath(file);
      if (!(await stat(path).catch(() => undefined))?.isFile()) throw new UsageError(`${file} is not a readable file.`);
      const bar = progressBar(`sha256 ${file}`);
      const digest = await hashFile(path, (read, total) => bar.update(read, total)).finally(() => bar.done());
      if (out.json) out.printJson({ hash: digest.hash, size_bytes: digest.size, artifact_uri: pathToFileURL(path).href });
      else out.line(`${digest.hash}  ${file}`);
    });
}
