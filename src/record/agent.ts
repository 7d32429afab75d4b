/**
 * The recording agent: one per machine of the chain (guest, host, client, or any role). It
 * samples its probes, keeps what it sampled in numbered batches until the collector
 * acknowledges them, takes frame events from the pipeline roles of its machine, serves its
 * latest values to Prometheus, and runs hook commands when allowed to.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cpus, hostname, release, totalmem } from 'node:os';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { machineIdentity } from '../base/machine.ts';
import { killGroup } from '../base/process-group.ts';
import { checkRequest, machineNames, rulesProblem, type ServerRules } from '../base/request-rules.ts';
import { AgentProcs, ProcSignal, ProcStart } from './agent-procs.ts';
import { createProbes, ProcessProbe, type ProbeConfig } from './probes/index.ts';
import type { Probe } from './probe.ts';
import {
  checkBody,
  EventsBody,
  MAX_BODY_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  RunBody,
  SelectBody,
  SessionStart,
  type Batch,
  type FrameEvent,
  type Hello,
  type HostFacts,
  type ProbeError,
  type ProbeSettings,
  type RunReply,
  type Sample,
  type Selector,
} from './protocol.ts';

export interface AgentOptions {
  role: string;
  host: string;
  port: number;
  /** Required when listening beyond loopback or running commands; then every request needs it. */
  token?: string;
  /** Names clients beyond loopback may give in Host besides this machine's name and addresses. */
  allowedHosts?: string[];
  allowCommands: boolean;
  /** How often samples are packed into a batch (default 1 s: each HTTP exchange costs more than a second of sampling). */
  batchMs?: number;
  /** Batches kept for a collector that does not come (bounded memory); the oldest go first, counted. */
  maxBatches?: number;
}

const MAX_OUTPUT = 1024 * 1024;

/** What this machine is, for the run's record. */
export function hostFacts(): HostFacts {
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  let os = 'unknown';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    os = process.platform; // not every system has os-release; the platform still says something
  }
  const tools: Record<string, string> = {};
  for (const [name, argv] of [
    ['ffmpeg', ['ffmpeg', '-version']],
    ['nvidia-smi', ['nvidia-smi', '--version']],
    ['intel_gpu_top', ['intel_gpu_top', '-h']],
  ] as const) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 3000 });
    if (!r.error) tools[name] = (r.stdout || r.stderr).split('\n')[0]!.trim().slice(0, 200);
  }
  return { hostname: hostname(), cpuModel, cores: cpus().length, memoryMb: Math.round(totalmem() / 1048576), kernel: release(), os, node: process.version, tools, ...machineIdentity() };
}

function probeConfig(p: ProbeSettings, selectors: Selector[]): ProbeConfig {
  const c: ProbeConfig = {};
  if (p.cpu !== undefined) c.cpu = p.cpu;
  if (p.mem !== undefined) c.mem = p.mem;
  if (p.net !== undefined) c.net = p.net;
  if (p.cpufreq !== undefined) c.cpufreq = p.cpufreq;
  if (p.gpu !== undefined) c.gpu = p.gpu;
  if (selectors.length > 0) c.proc = { intervalMs: p.proc ?? 100, select: selectors };
  if (p.custom) c.custom = p.custom;
  return c;
}

class Session {
  readonly batches: Batch[] = [];
  private pending: Sample[] = [];
  private events: FrameEvent[] = [];
  private seq = 0;
  private dropped = 0;
  private readonly groups = new Map<number, { probes: Probe[]; timer: NodeJS.Timeout | undefined }>();
  private probes: Probe[] = [];
  private procProbe: Probe | undefined;
  private selectors: Selector[];
  /** Failures per probe since the last batch. */
  private readonly errors = new Map<string, ProbeError>();
  /** The last reason written to the log per probe. */
  private readonly logged = new Map<string, string>();
  private readonly cpu0 = process.cpuUsage();
  private flushTimer: NodeJS.Timeout;
  private waiters: (() => void)[] = [];
  stopped = false;

