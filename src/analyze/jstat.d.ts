// jstat ships no types: only the few functions src/analyze calls are declared here.
declare module 'jstat' {
  interface Dist {
    inv(p: number, df: number): number;
    cdf(x: number, df: number): number;
  }
  interface FDist {
    cdf(x: number, df1: number, df2: number): number;
  }
  const jStat: { studentt: Dist; centralF: FDist; ibeta(x: number, a: number, b: number): number; jStat: unknown };
  export default jStat;
}
