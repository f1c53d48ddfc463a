/** Worker-thread entry: loads a serving configuration (or the emperor's) and posts the result back. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadEmperorConfig } from '../../config/emperor-config.js';
import { load } from './load.js';
import type { ThreadAnswer, ThreadRequest } from './load-off-thread.js';

const request = workerData as ThreadRequest;
const emperor = request.emperor ? loadEmperorConfig({ argv: request.argv, env: process.env, cwd: request.cwd }) : { kind: 'none' as const };
const answer: ThreadAnswer = emperor.kind === 'none' ? { kind: 'serve', result: load(request.argv, request.cwd) } : { kind: 'emperor', emperor };
parentPort!.postMessage(answer);