  constructor(
    readonly id: string,
    private readonly settings: ProbeSettings,
    selectors: Selector[],
    private readonly agent: Agent,
    batchMs: number,
    private readonly maxBatches: number,
  ) {
    this.selectors = [];
    // The selectors first: a bad one refuses the session before any timer runs.
    const proc = this.processProbe(selectors);
    this.probes = createProbes(probeConfig({ ...settings }, []));
    for (const p of this.probes) this.schedule(p);
    if (proc) this.useProcessProbe(proc, selectors);
    this.flushTimer = setInterval(() => this.flush(false), batchMs);
  }

  private schedule(p: Probe): void {
    // Probes of the same interval share one timer: one wake-up of the process per tick, not one per probe.
    let group = this.groups.get(p.intervalMs);
    if (!group) {
      const g = { probes: [] as Probe[], timer: undefined as NodeJS.Timeout | undefined };
      g.timer = setInterval(() => {
        const t = monoMs();
        for (const q of g.probes) this.sampleOne(q, t);
      }, p.intervalMs);
      this.groups.set(p.intervalMs, g);
      group = g;
    }
    group.probes.push(p);
    this.sampleOne(p, monoMs());
  }

  private unschedule(p: Probe): void {
    const g = this.groups.get(p.intervalMs);
    if (g) g.probes = g.probes.filter((q) => q !== p);
    p.close?.();
  }

  private sampleOne(p: Probe, t: number): void {
    const record = (values: Record<string, number>) => {
      if (Object.keys(values).length === 0) return;
      this.pending.push({ t, probe: p.name, values });
      this.agent.latest.set(p.name, values);
    };
    // A probe error skips that sample (the others go on) and travels to the collector in the next
    // batch. Once stopped, a failure is the stop's own doing (it kills the commands in flight).
    const fail = (e: unknown) => {
      if (!this.stopped) this.probeFailed(p.name, errorMessage(e));
    };
    try {
      const v = p.sample(t);
      if (v instanceof Promise) v.then(record, fail);
      else record(v);
    } catch (e) {
      fail(e);
    }
  }

  /**
   * Notes a failed sample: counted per probe until the next batch carries it to the collector.
   * The log (agents.log for local agents) gets each distinct reason once per probe, not a line
   * per failed sample: a probe failing at 10 Hz would bury everything else.
   */
  probeFailed(probe: string, message: string): void {
    const e = this.errors.get(probe);
    this.errors.set(probe, { probe, message, count: (e?.count ?? 0) + 1 });
    if (this.logged.get(probe) !== message) {
      this.logged.set(probe, message);
      process.stderr.write(`agent: session ${this.id}: probe ${probe} failed: ${message}\n`);
    }
  }

  /** Watches these processes from now on (the proc probe is rebuilt with the whole selection); throws ProtocolError on a selector it cannot use, watching what it did before. */
  setSelectors(add: Selector[]): void {
    const byLabel = new Map(this.selectors.map((s) => [s.label, s]));
    for (const s of add) byLabel.set(s.label, s);
    const all = [...byLabel.values()];
    const proc = this.processProbe(all);
    if (proc) this.useProcessProbe(proc, all);
  }

  /** The process probe for a whole selection (none for an empty one); ProtocolError naming the bad selector. */
  private processProbe(selectors: Selector[]): ProcessProbe | undefined {
    if (selectors.length === 0) return undefined;
    try {
      return new ProcessProbe({ intervalMs: this.settings.proc ?? 100, select: selectors });
    } catch (e) {
      throw new ProtocolError(`selectors: ${errorMessage(e)}`);
    }
  }

  private useProcessProbe(proc: ProcessProbe, selectors: Selector[]): void {
    if (this.procProbe) {
      this.unschedule(this.procProbe);
      this.probes.splice(this.probes.indexOf(this.procProbe), 1);
    }
    this.selectors = selectors;
    this.procProbe = proc;
    this.probes.push(proc);
    this.schedule(proc);
  }

  addEvents(events: FrameEvent[]): void {
    this.events.push(...events);
  }

