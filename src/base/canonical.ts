/** Canonical JSON (sorted keys) and stable hashes of settings. */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal settings give equal text. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

/** First 12 hex digits of SHA-256 over the canonical JSON: a short, stable key. */
export function stableKey(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 12);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
