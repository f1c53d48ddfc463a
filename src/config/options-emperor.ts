/**
 * The option rows of the emperor (issue 15): one Berth instance per vassal ini in a directory,
 * uWSGI's emperor options that Berth implements, and the ones it refuses with a reason.
 * Same row shape as options.ts.
 */
import { refused, rowsIn, type OptionSpec } from './option-spec.js';

const row = rowsIn('Processes');

export const EMPEROR_OPTIONS: readonly OptionSpec[] = [
  row({
    name: 'emperor', type: 'string', field: 'emperor',
    help: "Run as an emperor: one Berth instance (its own master) per vassal ini in this directory, or matching this glob (/etc/berth/vassals/*.ini). A new file starts a vassal, a touched file reloads it gracefully (SIGHUP), a removed file stops it (SIGTERM). An emperor config holds only emperor options. See docs/supervision-emperor.md.",
  }),
  row({
    name: 'emperor-stats', aliases: ['emperor-stats-server'], type: 'address', field: 'emperorStats',
    help: "Serve the emperor's stats document (uWSGI's emperor format: vassals with id, pid, born, last_mod, loyal, ready, accepting, respawns…; the throttled ones under blacklist) on this address; one JSON document per connection, then EOF.",
  }),
  row({
    name: 'emperor-throttle', type: 'int', default: '1000', range: [1, 3_600_000], field: 'emperorThrottleMs',
    help: 'Milliseconds before restarting a vassal that exited on its own; each further exit before it was loyal (30 s up) doubles the delay, up to emperor-max-throttle.',
  }),
  row({
    name: 'emperor-max-throttle', type: 'int', default: '60000', range: [1, 86_400_000], field: 'emperorMaxThrottleMs',
    help: 'The longest delay (milliseconds) before restarting a crash-looping vassal.',
  }),
  row({
    name: 'emperor-freq', type: 'int', default: '3', range: [1, 3600], field: 'emperorFreqSeconds',
    help: 'Seconds between two scans of the vassal directory; file events (inotify) trigger a scan at once, the periodic scan catches the ones they miss.',
  }),
  refused('emperor-tyrant', 'bool', 'Processes', "Berth starts every vassal as the emperor's own user; set uid and gid in each vassal ini (the emperor running as root) instead of deriving them from the file's owner"),
  refused('vassals-include', 'string', 'Processes', 'vassals inherit the emperor\'s environment: set shared options as BERTH_<OPTION> variables of the emperor, or write them in each vassal ini'),
  refused('vassal-set', 'string', 'Processes', 'vassals inherit the emperor\'s environment: set shared options as BERTH_<OPTION> variables of the emperor, or write them in each vassal ini'),
];
