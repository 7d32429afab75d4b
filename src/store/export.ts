/** Exporters of the flat points table, one per format, behind one interface (DuckDB writes the files). */
import type { DuckDBConnection } from '@duckdb/node-api';
import { onDiskAsync } from '../base/fs-atomic.ts';
import { quoteString } from './database.ts';

export interface Exporter {
  format: string;
  extension: string;
  /** Writes the result of `query` to `path`. */
  write(conn: DuckDBConnection, query: string, path: string): Promise<void>;
}

const copy = (options: string) => async (conn: DuckDBConnection, query: string, path: string) => {
  await onDiskAsync('cannot write', path, () => conn.run(`COPY (${query}) TO ${quoteString(path)} (${options})`));
};

export const EXPORTERS: Record<string, Exporter> = {
  csv: { format: 'csv', extension: '.csv', write: copy('FORMAT csv, HEADER true') },
  json: { format: 'json', extension: '.json', write: copy('FORMAT json, ARRAY true') },
  parquet: { format: 'parquet', extension: '.parquet', write: copy('FORMAT parquet, COMPRESSION zstd') },
};
