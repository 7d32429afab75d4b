// GPU parsers on recorded outputs of nvidia-smi and intel_gpu_top (fixtures/SOURCES.md says where
// each comes from), the tool-running probes on a fake tool, and the AMD probe on a fake sysfs.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AmdGpuProbe, IntelGpuProbe, intelValues, JsonObjectStream, nvidiaCsvValues, nvidiaDmonValues, NvidiaProbe, parseIntelGpuTopJson, parseNvidiaDmon, parseNvidiaSmiCsv, which } from './index.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

test('nvidia-smi CSV: a loaded RTX 3080 (zhebrak/nvidia_smi_exporter#5 values)', () => {
  const rows = parseNvidiaSmiCsv(fixture('nvidia-smi-query-rtx3080.csv'));
  assert.deepEqual(rows, [{ index: 0, name: 'GeForce RTX 3080', utilPct: 100, memUtilPct: 100, memUsedMb: 5375, memTotalMb: 10014, encSessions: 0, encFps: 0, tempC: 60, powerW: 209.7, smClockMhz: 1395 }]);
  assert.deepEqual(nvidiaCsvValues(rows), {
    'gpu.nvidia.0.util_pct': 100,
    'gpu.nvidia.0.mem_util_pct': 100,
    'gpu.nvidia.0.mem_used_mb': 5375,
    'gpu.nvidia.0.mem_total_mb': 10014,
    'gpu.nvidia.0.enc_sessions': 0,
    'gpu.nvidia.0.enc_fps': 0,
    'gpu.nvidia.0.temp_c': 60,
    'gpu.nvidia.0.power_w': 209.7,
    'gpu.nvidia.0.sm_clock_mhz': 1395,
  });
});

test('nvidia-smi CSV: [N/A] (current drivers) and [Not Supported] (older ones) leave the figure out', () => {
  const [na] = parseNvidiaSmiCsv(fixture('nvidia-smi-query-na.csv'));
  assert.equal(na?.name, 'NVIDIA GeForce RTX 3080');
  assert.equal(na.utilPct, undefined);
  assert.equal(na.powerW, undefined);
  assert.equal(na.memUsedMb, 1211);
  assert.equal(na.memTotalMb, 10240);
  assert.equal(na.tempC, 54);
  assert.deepEqual(Object.keys(nvidiaCsvValues([na])).sort(), ['gpu.nvidia.0.mem_total_mb', 'gpu.nvidia.0.mem_used_mb', 'gpu.nvidia.0.temp_c']);

  const [old] = parseNvidiaSmiCsv(fixture('nvidia-smi-query-not-supported.csv'));
  assert.deepEqual(nvidiaCsvValues([old!]), {
    'gpu.nvidia.0.util_pct': 0,
    'gpu.nvidia.0.mem_util_pct': 0,
    'gpu.nvidia.0.mem_used_mb': 0,
    'gpu.nvidia.0.mem_total_mb': 2004,
    'gpu.nvidia.0.temp_c': 44,
  });
});

test('nvidia-smi CSV: several GPUs, a name with a comma, blank and partial lines', () => {
  const rows = parseNvidiaSmiCsv('0, Tesla T4, 12, 3, 100, 15360, 2, 59.5, 41, 27.94, 1590\n\n1, Odd, Name, 7, 1, 2, 3, 0, 0, 40, 30.00, 300\n2, truncated\n');
  assert.deepEqual(
    rows.map((r) => [r.index, r.name, r.utilPct, r.encSessions, r.encFps, r.smClockMhz]),
    [
      [0, 'Tesla T4', 12, 2, 59.5, 1590],
      [1, 'Odd, Name', 7, 0, 0, 300],
    ],
  );
});

