/** The package's public API for scripted benchmarks and embedding. */
import type { BenchmarkFile } from './config/schema.ts';
// Hands config the built-in workloads' definitions, so loadBenchmark knows them.
import './workloads/index.ts';

export type { BenchmarkFile } from './config/schema.ts';
export { loadBenchmark } from './config/load.ts';

/** Declares a benchmark in TypeScript; the value is checked like a YAML file when loaded. */
export function defineBenchmark(b: BenchmarkFile): BenchmarkFile {
  return b;
}
