/**
 * The worker config contract: the rules BERTH_WORKER_CONFIG (src/master/spawn.ts
 * workerConfigJson) must meet, the same rules python/berth_runtime/config.py read_config enforces.
 *
 * Theory of operation. The config is one JSON object of exactly the keys below (and, when
 * `direct` is not null, an object of exactly DIRECT_CONFIG_KEYS; `http_direct`, of HTTP_DIRECT_CONFIG_KEYS): a missing key or an unknown
 * one means the two languages drifted apart, so both sides refuse it by name instead of
 * filling a default. Each key has one rule, written the way test/fixtures/conformance/
 * worker-config.json states it; both suites check their rules against that table. Pure: a
 * value in, the list of problems out (empty when the config is sound).
 */

type Check = (value: unknown) => boolean;

interface KeyRule {
  readonly rule: string;
  readonly check: Check;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v !== '';
const stringList = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

const STRING_OR_NULL: KeyRule = { rule: 'non-empty string or null', check: (v) => v === null || nonEmptyString(v) };
const STRING: KeyRule = { rule: 'string', check: (v) => typeof v === 'string' };
const STRINGS: KeyRule = { rule: 'list of strings', check: stringList };
const BOOLEAN: KeyRule = { rule: 'boolean', check: (v) => typeof v === 'boolean' };
const COUNT: KeyRule = { rule: 'integer >= 1', check: (v) => isInt(v) && v >= 1 };
const NATURAL: KeyRule = { rule: 'integer >= 0', check: (v) => isInt(v) && v >= 0 };
const ID: KeyRule = { rule: 'name, integer >= 0 or null', check: (v) => v === null || nonEmptyString(v) || (isInt(v) && v >= 0) };

function isListener(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const l = v as Record<string, unknown>;
  return Object.keys(l).length === 3 && isInt(l.fd) && typeof l.unix === 'boolean' && isInt(l.index);
}

/** The keys of `direct` (uwsgi-direct), each with its rule. */
export const DIRECT_CONFIG_KEYS: Readonly<Record<string, KeyRule>> = {
  listeners: {
    rule: 'non-empty list of {fd: integer, unix: boolean, index: integer}',
    check: (v) => Array.isArray(v) && v.length > 0 && v.every(isListener),
  },
  backlog: NATURAL,
  buffer_size: NATURAL,
  limit_post: NATURAL,
  timeout_ms: NATURAL,
  batch: BOOLEAN,
  static_prefixes: STRINGS,
  manage_script_name: BOOLEAN,
  mounts: STRINGS,
  log_all: BOOLEAN,
  log_4xx: BOOLEAN,
  slow_ms: NATURAL,
  relay_path: STRING,
  token: STRING,
};

function isHttpListener(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const l = v as Record<string, unknown>;
  return Object.keys(l).length === 3 && isInt(l.fd) && isInt(l.index) && isInt(l.timeout_ms) && (l.timeout_ms as number) >= 0;
}

/** The keys of `http_direct` (http-direct), each with its rule. */
export const HTTP_DIRECT_CONFIG_KEYS: Readonly<Record<string, KeyRule>> = {
  listeners: {
    rule: 'non-empty list of {fd: integer, index: integer, timeout_ms: integer >= 0}',
    check: (v) => Array.isArray(v) && v.length > 0 && v.every(isHttpListener),
  },
  backlog: NATURAL,
  buffer_size: NATURAL,
  limit_post: NATURAL,
  timeout_ms: NATURAL,
  idle_ms: NATURAL,
  static_prefixes: STRINGS,
  mounts: STRINGS,
  log_all: BOOLEAN,
  log_4xx: BOOLEAN,
  slow_ms: NATURAL,
  forwarded_allow: STRINGS,
};

/**
 * The values `mode` may take (the rule 'one of'): a worker spawned alone (berth check), the
 * preload zygote, or lazy-apps' zygote, which forks before the app is imported.
 */
export const WORKER_MODES = ['worker', 'zygote', 'lazy-zygote'] as const;
export type WorkerMode = (typeof WORKER_MODES)[number];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every key of BERTH_WORKER_CONFIG, each with its rule. */
export const WORKER_CONFIG_KEYS: Readonly<Record<string, KeyRule>> = {
  mode: { rule: 'one of', check: (v) => (WORKER_MODES as readonly unknown[]).includes(v) },
  module: STRING_OR_NULL,
  wsgi_file: STRING_OR_NULL,
  callable: { rule: 'non-empty string', check: nonEmptyString },
  chdir: STRING_OR_NULL,
  pythonpath: STRINGS,
  threads: COUNT,
  processes: COUNT,
  worker_id: NATURAL,
  check: BOOLEAN,
  django_static: BOOLEAN,
  django_check: BOOLEAN,
  channel_path: STRING_OR_NULL,
  token: STRING,
  uid: ID,
  gid: ID,
  umask: { rule: 'integer 0..511 or null', check: (v) => v === null || (isInt(v) && v >= 0 && v <= 0o777) },
  py_autoreload: { rule: 'number >= 0', check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 },
  own_group: BOOLEAN,
  reload_on_rss: NATURAL,
  direct: { rule: 'direct object or null', check: (v) => v === null || isObject(v) },
  http_direct: { rule: 'http-direct object or null', check: (v) => v === null || isObject(v) },
};


function keyProblems(where: string, value: Record<string, unknown>, rules: Readonly<Record<string, KeyRule>>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(value)) if (!(key in rules)) problems.push(`${where}${key} is not a known key`);
  for (const [key, r] of Object.entries(rules)) {
    if (!(key in value)) problems.push(`${where}${key} is missing (${r.rule})`);
    else if (!r.check(value[key])) problems.push(`${where}${key} must be ${key === 'mode' ? WORKER_MODES.join(' or ') : r.rule}, not ${JSON.stringify(value[key])}`);
  }
  return problems;
}

/** What is wrong with a BERTH_WORKER_CONFIG object; each problem starts with the key it is about. */
export function workerConfigProblems(config: unknown): string[] {
  if (!isObject(config)) return ['BERTH_WORKER_CONFIG must be a JSON object'];
  const problems = keyProblems('', config, WORKER_CONFIG_KEYS);
  if (isObject(config.direct)) problems.push(...keyProblems('direct.', config.direct, DIRECT_CONFIG_KEYS));
  if (isObject(config.http_direct)) problems.push(...keyProblems('http_direct.', config.http_direct, HTTP_DIRECT_CONFIG_KEYS));
  if ((config.module === null || config.module === undefined) === (config.wsgi_file === null || config.wsgi_file === undefined)) {
    problems.push('exactly one of module and wsgi_file must be set');
  }
  if ((config.mode === 'zygote' || config.mode === 'lazy-zygote') && !nonEmptyString(config.channel_path)) {
    problems.push(`channel_path must be the master's unix socket in mode ${config.mode}`);
  }
  return problems;
}
