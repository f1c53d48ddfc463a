/**
 * The emperor's configuration: whether argv + environment + ini ask for an emperor, and if so
 * its settings, refusing any option that would configure an app (an emperor serves none itself).
 */
import path from 'node:path';
import { readArgv } from './argv.js';
import { readEnv } from './env.js';
import { SettingResolver } from './ini/resolve.js';
import { mapSettings, parseValue, type Assigned } from './map.js';
import { findOption } from './options.js';
import type { ConfigField } from './option-spec.js';
import { describeSource, problemAt, type Problem } from './problem.js';
import type { ListenAddress } from './schema.js';
import type { LoadInput } from './load.js';

export interface EmperorConfig {
  /** The directory, or a glob whose last part names the files (`/etc/berth/vassals/*.ini`). */
  readonly emperor: string;
  readonly stats: ListenAddress | null;
  readonly throttleMs: number;
  readonly maxThrottleMs: number;
  readonly freqSeconds: number;
  /** berth ctl's socket for the vassals (ctl-socket), or null. */
  readonly ctlSocket: string | null;
  /** Where `emperor` was set, for messages ("line 2 of /etc/berth/emperor.ini"). */
  readonly origin: string;
}

export type EmperorLoad =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly config: EmperorConfig; readonly warnings: readonly Problem[] }
  | { readonly kind: 'bad'; readonly problems: readonly Problem[] };

const EMPEROR_FIELDS: ReadonlySet<ConfigField> = new Set(['emperor', 'emperorStats', 'emperorThrottleMs', 'emperorMaxThrottleMs', 'emperorFreqSeconds', 'ctlSocket']);

/** 'none' when no layer sets `emperor` (the caller serves an app as usual). */
export function loadEmperorConfig(input: LoadInput): EmperorLoad {
  const argv = readArgv(input.argv);
  const env = readEnv(input.env);
  const resolver = new SettingResolver({ cwd: input.cwd, env: input.env });
  const layers = [resolver.resolve(env.settings), resolver.resolve(argv.settings)];
  const mapped = mapSettings(layers, input.cwd);
  const emperorA = mapped.assignments.get('emperor')?.at(-1);
  if (emperorA === undefined) return { kind: 'none' };
  const problems = [...argv.problems, ...resolver.problems, ...mapped.problems];
  const where = describeSource(emperorA.source);
  for (const [field, list] of mapped.assignments) {
    if (EMPEROR_FIELDS.has(field)) continue;
    const a = list[0] as Assigned;
    problems.push(problemAt(a.source, {
      code: 'emperor-with-app', option: a.written,
      message: `option '${a.written}' configures a served app, but this configuration runs an emperor (emperor = ${emperorA.raw ?? ''}, ${where}); an emperor serves no app itself`,
      fix: `move '${a.written}' into a vassal ini in ${emperorA.raw ?? 'the vassal directory'}, or remove emperor to serve this app directly`,
    }));
  }
  if (problems.length > 0) return { kind: 'bad', problems };
  const valueOf = <T>(field: ConfigField, name: string): T => {
    const a = mapped.assignments.get(field)?.at(-1);
    if (a !== undefined) return a.value as T;
    const option = findOption(name);
    const parsed = option !== undefined ? parseValue(option, option.default ?? null, input.cwd) : { ok: false as const };
    return (parsed.ok ? parsed.value : null) as T;
  };
  return {
    kind: 'ok',
    warnings: [...env.warnings, ...resolver.warnings, ...mapped.warnings],
    config: Object.freeze({
      emperor: emperorA.value as string,
      stats: valueOf<ListenAddress | null>('emperorStats', 'emperor-stats'),
      throttleMs: valueOf<number>('emperorThrottleMs', 'emperor-throttle'),
      maxThrottleMs: valueOf<number>('emperorMaxThrottleMs', 'emperor-max-throttle'),
      freqSeconds: valueOf<number>('emperorFreqSeconds', 'emperor-freq'),
      ctlSocket: ctlSocketOf(mapped.assignments.get('ctlSocket')?.at(-1), input.cwd),
      origin: where,
    }),
  };
}

function ctlSocketOf(a: Assigned | undefined, cwd: string): string | null {
  return a === undefined ? null : path.resolve(cwd, String(a.value));
}
