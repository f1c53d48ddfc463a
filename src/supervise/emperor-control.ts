/**
 * berth ctl against an emperor (its ctl-socket): status lists the vassals (state, pid, uptime,
 * restarts, throttle delay); start, stop and restart act on one vassal (or all). A vassal stopped
 * here stays stopped, file and all, until berth ctl starts it (or the emperor restarts).
 */
import type net from 'node:net';
import { EXIT, type ControlRequest } from './control-protocol.js';
import { unknownNameExit } from './control-server.js';
import { ControlSocket, reply } from './control-socket.js';
import type { Emperor } from './emperor.js';
import type { Vassal } from './vassal.js';

export class EmperorControl {
  readonly #emperor: Emperor;
  readonly #socket: ControlSocket;
  readonly #log: (level: 'info' | 'warn' | 'error', message: string) => void;

  constructor(path: string, emperor: Emperor, log: (level: 'info' | 'warn' | 'error', message: string) => void) {
    this.#emperor = emperor;
    this.#log = log;
    this.#socket = new ControlSocket(path, (req, socket) => this.#answer(req, socket));
  }

  listen(): Promise<void> {
    return this.#socket.listen();
  }

  close(): void {
    this.#socket.close();
  }

  async #answer(req: ControlRequest, socket: net.Socket): Promise<void> {
    const name = req.name ?? 'all';
    const one = this.#emperor.vassal(name);
    const targets: Vassal[] = name === 'all' ? this.#emperor.vassals : one !== undefined ? [one] : [];
    if (name !== 'all' && targets.length === 0) return void socket.end(reply({ ok: false, exit: unknownNameExit(req.cmd), message: `${name}: ERROR (no vassal named '${name}'; berth ctl status lists them, by file name)` }));
    switch (req.cmd) {
      case 'status': {
        const rows = targets.map((v) => v.status());
        // THROTTLED is supervisor's BACKOFF (a restart is coming): like supervisorctl, only STOPPED exits 3.
        const down = rows.some((r) => r.state === 'STOPPED');
        return void socket.end(reply({ ok: true, exit: down ? EXIT.notRunning : EXIT.ok, programs: rows }));
      }
      case 'start':
      case 'stop':
      case 'restart': {
        const messages: string[] = [];
        for (const v of targets) {
          if (req.cmd === 'stop' && v.state === 'stopped') { messages.push(`${v.name}: ERROR (not running)`); continue; }
          if (req.cmd !== 'start') await v.stop(`berth ctl ${req.cmd}`);
          if (req.cmd === 'stop') { messages.push(`${v.name}: stopped`); continue; }
          // A restart awaited the stop: the emperor may be stopping, or the file gone, by now.
          if (this.#emperor.vassal(v.name) !== v || this.#emperor.stopping) { messages.push(`${v.name}: ERROR (the emperor is stopping, or the vassal's file was removed)`); continue; }
          messages.push(v.startNow() ? `${v.name}: started` : `${v.name}: ERROR (already started)`);
        }
        this.#log('info', `[emperor] berth ctl ${req.cmd} ${name}: ${messages.join('; ')}`);
        return void socket.end(reply({ ok: true, exit: EXIT.ok, message: messages.join('\n'), programs: targets.map((v) => v.status()) }));
      }
      default:
        return void socket.end(reply({ ok: false, exit: EXIT.usage, message: `an emperor answers status, start, stop and restart; '${req.cmd}' is for a vassal's own Berth: berth ctl --ini VASSAL.ini ${req.cmd} …` }));
    }
  }
}
