/**
 * The option rows for reloads that prove the new code works (issue 12): the readiness request,
 * Django's system check and the rollback after a switch. Same row shape as options.ts.
 */
import type { OptionSpec, ValueNote } from './option-spec.js';

function checkPath(value: string | null): ValueNote | undefined {
  if (value !== null && /^(?:https?:\/\/[^/\s]+)?\/\S*$/.test(value)) return undefined;
  return { severity: 'problem', message: `reload-check: '${value ?? ''}' is not a request path`, fix: 'write a path the app answers 2xx, starting with / (reload-check = /health/), or a URL naming the Host to send (reload-check = http://example.com/health/)' };
}

const row = (r: Omit<OptionSpec, 'aliases' | 'repeatable' | 'status' | 'berthOnly' | 'group'>): OptionSpec =>
  ({ aliases: [], repeatable: false, status: 'supported', berthOnly: true, group: 'Processes', ...r });

export const RELOAD_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'reload-check', type: 'string', field: 'reloadCheck', check: checkPath,
    help: 'On a reload, each new worker gets GET <path> (Host: localhost; write http://example.com/health/ to send Host: example.com) before any traffic moves to it, and must answer 2xx; otherwise the reload is refused and the running generation keeps serving. Not written to the request log. Example: reload-check = /health/',
  }),
  row({
    name: 'reload-check-django', type: 'bool', default: 'true', field: 'reloadCheckDjango',
    help: "For a Django app (DJANGO_SETTINGS_MODULE set once the app is imported), run Django's system check and load every URLconf (so views.py is imported) before a worker is ready, at start and on every reload. Django imports views lazily, so a broken views.py otherwise passes the import and answers 500 on every page. A failure stops the start, or refuses the reload, with the traceback.",
  }),
  row({
    name: 'reload-rollback-after', type: 'int', default: '5', range: [0, 1_000_000], field: 'reloadRollbackAfter',
    help: 'After a reload switched, if the new generation answers its first N requests all with 5xx, roll back to the previous generation (preload: its Python parent is kept, without workers, until the new generation answers one request below 500, or for 15 s; berth --reload waits for that verdict). 0 = off.',
  }),
];
