#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`).
// The young generation is capped before any module loads: loading the CLI's modules would
// otherwise grow it to 8 MiB, pages that stay resident in a master that never needs them
// (src/master/young-generation.ts says why the cap costs no CPU). V8's optimizing compiler is
// held for the same reason until the master serves (src/master/start-up-compiler.ts).
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--semi-space-growth-factor=1');
const { holdOptimizingCompiler } = await import('../dist/src/master/start-up-compiler.js');
holdOptimizingCompiler();
const { main } = await import('../dist/src/cli/main.js');
main(process.argv.slice(2)).then((code) => { if (typeof code === 'number') process.exitCode = code; });