  flush(final: boolean): void {
    if (!final && this.pending.length === 0 && this.events.length === 0 && this.errors.size === 0) return;
    const cpu = process.cpuUsage(this.cpu0);
    const errors = [...this.errors.values()];
    this.batches.push({ seq: ++this.seq, session: this.id, samples: this.pending, events: this.events, agentCpuS: (cpu.user + cpu.system) / 1e6, dropped: this.dropped, ...(errors.length > 0 ? { errors } : {}), final });
    this.pending = [];
    this.events = [];
    this.errors.clear();
    while (this.batches.length > this.maxBatches) {
      this.batches.shift();
      this.dropped++;
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Forgets what the collector has acknowledged; resolves with what is left (after waiting up to waitMs for news). */
  async after(acked: number, waitMs: number): Promise<Batch[]> {
    while (this.batches.length > 0 && this.batches[0]!.seq <= acked) this.batches.shift();
    if (this.batches.length === 0 && waitMs > 0 && !(this.stopped && this.seq <= acked)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.batches.slice(0, 200);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const g of this.groups.values()) clearInterval(g.timer);
    clearInterval(this.flushTimer);
    for (const p of this.probes) p.close?.();
    this.flush(true);
  }
}

export class Agent {
  readonly agentId = randomBytes(8).toString('hex');
  readonly latest = new Map<string, Record<string, number>>();
  private readonly sessions = new Map<string, Session>();
  private current: Session | undefined;
  private server: Server | undefined;
  private facts: HostFacts | undefined;
  private readonly rules: ServerRules;
  private readonly procs = new AgentProcs();

  /** Throws when the settings would leave a door open (no token beyond loopback or with commands allowed). */
  constructor(readonly o: AgentOptions) {
    // No web page is ever a client of an agent: no allowed origins. Running a command always
    // needs the token, on loopback too (any local process or page could reach it otherwise).
    this.rules = { listen: o.host, allowedOrigins: [], tokenPaths: ['/v1/run'], ...(o.token !== undefined ? { token: o.token } : {}), ...(o.allowedHosts ? { allowedHosts: o.allowedHosts } : {}) };
    const problem = rulesProblem(this.rules, { runsCommands: o.allowCommands });
    if (problem) throw new Error(problem);
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    this.facts = hostFacts();
    this.rules.machineNames = machineNames();
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        const status = e instanceof ProtocolError ? 400 : e instanceof HttpError ? e.status : 500;
        send(res, status, { error: errorMessage(e) });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.o.port, this.o.host, () => resolve());
    });
    return (this.server.address() as { port: number }).port;
  }

  close(): void {
    this.procs.endAll();
    for (const s of this.sessions.values()) s.stop();
    this.server?.closeAllConnections();
    this.server?.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const path = url.pathname;
    const verdict = checkRequest(this.rules, { method: req.method, path, headers: req.headers });
    if (!verdict.ok) {
      // The body is left unread: close the connection rather than parse what was refused.
      res.setHeader('connection', 'close');
      if (verdict.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return send(res, verdict.status, { error: verdict.error });
    }
    if (req.method === 'GET' && path === '/metrics') return sendText(res, this.prometheus());
    if (req.method === 'GET' && path === '/v1/time') return send(res, 200, { monoMs: monoMs() });
    if (req.method === 'GET' && path === '/v1/hello') {
      const hello: Hello = { version: PROTOCOL_VERSION, role: this.o.role, agentId: this.agentId, pid: process.pid, allowCommands: this.o.allowCommands, facts: this.facts!, monoMs: monoMs() };
      return send(res, 200, hello);
    }
    if (req.method === 'POST' && path === '/v1/sessions') {
      const body = checkBody(SessionStart, await readJson(req), 'session');
      this.sessions.get(body.id)?.stop();
      const s = new Session(body.id, body.probes, body.selectors ?? [], this, this.o.batchMs ?? 1000, this.o.maxBatches ?? 20_000);
      this.sessions.set(body.id, s);
      this.current = s;
      // Only the latest sessions are kept: an agent runs for hours of points. One let go is
      // stopped first: its timers and the commands of its probes would otherwise run on.
      for (const id of [...this.sessions.keys()].slice(0, -4)) {
        this.sessions.get(id)?.stop();
        this.sessions.delete(id);
      }
      return send(res, 200, { ok: true, agentId: this.agentId });
    }
    if (req.method === 'POST' && path === '/v1/events') {
      const body = checkBody(EventsBody, await readJson(req), 'events');
      this.current?.addEvents(body.events);
      return send(res, 200, { ok: true, accepted: this.current ? body.events.length : 0 });
    }
    if (req.method === 'POST' && path === '/v1/run') {
      if (!this.o.allowCommands) return send(res, 403, { error: `agent ${this.o.role} does not run commands (start it with --allow-commands)` });
      const body = checkBody(RunBody, await readJson(req), 'run');
      if (body.argv[0] === '') throw new ProtocolError('run: /argv/0 the program name is empty');
      return send(res, 200, await runCommand(body));
    }
    if (path.startsWith('/v1/procs')) {
      if (!this.o.allowCommands) return send(res, 403, { error: `agent ${this.o.role} does not run commands (start it with --allow-commands)` });
      if (req.method === 'POST' && path === '/v1/procs') {
        const body = checkBody(ProcStart, await readJson(req), 'procs');
        if (body.argv[0] === '') throw new ProtocolError('procs: /argv/0 the program name is empty');
        return send(res, 200, this.procs.start(body.argv, body.env));
      }
      if (req.method === 'POST' && path === '/v1/procs/end') return send(res, 200, { ended: this.procs.endAll() });
      const p = /^\/v1\/procs\/([0-9a-f]{16})(\/signal)?$/.exec(path);
      if (p && req.method === 'GET' && !p[2]) {
        const num = (k: string) => Math.max(0, Number(url.searchParams.get(k) ?? 0) || 0);
        const r = await this.procs.poll(p[1]!, num('out'), num('err'), Math.min(5000, num('wait')));
        return r ? send(res, 200, r) : send(res, 404, { error: `no process ${p[1]}` });
      }
      if (p && req.method === 'POST' && p[2]) {
        const body = checkBody(ProcSignal, await readJson(req), 'signal');
        return this.procs.signal(p[1]!, body.signal) ? send(res, 200, { ok: true }) : send(res, 404, { error: `no process ${p[1]}` });
      }
    }
    const m = /^\/v1\/sessions\/([A-Za-z0-9_.-]+)\/(batches|stop|select)$/.exec(path);
    if (m) {
      const s = this.sessions.get(m[1]!);
      if (!s) return send(res, 404, { error: `no session ${m[1]}`, agentId: this.agentId });
      if (m[2] === 'batches' && req.method === 'GET') {
        const after = Number(url.searchParams.get('after') ?? 0);
        const wait = Math.min(5000, Number(url.searchParams.get('wait') ?? 0));
        return send(res, 200, { agentId: this.agentId, batches: await s.after(after, wait) });
      }
      if (m[2] === 'stop' && req.method === 'POST') {
        s.stop();
        return send(res, 200, { ok: true });
      }
      if (m[2] === 'select' && req.method === 'POST') {
        s.setSelectors(checkBody(SelectBody, await readJson(req), 'select').selectors);
        return send(res, 200, { ok: true });
      }
    }
    send(res, 404, { error: `no ${req.method} ${path}` });
  }

  /** Latest values in Prometheus' text format, one gauge per value. */
  prometheus(): string {
    const lines: string[] = [];
    const role = this.o.role.replace(/["\\\n]/g, '_');
    for (const [, values] of this.latest) {
      for (const [name, v] of Object.entries(values)) {
        if (!Number.isFinite(v)) continue;
        lines.push(`streambench_${name.replace(/[^A-Za-z0-9_]/g, '_')}{role="${role}"} ${v}`);
      }
    }
    const cpu = process.cpuUsage();
    lines.push(`streambench_agent_cpu_seconds_total{role="${role}"} ${(cpu.user + cpu.system) / 1e6}`);
    return lines.join('\n') + '\n';
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new ProtocolError(`body is not JSON: ${errorMessage(e)}`);
  }
}

/** Runs a hook's argv (never through a shell), with a timeout; output is capped. */
function runCommand(b: RunBody): Promise<RunReply> {
  return new Promise((resolve) => {
    const t0 = monoMs();
    const child = spawn(b.argv[0]!, b.argv.slice(1), { env: { ...process.env, ...(b.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-MAX_OUTPUT)));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-MAX_OUTPUT)));
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), b.timeoutS * 1000);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ exitCode: null, signal: null, stdout, stderr, seconds: (monoMs() - t0) / 1000, error: `cannot start '${b.argv[0]}': ${(e as NodeJS.ErrnoException).code ?? e.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, stdout, stderr, seconds: (monoMs() - t0) / 1000 });
    });
  });
}
