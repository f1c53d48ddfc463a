/** The shape of one stored uWSGI option (the rows in part*.ts). */

/** How uWSGI's getopt table declares the argument: required, none, or optional (`--x` or `--x=v`). */
export type UwsgiArgument = 'value' | 'flag' | 'optional';

/** [name, argument, short letter or '', plugin ('core' for the core), name it aliases or '']. */
export type UwsgiOption = readonly [name: string, argument: UwsgiArgument, short: string, plugin: string, aliasOf: string];
