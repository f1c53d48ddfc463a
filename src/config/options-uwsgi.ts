/**
 * Rows for every uWSGI 2.0 option the hand-written tables do not cover, classified by the
 * compat rules, so that no real uWSGI option ever reads as "unknown option". Also the set of
 * names uWSGI's own getopt would see (core + python + http), for command-line prefixes.
 */
import { CORE_RULES } from './compat-rules-core.js';
import { HTTP_RULES, PLUGIN_RULES, PYTHON_RULES } from './compat-rules-plugins.js';
import type { CompatRule } from './compat-reasons.js';
import type { OptionSpec } from './option-spec.js';
import { UWSGI_OPTIONS, type UwsgiOption } from './uwsgi-options/index.js';

/** The plugins `uwsgi --plugin python3,http` loads: the option names its getopt_long knows. */
const GETOPT_PLUGINS: ReadonlySet<string> = new Set(['core', 'python', 'http']);

/**
 * One rule list made quick to ask (this runs for ~1,000 names at every start): exact names in a
 * map, wildcard patterns in rule order. The first rule that matches wins, as written.
 */
interface CompiledRules {
  readonly exact: ReadonlyMap<string, number>;
  readonly patterns: readonly { readonly at: number; readonly test: (name: string, plugin: string) => boolean }[];
  readonly rules: readonly CompatRule[];
}

function compile(rules: readonly CompatRule[]): CompiledRules {
  const exact = new Map<string, number>();
  const patterns: CompiledRules['patterns'][number][] = [];
  rules.forEach((r, at) => {
    for (const m of r.match) {
      if (m.startsWith('plugin:')) { const p = m.slice(7); patterns.push({ at, test: (_n, plugin) => plugin === p }); }
      else if (m.startsWith('*')) { const s = m.slice(1); patterns.push({ at, test: (n) => n.endsWith(s) }); }
      else if (m.endsWith('*')) { const s = m.slice(0, -1); patterns.push({ at, test: (n) => n.startsWith(s) }); }
      else if (!exact.has(m)) exact.set(m, at);
    }
  });
  return { exact, patterns, rules };
}

const COMPILED = { core: compile(CORE_RULES), python: compile(PYTHON_RULES), http: compile(HTTP_RULES), plugins: compile(PLUGIN_RULES) };

function rulesFor(plugin: string): CompiledRules {
  return plugin === 'core' ? COMPILED.core : plugin === 'python' ? COMPILED.python : plugin === 'http' ? COMPILED.http : COMPILED.plugins;
}

/** The rule deciding a stored uWSGI option, or undefined when none does (a gap in the rules). */
export function ruleFor(option: UwsgiOption): CompatRule | undefined {
  const [name, , , plugin] = option;
  const compiled = rulesFor(plugin);
  let at = compiled.exact.get(name) ?? Infinity;
  for (const p of compiled.patterns) {
    if (p.at >= at) break;
    if (p.test(name, plugin)) { at = p.at; break; }
  }
  return compiled.rules[at];
}

/** Option names are kebab-case everywhere (BERTH_ variables map back to them): pivot_root → pivot-root. */
const kebab = (name: string): string => name.replace(/_/g, '-');

function rowFor(option: UwsgiOption, rule: CompatRule, short: string | undefined, aliases: readonly string[]): OptionSpec {
  const [written, argument, , plugin] = option;
  const name = kebab(written);
  return {
    name, aliases: [...(name !== written ? [written] : []), ...aliases], repeatable: false, status: rule.status, reason: rule.reason, help: rule.reason, group: rule.group, plugin,
    type: argument === 'flag' ? 'bool' : 'string',
    ...(argument === 'optional' ? { optionalValue: true } : {}),
    ...(short !== undefined ? { short } : {}),
  };
}

/**
 * Rows for the stored uWSGI options not in `known` (names and aliases of the hand-written rows).
 * uWSGI's aliases (same handler and target) that get the same rule share one row, so the table
 * reads as decisions rather than spellings. Throws when a name matches no rule: the table must
 * classify every uWSGI option.
 */
export function uwsgiRows(known: ReadonlySet<string>, shortsTaken: ReadonlySet<string>): OptionSpec[] {
  const unclassified: string[] = [];
  const decided = new Map<string, { option: UwsgiOption; rule: CompatRule; aliases: string[] }>();
  for (const option of UWSGI_OPTIONS) {
    const [name, , , , aliasOf] = option;
    if (known.has(name) || known.has(kebab(name))) continue;
    const rule = ruleFor(option);
    if (rule === undefined) { unclassified.push(name); continue; }
    const canonical = decided.get(aliasOf);
    if (canonical !== undefined && canonical.rule === rule && canonical.option[1] === option[1]) canonical.aliases.push(name);
    else decided.set(name, { option, rule, aliases: [] });
  }
  if (unclassified.length > 0) throw new Error(`option table: uWSGI options with no classification: ${unclassified.join(', ')}`);
  const shorts = new Set(shortsTaken);
  return [...decided.values()].map(({ option, rule, aliases }) => {
    const letter = option[2];
    const short = letter !== '' && !shorts.has(letter) ? letter : undefined;
    if (short !== undefined) shorts.add(short);
    return rowFor(option, rule, short, aliases);
  });
}

/** Every uWSGI option name getopt would know with the python and http plugins loaded. */
export const GETOPT_NAMES: readonly string[] = UWSGI_OPTIONS.filter((o) => GETOPT_PLUGINS.has(o[3])).map((o) => o[0]);

const UWSGI_BY_NAME: ReadonlyMap<string, UwsgiOption> = new Map(UWSGI_OPTIONS.map((o) => [o[0], o]));

/** The stored uWSGI option named so, if any. */
export function uwsgiOption(name: string): UwsgiOption | undefined {
  return UWSGI_BY_NAME.get(name);
}
