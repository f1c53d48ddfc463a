/** Waiting in tests on something the code under test does (a bound, never a timing assert). */
import assert from 'node:assert/strict';

/** Polls `check` until it holds; fails naming `what` after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`still waiting for: ${what}`);
}
