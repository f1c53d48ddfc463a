/**
 * The workers' Python version, asked of the interpreter itself: for `berth --python-version`
 * (uWSGI's flag of that name) and to warn when `plugins = python27` names another Python than
 * the one the workers will run — in uWSGI that plugin decides the interpreter, in Berth `home`
 * or `python` does, so a stale plugin name would otherwise hide a version change.
 */
import { execFileSync } from 'node:child_process';
import type { Config } from '../config/schema.js';
import { describeSource } from '../config/problem.js';
import type { Interpreter } from './interpreter.js';

/** `sys.version` of the interpreter, e.g. "3.11.2 (main, ...) [GCC 12.2.0]" (one line). */
export function interpreterVersion(interpreter: Interpreter): string {
  const out = execFileSync(interpreter.path, ['-I', '-S', '-c', 'import sys; print(sys.version.replace("\\n", " "))'], { encoding: 'utf8', timeout: 30_000 });
  return out.trim();
}

/**
 * The Python version a uWSGI plugin name stands for: python27 → 2.7, python311 → 3.11,
 * python3.9 → 3.9, python3 → 3; undefined for a name with no version (python, http).
 */
export function pluginPythonVersion(plugin: string): string | undefined {
  const m = /^python(\d)(?:\.?(\d+))?$/.exec(plugin);
  if (m === null) return undefined;
  return m[2] !== undefined ? `${m[1]}.${m[2]}` : m[1];
}

/** "3.11" of "3.11.2 (main, …)". */
function majorMinor(version: string): string {
  return /^(\d+\.\d+)/.exec(version)?.[1] ?? version;
}

/** Plugin names that name a Python version; empty when none does (no need to ask the interpreter). */
export function versionedPythonPlugins(config: Config): string[] {
  return config.plugins.filter((p) => pluginPythonVersion(p) !== undefined);
}

/** One warning per plugin naming a Python version the workers' interpreter does not have. */
export function pluginVersionWarnings(config: Config, interpreter: Interpreter, version: string): string[] {
  const running = majorMinor(version);
  const where = describeSource(config.sources['plugin'] ?? { kind: 'default' });
  const warnings: string[] = [];
  for (const plugin of versionedPythonPlugins(config)) {
    const wanted = pluginPythonVersion(plugin) as string;
    const same = wanted.includes('.') ? wanted === running : wanted === running.split('.')[0];
    if (same) continue;
    warnings.push(
      `option 'plugin' (${where}): ${plugin} names Python ${wanted}, but the workers run Python ${running} (${interpreter.path}, chosen by ${interpreter.chosenBy}). ` +
      `Berth picks the interpreter from home or python, not from plugins: set home = /path/to/a/venv or python = /usr/bin/python${wanted} to run Python ${wanted}, or change the plugin to python${running.replace('.', '')}`,
    );
  }
  return warnings;
}

/** Asks the interpreter only when a plugin names a version; an interpreter that cannot run is reported by the spawn itself. */
export function warnAboutPluginVersions(config: Config, interpreter: Interpreter, warn: (message: string) => void): void {
  if (versionedPythonPlugins(config).length === 0) return;
  let version: string;
  try {
    version = interpreterVersion(interpreter);
  } catch {
    return;
  }
  for (const message of pluginVersionWarnings(config, interpreter, version)) warn(message);
}
