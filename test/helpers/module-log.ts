/** Preloaded with --import: registers ./module-log-hooks.js, so a test can read which modules a process loaded. */
import { register } from 'node:module';

register('./module-log-hooks.js', import.meta.url);
