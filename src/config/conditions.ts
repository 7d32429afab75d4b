/**
 * The conditions every point checks about itself, with their thresholds, declared once: the
 * engine and the workloads flag a point that crosses one, docs/conditions.md's table and `run --help`
 * print them from here. A flag says a figure of the point may not measure what it claims (CPU
 * figures that measure contention, a rate the encoder did not hold, a latency whose clocks are
 * too uncertain); it never changes a figure.
 */

/** What a point's conditions can say, one code each. */
export const CONDITION_CODES = ['saturated', 'frames_skipped', 'fps_below_target', 'cpu_steal', 'cpu_frequency_changed', 'agent_cpu', 'bitrate_target_missed', 'clock_uncertain', 'roles_share_machine'] as const;
export type ConditionCode = (typeof CONDITION_CODES)[number];

export const CONDITION_THRESHOLDS = {
  /** saturated: a machine counts as busy at this share of all its cores (90 %)... */
  busyShare: 0.9,
  /** ...and the point is saturated when it was so for at least this share of the window (20 %). */
  busyTimeShare: 0.2,
  /** frames_skipped: capture ticks skipped, share of the window's ticks (above 1 %, and more than one tick: one slow keyframe is no contention). */
  skippedShare: 0.01,
  /** fps_below_target: frames sent per second below this share of the target (95 %). */
  fpsShare: 0.95,
  /** cpu_steal: time the hypervisor gave to others, percent of all the machine's CPU time (above 5 %). */
  stealPct: 5,
  /** cpu_frequency_changed: the cores' mean clock moved by more than this percent in the window (10 %). */
  frequencyChangePct: 10,
  /** agent_cpu: the recording agent's own CPU, percent of one core (above 5 %). */
  agentCpuPct: 5,
  /** bitrate_target_missed: a constant-bitrate stream above its target by more than this percent (10 %). */
  bitrateOvershootPct: 10,
  /** clock_uncertain: the clock uncertainty across roles above this share of the latency median (10 %). */
  clockShareOfLatency: 0.1,
} as const;

/** One line per condition: its code, what crosses it, and whether it flags the point or notes it. */
export const CONDITION_DOCS: Readonly<Record<ConditionCode, { severity: 'flag' | 'note'; when: string }>> = {
  saturated: { severity: 'flag', when: `a machine of the point was busy on at least ${pct(CONDITION_THRESHOLDS.busyShare)} of all its cores for at least ${pct(CONDITION_THRESHOLDS.busyTimeShare)} of the recorded window (its CPU figures measure contention)` },
  frames_skipped: {
    severity: 'flag',
    when: `the guest skipped more than ${pct(CONDITION_THRESHOLDS.skippedShare)} of the window's capture ticks, and more than one, because its encoder was still busy (ticks a congested path held back are counted in guest.skipped_congested, not here)`,
  },
  fps_below_target: { severity: 'flag', when: `the guest sent fewer than ${pct(CONDITION_THRESHOLDS.fpsShare)} of the target frame rate (ticks a congested path held back count as sent)` },
  cpu_steal: { severity: 'flag', when: `CPU steal above ${CONDITION_THRESHOLDS.stealPct} % of a machine's CPU time in the window (a virtual machine sharing its host)` },
  cpu_frequency_changed: { severity: 'flag', when: `a machine's mean core clock moved by more than ${CONDITION_THRESHOLDS.frequencyChangePct} % in the window (where the system exposes it)` },
  agent_cpu: { severity: 'flag', when: `a recording agent used more than ${CONDITION_THRESHOLDS.agentCpuPct} % of a core (the recording itself weighs on the machine)` },
  bitrate_target_missed: { severity: 'flag', when: `a constant-bitrate (cbr) stream sent more than ${CONDITION_THRESHOLDS.bitrateOvershootPct} % above its target in the window (undershoot is not flagged: simple content needs fewer bits)` },
  clock_uncertain: { severity: 'flag', when: `the clock uncertainty across the roles' machines (clock.uncertainty_ms) exceeds ${pct(CONDITION_THRESHOLDS.clockShareOfLatency)} of latency.p50` },
  roles_share_machine: { severity: 'note', when: 'two or more roles ran on one machine (one boot id): their CPU figures share its cores (noted, not flagged)' },
};

function pct(share: number): string {
  return `${Math.round(share * 100)} %`;
}
