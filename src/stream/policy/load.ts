/**
 * Creates the policy a stream's settings name: a built-in, or a user's file whose text came with
 * the settings (written to a temporary file named by its hash and imported through tsx, as
 * TypeScript benchmark files are), so a guest on another machine runs the code the engine read.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../../base/errors.ts';
import { modelFromCode } from '../../config/saved-model.ts';
import { modelSetting, type StreamSettings } from '../../config/stream-settings.ts';
import { createAimd } from './aimd.ts';
import { createGcc } from './gcc.ts';
import { createModelPolicy } from './model.ts';
import type { PolicyFactory, PolicyInit, RatePolicy } from './policy.ts';

const BUILTIN: Record<string, PolicyFactory | undefined> = { aimd: createAimd, gcc: createGcc };

/** The policy's init from the stream's settings. */
export function policyInit(s: StreamSettings): PolicyInit {
  return { bitrateBps: s.bitrateBps, fps: s.fps, width: s.width, height: s.height, codec: s.codec, transport: s.transport, params: s.policyParams };
}

/** The policy of the settings; undefined for `fixed`. Throws with the policy's name and what went wrong. */
export async function createPolicy(s: StreamSettings): Promise<RatePolicy | undefined> {
  if (s.policy === 'fixed') return undefined;
  const builtin = BUILTIN[s.policy];
  const factory = s.policy === 'model' ? modelFactory(s) : (builtin ?? (await loadPolicyFile(s)));
  let p: unknown;
  try {
    p = factory(policyInit(s));
  } catch (e) {
    throw new Error(`policy ${s.policy}: creating it failed: ${errorMessage(e)}`);
  }
  if (p === null || typeof p !== 'object' || typeof (p as { decide?: unknown }).decide !== 'function') throw new Error(`policy ${s.policy}: its factory must return an object with a decide(observation) method`);
  return p as RatePolicy;
}

/** The model policy's factory, with the models that came in the settings (their hashes checked again here, where they are used). */
function modelFactory(s: StreamSettings): PolicyFactory {
  const models = s.policyModels;
  if (!models) throw new Error('policy model: its models did not come with the settings (the engine reads the files policy_models names and passes their text)');
  return (init) => createModelPolicy(init, { quality: modelFromCode(models.quality), cpu: modelFromCode(models.cpu), base: modelSetting(s), budgetPct: s.policyCpuBudget });
}

async function loadPolicyFile(s: StreamSettings): Promise<PolicyFactory> {
  const code = s.policyCode;
  if (!code) throw new Error(`policy ${s.policy}: its code did not come with the settings (the engine reads the file and passes its text)`);
  const ext = /\.(m?ts|m?js)$/.exec(code.name)?.[0] ?? '.ts';
  const dir = join(tmpdir(), 'streambench-policies');
  mkdirSync(dir, { recursive: true });
  // Named by content: two points with the same code share it, and a changed file is a new module.
  const file = join(dir, `${code.sha256}${ext}`);
  writeFileSync(file, code.source);
  let mod: { default?: unknown };
  try {
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    throw new Error(`policy ${code.name} failed to load: ${errorMessage(e).split('\n')[0]}`);
  }
  // Loaded as CommonJS outside an ESM package, the default export nests once more.
  let f = mod.default;
  if (f && typeof f === 'object' && 'default' in f) f = f.default;
  if (typeof f !== 'function') throw new Error(`policy ${code.name} must default-export a function (init) => ({ decide(observation) { ... } })`);
  return f as PolicyFactory;
}