test('nvidia-smi dmon -s u, older driver (influxdata/telegraf#5532)', () => {
  const rows = parseNvidiaDmon(fixture('nvidia-dmon-u-old.txt'));
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], { gpu: 0, values: { sm: 0, mem: 0, enc: 0, dec: 0 } });
  assert.deepEqual(nvidiaDmonValues(rows), { 'gpu.nvidia.0.sm_pct': 0, 'gpu.nvidia.0.mem_util_pct': 0, 'gpu.nvidia.0.enc_pct': 0, 'gpu.nvidia.0.dec_pct': 0 });
});

test('nvidia-smi dmon -s pucvmet on four GPUs, "-" for unsupported ECC counters (mozilla/DeepSpeech#178)', () => {
  const rows = parseNvidiaDmon(fixture('nvidia-dmon-pucvmet-4gpu.txt'));
  assert.deepEqual(
    rows.map((r) => r.gpu),
    [0, 1, 2, 3],
  );
  assert.deepEqual(rows[1]!.values, { pwr: 111, temp: 84, sm: 18, mem: 5, enc: 0, dec: 0, mclk: 4513, pclk: 1733, pviol: 0, tviol: 0, fb: 11653, bar1: 2, pci: 0, rxpci: 25, txpci: 14 });
  const v = nvidiaDmonValues(rows);
  assert.equal(v['gpu.nvidia.3.power_w'], 86);
  assert.equal(v['gpu.nvidia.3.temp_c'], 70);
  assert.equal(v['gpu.nvidia.3.sm_pct'], 18);
  assert.equal(v['gpu.nvidia.3.fb_used_mb'], 11660);
  assert.equal(v['gpu.nvidia.3.pcie_rx_mb_per_s'], 62);
  assert.equal(v['gpu.nvidia.3.dmon_pviol'], 0);
  assert.equal(v['gpu.nvidia.3.dmon_sbecc'], undefined);
});

test('nvidia-smi dmon -s pucm on a current driver: jpg/ofa/ccpm columns, "-" memory temperature', () => {
  const rows = parseNvidiaDmon(fixture('nvidia-dmon-pucm.txt'));
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1], { gpu: 0, values: { pwr: 21, gtemp: 37, sm: 36, mem: 17, enc: 0, dec: 0, jpg: 0, ofa: 0, mclk: 810, pclk: 675, fb: 433, bar1: 30, ccpm: 0 } });
  const v = nvidiaDmonValues(rows);
  assert.equal(v['gpu.nvidia.0.sm_pct'], 36);
  assert.equal(v['gpu.nvidia.0.clock_mhz'], 675);
  assert.equal(v['gpu.nvidia.0.mem_temp_c'], undefined);
});

test('nvidia-smi dmon -o TD: Date and Time columns, trailing spaces and a blank line', () => {
  const rows = parseNvidiaDmon(fixture('nvidia-dmon-mutc-TD.txt'));
  assert.equal(rows.length, 4);
  assert.deepEqual(rows[3], { gpu: 0, values: { fb: 478, bar1: 6, ccpm: 0, sm: 13, mem: 0, enc: 0, dec: 0, jpg: 0, ofa: 0, rxpci: 44, txpci: 30, mclk: 6250, pclk: 1695 } });
});

test('intel_gpu_top -J: two periods of a Gen12 iGPU, stream not yet closed', () => {
  const samples = parseIntelGpuTopJson(fixture('intel_gpu_top-gen12-video.json'));
  assert.equal(samples.length, 2);
  const [a, b] = samples;
  assert.equal(a!.periodMs, 1000.175547);
  assert.equal(a!.freqRequestedMhz, 1301.771478);
  assert.equal(a!.freqActualMhz, 1151.797805);
  assert.equal(a!.irqPerS, 520.908556);
  assert.equal(a!.rc6Pct, 45.313833);
  assert.equal(a!.powerGpuW, undefined);
  assert.deepEqual(Object.keys(a!.engines), ['Render/3D/0', 'Blitter/0', 'Video/0', 'Video/1', 'VideoEnhance/0']);
  assert.deepEqual(a!.engines['Video/0'], { busy: 39.320112, sema: 0, wait: 0 });
  assert.equal(a!.engines['Video/1']!.busy, 11.719689);
  assert.equal(b!.engines['Video/0']!.busy, 48.918471);
  assert.equal(b!.freqActualMhz, 1180.761297);
  const v = intelValues(b!);
  assert.equal(v['gpu.intel.video_0.busy_pct'], 48.918471);
  assert.equal(v['gpu.intel.render_3d_0.busy_pct'], 0);
  assert.equal(v['gpu.intel.videoenhance_0.wait_pct'], 0);
  assert.equal(v['gpu.intel.rc6_pct'], 48.217324);
  assert.equal(v['gpu.intel.freq_req_mhz'], 1288.739468);
});

