import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fUpperP, mean, meanInterval, normalDraw, positiveMetric, seededRandom, tQuantile, variance } from './stats.ts';

test('a positive metric with 2 repetitions: the interval of its mean stays above zero (on the log scale), where the t-interval did not', () => {
  // Two runs of a latency, 43.0 and 51.7 ms: the t-interval at 1 df is 47.35 +- 55.3, from -7.9 ms.
  const ys = [43.0, 51.7];
  const m = mean(ys);
  const se = Math.sqrt(variance(ys) / ys.length);
  const [tlo, thi] = meanInterval(m, se, 1, false)!;
  assert.ok(tlo < 0, `the plain t-interval reaches ${tlo}`);
  assert.ok(Math.abs(thi - tlo - 2 * tQuantile(0.975, 1) * se) < 1e-9);
  const [lo, hi] = meanInterval(m, se, 1, true)!;
  assert.ok(lo > 0 && lo < m && m < hi, `log-scale interval [${lo}, ${hi}] around ${m}`);
  // Symmetric on the log scale: mean / f and mean x f.
  assert.ok(Math.abs(Math.log(m) - Math.log(lo) - (Math.log(hi) - Math.log(m))) < 1e-12);
  assert.ok(Math.abs(Math.log(hi / m) - (tQuantile(0.975, 1) * se) / m) < 1e-12);
  // No spread: the interval is the mean; no degrees of freedom: none.
  assert.deepEqual(meanInterval(5, 0, 3, true), [5, 5]);
  assert.equal(meanInterval(5, 1, 0, true), undefined);
});

test('the log-scale interval of a mean covers the true mean of lognormal runs about 95 % of the time (5 runs, 2000 sets)', () => {
  const rand = seededRandom(11);
  const [mu, sigma, n, sets] = [Math.log(40), 0.3, 5, 2000];
  const truth = Math.exp(mu + (sigma * sigma) / 2);
  let covered = 0;
  for (let s = 0; s < sets; s++) {
    const ys = Array.from({ length: n }, () => Math.exp(mu + sigma * normalDraw(rand)));
    const [lo, hi] = meanInterval(mean(ys), Math.sqrt(variance(ys) / n), n - 1, true)!;
    if (lo <= truth && truth <= hi) covered++;
  }
  // Binomial(2000, 0.95) lies within 0.93..0.97 with probability > 0.999; the delta method on a skewed
  // quantity is an approximation, so the bound below is a little wider.
  assert.ok(covered / sets >= 0.92 && covered / sets <= 0.98, `${covered}/${sets} covered`);
});

test('a metric is positive for its intervals when its unit cannot be negative and no value is', () => {
  assert.equal(positiveMetric('ms', 0.4), true);
  assert.equal(positiveMetric('%', 0), true);
  assert.equal(positiveMetric('ms', -3), false, 'an offset in ms that went negative');
  assert.equal(positiveMetric('dB', 30), false, 'a level in dB may be negative');
  assert.equal(positiveMetric(null, 5), false, 'a metric nobody declared');
  assert.equal(positiveMetric('ms', null), false, 'no value');
});

test("the F test's upper tail matches scipy.stats.f.sf, far into the tail too (where 1 - cdf would be 0)", () => {
  // [F, df1, df2, scipy.stats.f.sf(F, df1, df2)]
  const cases: [number, number, number, number][] = [
    [81, 1, 5, 0.00028267997424389707],
    [2.5, 3, 20, 0.08884375193768917],
    [0.5, 4, 10, 0.736775548696845],
    [198.58, 1, 65, 1.9644168670200345e-21],
    [157.82, 2, 65, 1.129705617653451e-25],
  ];
  for (const [f, a, b, want] of cases) {
    const got = fUpperP(f, a, b);
    assert.ok(Math.abs(got - want) <= 1e-6 * want, `F(${a}, ${b}) = ${f}: ${got} vs scipy ${want}`);
  }
  assert.equal(fUpperP(0, 2, 10), 1);
  assert.ok(Number.isNaN(fUpperP(1, 0, 10)));
});
