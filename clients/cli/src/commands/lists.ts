import { paginate, unwrap, type AnyResult, type Page } from '@model-registry/client';
import { Command } from 'commander';
import { Context } from '../context';
import * as parse from '../options';

export interface ListOptions {
  limit?: number;
  pageToken?: string;
  all?: boolean;
}

/** The paging flags every list command takes. */
export function listOptions(command: Command): Command {
  return command
    .option('--limit <n>', 'items per page (1-100; the service defaults to 20)', parse.positiveInteger)
    .option('--page-token <token>', "continue from a page's next_page_token")
    .option('--all', 'follow next_page_token to the end (with --json: one page object holding every item)');
}

/**
 * One page as the API answered it (`--json`: exactly its JSON; otherwise a table and, when there is
 * more, the token for the next page on stderr), or with `--all` every item.
 */
export async function printPage<Item>(
  ctx: Context,
  options: ListOptions,
  fetchPage: (page: { page_token?: string; limit?: number }) => Promise<AnyResult & { data?: Page<Item> }>,
  rows: (items: Item[]) => string,
): Promise<void> {
  const limit = options.limit === undefined ? {} : { limit: options.limit };
  if (options.all) {
    const items: Item[] = [];
    for await (const item of paginate((page) => fetchPage({ ...page, ...limit }))) items.push(item as Item);
    ctx.out.result({ items, next_page_token: null }, () => rows(items));
    return;
  }
  const page = (await unwrap(fetchPage({ ...limit, ...(options.pageToken === undefined ? {} : { page_token: options.pageToken }) }))) as Page<Item>;
  ctx.out.result(page, () => rows(page.items));
  if (!ctx.out.json && page.next_page_token !== null) ctx.out.note(`more: --page-token ${page.next_page_token}`);
}
