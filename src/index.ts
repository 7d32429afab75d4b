/** The package's public API for scripted benchmarks and embedding. */
import type { BenchmarkFile } from './bench/schema.ts';

export type { BenchmarkFile } from './bench/schema.ts';
export { loadBenchmark } from './bench/load.ts';

/** Declares a benchmark in TypeScript; the value is checked like a YAML file when loaded. */
export function defineBenchmark(b: BenchmarkFile): BenchmarkFile {
  return b;
}
