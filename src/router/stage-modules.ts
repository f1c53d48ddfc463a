/** Imports the static and proxy stages' code only for a configuration that routes to them. */
import type { Config } from '../config/schema.js';
import type { StaticFiles } from '../static/static-files.js';
import type { ProxyStage } from '../proxy/proxy-stage.js';
import type { Upstream } from '../proxy/upstream.js';

/**
 * Why: a master that serves only an app would otherwise hold the proxy's 19 modules and the
 * static stage's 10 — their source, bytecode and tables stay in the heap for as long as the
 * process runs, since an ES module is never unloaded (docs/benchmarks.md, "issue 16 item 5:
 * loading less"). The front builds its routes synchronously at commit, so whoever commits a
 * configuration first awaits withStagesFor(config): the set only grows, so a rollback to an
 * older configuration finds what it needs.
 */
export interface StageModules {
  readonly StaticFiles: typeof StaticFiles | null;
  readonly proxy: { readonly ProxyStage: typeof ProxyStage; readonly Upstream: typeof Upstream } | null;
}

export const NO_STAGES: StageModules = { StaticFiles: null, proxy: null };

/** Whether `config` routes anything to the static stage (static-map and kin, check-static, Django's STATIC/MEDIA). */
export function needsStatic(config: Config): boolean {
  return config.staticMaps.length > 0 || config.checkStatic.length > 0 || config.staticFromDjango;
}

/** Whether `config` routes anything to an upstream group (proxy-pass). */
export function needsProxy(config: Config): boolean {
  return config.proxyRoutes.length > 0;
}

/** `have`, plus the stages `config` needs and `have` lacks (imported now, once per process). */
export async function withStagesFor(config: Config, have: StageModules = NO_STAGES): Promise<StageModules> {
  const StaticFiles = have.StaticFiles ?? (needsStatic(config) ? (await import('../static/static-files.js')).StaticFiles : null);
  let proxy = have.proxy;
  if (proxy === null && needsProxy(config)) {
    const [stage, upstream] = await Promise.all([import('../proxy/proxy-stage.js'), import('../proxy/upstream.js')]);
    proxy = { ProxyStage: stage.ProxyStage, Upstream: upstream.Upstream };
  }
  return { StaticFiles, proxy };
}
