/**
 * Turns a supervisor program's `command` into Berth options when it runs a WSGI server:
 * uWSGI's command line is read by Berth's own argv reader (getopt prefixes included, so
 * `--uwsgi` is uwsgi-socket as uWSGI reads it); gunicorn's common flags are mapped by name.
 * Options Berth refuses are kept as comments with the reason, so the output still loads.
 */
import path from 'node:path';
import { readArgv } from '../argv.js';
import { findOption } from '../options.js';

export interface WebCommand {
  readonly server: 'uwsgi' | 'gunicorn';
  /** [ini key, value or null for a bare flag] in command-line order. */
  readonly options: readonly (readonly [string, string | null])[];
  /** Lines to keep as comments: what was not converted and why. */
  readonly notes: readonly string[];
}

/** Splits a command as /bin/sh would for plain words, '…' and "…" quotes and backslashes. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i] as string;
    if (quote !== null) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
    } else if (c === '"' || c === "'") { quote = c; inWord = true; }
    else if (c === '\\' && i + 1 < command.length) { word += command[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) words.push(word); word = ''; inWord = false; }
    else { word += c; inWord = true; }
  }
  if (inWord) words.push(word);
  return words;
}

function uwsgiOptions(args: readonly string[]): WebCommand {
  const { settings, problems } = readArgv(args);
  const options: [string, string | null][] = [];
  const notes: string[] = problems.map((p) => `not converted: ${p.message}`);
  for (const s of settings) {
    const option = findOption(s.name);
    if (option === undefined) { notes.push(`not converted: ${s.written} ${s.value ?? ''} (not an option Berth knows)`.trimEnd()); continue; }
    if (option.status === 'planned' || option.status === 'refused') {
      notes.push(`not converted: ${s.written}${s.value !== null ? ` ${s.value}` : ''}: ${option.reason ?? 'not supported'}`);
      continue;
    }
    options.push([option.name, s.value]);
  }
  return { server: 'uwsgi', options, notes };
}

const GUNICORN: Readonly<Record<string, string>> = {
  '-b': 'http', '--bind': 'http', '-w': 'processes', '--workers': 'processes', '--threads': 'threads',
  '--chdir': 'chdir', '-t': 'harakiri', '--timeout': 'harakiri', '--pythonpath': 'pythonpath',
  '--max-requests': 'max-requests', '-p': 'pidfile', '--pid': 'pidfile', '--error-logfile': 'logto', '--log-file': 'logto',
};

function gunicornOptions(args: readonly string[]): WebCommand {
  const options: [string, string | null][] = [];
  const notes: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const eq = word.indexOf('=');
    const flag = word.startsWith('--') && eq > 0 ? word.slice(0, eq) : word;
    const key = GUNICORN[flag];
    if (key !== undefined) {
      const value = flag !== word ? word.slice(eq + 1) : (args[++i] ?? '');
      options.push([key, key === 'http' ? value.replace(/^unix:/, '') : value]);
    } else if (!word.startsWith('-')) {
      options.push(['module', word]);
    } else {
      notes.push(`not converted: gunicorn ${word} (no Berth counterpart mapped; see docs/configuration.md)`);
    }
  }
  return { server: 'gunicorn', options, notes };
}

/** The web server options of `command`, or null when it runs something else (a side program). */
export function webCommand(command: string): WebCommand | null {
  const words = splitCommand(command);
  const at = words.findIndex((w) => /^(?:uwsgi|uwsgi_python3\d*|gunicorn|gunicorn3)$/.test(path.basename(w)));
  if (at < 0) return null;
  const args = words.slice(at + 1);
  return path.basename(words[at] as string).startsWith('gunicorn') ? gunicornOptions(args) : uwsgiOptions(args);
}
