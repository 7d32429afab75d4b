// CpuFreqProbe: sysfs first, /proc/cpuinfo as the fallback, nothing (and available false) without either.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CpuFreqProbe, parseCpuinfoMhz } from './cpufreq.ts';

// Two processor blocks of an x86 /proc/cpuinfo (most lines cut), processor 1 offline.
const CPUINFO = 'processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\ncpu MHz\t\t: 2596.144\ncache size\t: 33792 KB\n\nprocessor\t: 2\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 1200.000\n\n';

test('parseCpuinfoMhz keeps each processor number', () => {
  assert.deepEqual(parseCpuinfoMhz(CPUINFO), [
    { cpu: 0, mhz: 2596.144 },
    { cpu: 2, mhz: 1200 },
  ]);
  // arm64 prints no "cpu MHz".
  assert.deepEqual(parseCpuinfoMhz('processor\t: 0\nBogoMIPS\t: 50.00\n'), []);
});

test('CpuFreqProbe: scaling_cur_freq (kHz) when present, else cpuinfo, else nothing', () => {
  const root = mkdtempSync(join(tmpdir(), 'sb-freq-'));
  try {
    const sys = join(root, 'sys');
    const proc = join(root, 'proc');
    mkdirSync(proc, { recursive: true });
    writeFileSync(join(proc, 'cpuinfo'), CPUINFO);
    for (const [core, khz] of [
      ['cpu0', '3400000'],
      ['cpu1', '800000'],
      ['cpu10', '1600000'],
    ] as const) {
      mkdirSync(join(sys, 'devices/system/cpu', core, 'cpufreq'), { recursive: true });
      writeFileSync(join(sys, 'devices/system/cpu', core, 'cpufreq/scaling_cur_freq'), `${khz}\n`);
    }
    mkdirSync(join(sys, 'devices/system/cpu/cpufreq'), { recursive: true }); // the policy directory, not a core
    const a = new CpuFreqProbe({ sysRoot: sys, procRoot: proc });
    assert.equal(a.source, 'sysfs');
    assert.deepEqual(a.sample(0), {
      'cpufreq.cpu0.mhz': 3400,
      'cpufreq.cpu1.mhz': 800,
      'cpufreq.cpu10.mhz': 1600,
      'cpufreq.mean_mhz': 1933.3333333333333,
      'cpufreq.min_mhz': 800,
      'cpufreq.max_mhz': 3400,
    });

    const b = new CpuFreqProbe({ sysRoot: join(root, 'nosys'), procRoot: proc });
    assert.equal(b.source, 'cpuinfo');
    assert.equal(b.available, true);
    assert.deepEqual(b.sample(0), { 'cpufreq.cpu0.mhz': 2596.144, 'cpufreq.cpu2.mhz': 1200, 'cpufreq.mean_mhz': 1898.072, 'cpufreq.min_mhz': 1200, 'cpufreq.max_mhz': 2596.144 });

    writeFileSync(join(proc, 'cpuinfo'), 'processor\t: 0\nBogoMIPS\t: 50.00\n');
    const c = new CpuFreqProbe({ sysRoot: join(root, 'nosys'), procRoot: proc });
    assert.equal(c.available, false);
    assert.deepEqual(c.sample(0), {});
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('CpuFreqProbe on this machine uses what it has', () => {
  const p = new CpuFreqProbe();
  const sysfs = existsSync('/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq');
  const cpuinfo = /^cpu MHz/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  assert.equal(p.source, sysfs ? 'sysfs' : cpuinfo ? 'cpuinfo' : 'none');
  const v = p.sample(0);
  if (p.available) assert.ok(v['cpufreq.mean_mhz']! > 0);
  else assert.deepEqual(v, {});
});
