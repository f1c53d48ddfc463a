/** Module loader hook for tests: appends the URL of every file module and builtin (node:…) imported to $BERTH_TEST_MODULE_LOG. */
import { appendFileSync } from 'node:fs';

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  const loaded = await next(url, context);
  const file = process.env['BERTH_TEST_MODULE_LOG'];
  if (file !== undefined && (url.startsWith('file:') || url.startsWith('node:'))) appendFileSync(file, `${url}\n`);
  return loaded;
}
