// The tests' own DuckDB, apart from the code under test: a fresh in-memory database per query
// (parquet files are read by path), so a test's reference figures share nothing with the GUI's.
import { DuckDBInstance } from '@duckdb/node-api';

/** Runs one query in a fresh in-memory DuckDB and returns its rows. */
export async function duckRows(sql: string): Promise<unknown[][]> {
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRows();
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}