test('intel_gpu_top -J: power and the per-client section (its string numbers are left out)', () => {
  const [s] = parseIntelGpuTopJson(fixture('intel_gpu_top-tigerlake-clients.json'));
  assert.equal(s!.powerGpuW, 0.09629);
  assert.equal(s!.powerPackageW, 13.721325);
  assert.equal(s!.rc6Pct, 100);
  assert.equal(s!.periodMs, 7.606417);
  const v = intelValues(s!);
  assert.equal(v['gpu.intel.power_pkg_w'], 13.721325);
  assert.equal(v['gpu.intel.irq_per_s'], 131.467943);
  assert.ok(!Object.keys(v).some((k) => k.includes('konsole') || k.includes('clients')));
});

test('JsonObjectStream: objects come out whole whatever the chunking, braces in strings do not count', () => {
  const text = fixture('intel_gpu_top-gen12-video.json');
  for (const size of [1, 7, 64, 1000]) {
    const s = new JsonObjectStream();
    const got: unknown[] = [];
    for (let i = 0; i < text.length; i += size) got.push(...s.push(text.slice(i, i + size)));
    assert.equal(got.length, 2, `chunks of ${size}`);
  }
  const s = new JsonObjectStream();
  assert.deepEqual(s.push('[\n{"name": "a}\\"{b", "n": {"x": 1}},\n{"n'), [{ name: 'a}"{b', n: { x: 1 } }]);
  assert.deepEqual(s.push('": 2}\n]'), [{ n: 2 }]);
  assert.equal(s.errors, 0);
});

test('NvidiaProbe and IntelGpuProbe say unavailable without their tools, and start nothing', async () => {
  const nv = new NvidiaProbe({ command: ['sb-no-such-nvidia-smi'] });
  const intel = new IntelGpuProbe({ command: ['sb-no-such-intel_gpu_top'] });
  assert.equal(nv.available, false);
  assert.equal(intel.available, false);
  assert.deepEqual(nv.sample(0), {});
  assert.deepEqual(intel.sample(0), {});
  nv.close();
  intel.close();
  // On this machine the real tools are absent too (the agent then leaves these probes out).
  assert.equal(new NvidiaProbe().available, which('nvidia-smi') !== undefined);
  assert.equal(new IntelGpuProbe().available, which('intel_gpu_top') !== undefined);
});

