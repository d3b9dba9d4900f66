import { unwrap } from '@model-registry/client';
import { Command } from 'commander';
import { Context } from '../context';
import { fields } from '../output';

export function whoamiCommand(): Command {
  return new Command('whoami').description('Who the registry takes you for: identity, scopes and model restriction.').action(async (_options: unknown, command: Command) => {
    const ctx = Context.of(command);
    const me = await unwrap(ctx.api.GET('/auth/whoami'));
    ctx.out.result(me, () =>
      fields([
        ['actor', me.actor],
        ['type', me.type],
        ['name', me.name],
        ['subject', me.subject],
        ['scopes', me.scopes.join(', ')],
        ['models', me.models === null ? 'all' : me.models.join(', ')],
        ['expires_at', me.expires_at],
        ['auth_required', me.auth_required],
      ]),
    );
  });
}
