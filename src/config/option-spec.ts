/**
 * The shape of one row of the option table (options.ts). Everything else — argv, ini, env,
 * `berth --help`, docs/configuration.md, validation — reads these rows, so adding an option
 * means adding a row, not touching the parsers.
 */
import type { Config } from './schema.js';

/** How a value is written; decides how it is parsed and whether `--flag` takes the next argument. */
export type OptionType = 'string' | 'path' | 'int' | 'bool' | 'size' | 'seconds' | 'address' | 'tls-address' | 'tls-keyval' | 'key=value';

/**
 * supported: Berth implements it.
 * accepted:  a real uWSGI option that is harmless in Berth; read, checked, then ignored (reason says why).
 * planned:   a real uWSGI option Berth does not implement yet; refused, and reason says what to do meanwhile.
 * refused:   a real uWSGI option Berth will not implement (another tool does the job, or Berth's design
 *            makes it moot); refused, and reason names the alternative.
 */
export type OptionStatus = 'supported' | 'accepted' | 'planned' | 'refused';

export type ConfigField = Exclude<keyof Config, 'sources'>;

export type OptionGroup = 'Listening' | 'Application' | 'Python' | 'Processes' | 'Limits and timeouts' | 'Logging' | 'Config files';

/** What an option-specific check found in a value (beyond its type): an error or a warning. */
export interface ValueNote { readonly severity: 'problem' | 'warning'; readonly message: string; readonly fix: string }

export interface OptionSpec {
  /** The uWSGI (long) name; canonical in Config.sources and messages. */
  readonly name: string;
  /** Other long names, valid everywhere (ini key, --flag, BERTH_ variable). */
  readonly aliases: readonly string[];
  /** One-letter command-line form (-p), command line only, as in uWSGI. */
  readonly short?: string;
  readonly type: OptionType;
  /** Repeated keys append instead of replacing. */
  readonly repeatable: boolean;
  /** Like getopt's optional_argument: `--flag` alone, or `--flag=value`; never takes the next argument. */
  readonly optionalValue?: boolean;
  /** Default, written as a user would write it (parsed by the same code as user values). */
  readonly default?: string;
  readonly help: string;
  readonly status: OptionStatus;
  /** accepted: why it is harmless; planned: what to do meanwhile; refused: what to use instead. */
  readonly reason?: string;
  readonly field?: ConfigField;
  /**
   * Handled while reading (include a file, define a placeholder) rather than stored in Config;
   * 'command': acts on the command line instead of serving (berth --python-version).
   */
  readonly role?: 'include' | 'placeholder' | 'command';
  readonly group: OptionGroup;
  /** Not a uWSGI option. */
  readonly berthOnly?: boolean;
  /** Inclusive bounds for numbers (in the parsed unit: count, bytes, milliseconds). */
  readonly range?: readonly [number, number];
  readonly check?: (value: string | null) => ValueNote | undefined;
  /** The uWSGI plugin that declares it ('core' for uWSGI's core); absent for Berth-only options. */
  readonly plugin?: string;
}

type Extra = Partial<Pick<OptionSpec, 'aliases' | 'short' | 'repeatable' | 'optionalValue' | 'check'>>;

/** A supported row of one table's group: `rowsIn('Listening')({ name, type, field, help, … })`. */
export function rowsIn(group: OptionGroup) {
  return (r: Omit<OptionSpec, 'aliases' | 'repeatable' | 'status' | 'group'> & Partial<Pick<OptionSpec, 'aliases' | 'repeatable'>>): OptionSpec =>
    ({ aliases: [], repeatable: false, status: 'supported', group, ...r });
}

/** A uWSGI option Berth reads and ignores. */
export function accepted(name: string, type: OptionType, group: OptionGroup, reason: string, extra: Extra = {}): OptionSpec {
  return { name, aliases: [], repeatable: false, ...extra, type, group, status: 'accepted', reason, help: reason };
}

/** A uWSGI option Berth refuses for now. */
export function planned(name: string, type: OptionType, group: OptionGroup, reason: string, extra: Extra = {}): OptionSpec {
  return { name, aliases: [], repeatable: false, ...extra, type, group, status: 'planned', reason, help: reason };
}

/** A uWSGI option Berth will not implement; reason names what to use instead. */
export function refused(name: string, type: OptionType, group: OptionGroup, reason: string, extra: Extra = {}): OptionSpec {
  return { name, aliases: [], repeatable: false, ...extra, type, group, status: 'refused', reason, help: reason };
}