/** A fake tool: a node script that prints a fixture (in pieces, as a pipe delivers it) and stays alive. */
function fakeTool(dir: string, name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!${process.execPath}\n${body}\nsetInterval(() => {}, 1000);\n`);
  chmodSync(file, 0o755);
  return file;
}

async function until<T>(f: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('NvidiaProbe streams both children of a (fake) nvidia-smi and returns the latest figures', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-gpu-'));
  try {
    const csv = fixture('nvidia-smi-query-rtx3080.csv');
    const dmon = fixture('nvidia-dmon-pucm.txt');
    const tool = fakeTool(
      dir,
      'nvidia-smi',
      `const a = process.argv.slice(2);
if (a[0] === 'dmon') { if (a.join(' ') !== 'dmon -s um -d 1') process.exit(3); const t = ${JSON.stringify(dmon)}; process.stdout.write(t.slice(0, 100)); setTimeout(() => process.stdout.write(t.slice(100)), 50); }
else { if (!a.includes('--format=csv,noheader,nounits') || !a.includes('-lms')) process.exit(3); process.stdout.write(${JSON.stringify(csv)}); }`,
    );
    const p = new NvidiaProbe({ intervalMs: 500, command: [tool] });
    assert.equal(p.available, true);
    try {
      const v = await until(() => {
        const s = p.sample(0);
        // Each child's own figure: sm_pct only from dmon, util_pct only from the query (on a busy
        // machine either may come first, and power alone could be dmon's).
        return s['gpu.nvidia.0.sm_pct'] === 36 && s['gpu.nvidia.0.util_pct'] !== undefined ? s : undefined;
      }, 5000);
      assert.equal(v['gpu.nvidia.0.enc_pct'], 0);
      assert.equal(v['gpu.nvidia.0.fb_used_mb'], 433);
      assert.equal(v['gpu.nvidia.0.util_pct'], 100);
      assert.equal(v['gpu.nvidia.0.sm_clock_mhz'], 1395);
      // Both children report power and memory utilisation here: the query's figures win.
      assert.equal(v['gpu.nvidia.0.power_w'], 209.7);
      assert.equal(v['gpu.nvidia.0.mem_util_pct'], 100);
      assert.equal(p.lastError, undefined);
    } finally {
      p.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('IntelGpuProbe parses a (fake) intel_gpu_top as its JSON streams in', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-gpu-'));
  try {
    const text = fixture('intel_gpu_top-gen12-video.json');
    const tool = fakeTool(
      dir,
      'intel_gpu_top',
      `if (process.argv.slice(2).join(' ') !== '-J -s 250') process.exit(3);
const t = ${JSON.stringify(text)}; const cut = t.indexOf('},\\n{') + 4;
process.stdout.write(t.slice(0, cut)); setTimeout(() => process.stdout.write(t.slice(cut)), 100);`,
    );
    const p = new IntelGpuProbe({ intervalMs: 250, command: [tool] });
    try {
      const first = await until(() => p.sample(0)['gpu.intel.video_0.busy_pct'], 5000);
      assert.ok(first === 39.320112 || first === 48.918471);
      const second = await until(() => (p.sample(0)['gpu.intel.video_0.busy_pct'] === 48.918471 ? true : undefined), 5000);
      assert.equal(second, true);
    } finally {
      p.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('AmdGpuProbe reads amdgpu sysfs files under a fake root; connectors and non-amdgpu cards are skipped', () => {
  const root = mkdtempSync(join(tmpdir(), 'sb-amd-'));
  try {
    const card = (name: string, files: Record<string, string>) => {
      const dir = join(root, 'sys/class/drm', name, 'device');
      mkdirSync(dir, { recursive: true });
      for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
    };
    card('card0', { gpu_busy_percent: '37\n', mem_busy_percent: '12\n', mem_info_vram_used: `${512 * 1048576}\n`, mem_info_vram_total: `${8192 * 1048576}\n` });
    card('card1', { vendor: '0x8086\n' });
    card('card0-DP-1', { gpu_busy_percent: '99\n' });
    card('card2', { gpu_busy_percent: '0\n', mem_busy_percent: '\n' });
    const p = new AmdGpuProbe({ root });
    assert.equal(p.available, true);
    assert.deepEqual(p.sample(0), {
      'gpu.amd.card0.busy_pct': 37,
      'gpu.amd.card0.mem_busy_pct': 12,
      'gpu.amd.card0.vram_used_mb': 512,
      'gpu.amd.card0.vram_total_mb': 8192,
      'gpu.amd.card2.busy_pct': 0,
    });
    assert.equal(new AmdGpuProbe({ root: join(root, 'nothing') }).available, false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
