/**
 * The recording agent: one per machine of the chain (guest, host, client, or any role). It
 * samples its probes, keeps what it sampled in numbered batches until the collector
 * acknowledges them, takes frame events from the pipeline roles of its machine, serves its
 * latest values to Prometheus, and runs hook commands when allowed to.
 *
 * This module holds its HTTP server and its routes, matched through the route table the GUI's
 * server uses too (src/base/route-table.ts); what the routes do lives beside it: sampling in
 * agent-session.ts, running a hook in agent-run.ts, long-running commands in agent-procs.ts,
 * /metrics in prometheus.ts, the machine's facts in host-facts.ts.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monoMs } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { checkRequest, machineNames, rulesProblem, type ServerRules } from '../base/request-rules.ts';
import { findRoute, type TableRoute } from '../base/route-table.ts';
import { HttpError, readJson, send, sendText } from './agent-http.ts';
import { AgentProcs, ProcSignal, ProcStart } from './agent-procs.ts';
import { runCommand } from './agent-run.ts';
import { Session } from './agent-session.ts';
import { hostFacts } from './host-facts.ts';
import { prometheusText } from './prometheus.ts';
import { checkBody, EventsBody, PROTOCOL_VERSION, ProtocolError, RunBody, SelectBody, SessionStart, type Hello, type HostFacts } from './protocol.ts';

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

/** What an agent's route gets: the request (its body unread), the query, the path's `:name` parts. */
interface AgentContext {
  req: IncomingMessage;
  query: URLSearchParams;
}

/** A route's answer: JSON with its status, or Prometheus' text. */
type AgentAnswer = { status: number; body: unknown } | { text: string };

type AgentRoute = TableRoute<AgentContext, AgentAnswer>;

const ok = (body: unknown): AgentAnswer => ({ status: 200, body });

/** Sessions kept: an agent runs for hours of points; one let go is stopped first. */
const SESSIONS_KEPT = 4;

export class Agent {
  readonly agentId = randomBytes(8).toString('hex');
  readonly latest = new Map<string, Record<string, number>>();
  private readonly sessions = new Map<string, Session>();
  private current: Session | undefined;
  private server: Server | undefined;
  private facts: HostFacts | undefined;
  private readonly rules: ServerRules;
  private readonly procs = new AgentProcs();
  private readonly routes: readonly AgentRoute[] = this.routeTable();

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
      send(res, verdict.status, { error: verdict.error });
      return;
    }
    // Every path of the long-running commands is closed to an agent that runs none, known or not.
    if (path.startsWith('/v1/procs') && !this.o.allowCommands) {
      send(res, 403, { error: this.noCommands() });
      return;
    }
    const found = findRoute(this.routes, req.method ?? 'GET', path);
    if (!found.route) {
      send(res, 404, { error: `no ${req.method} ${path}` });
      return;
    }
    const answer = await found.route.handle({ req, query: url.searchParams, params: found.params });
    if ('text' in answer) {
      sendText(res, answer.text);
      return;
    }
    send(res, answer.status, answer.body);
  }

  private noCommands(): string {
    return `agent ${this.o.role} does not run commands (start it with --allow-commands)`;
  }

  /** The agent's routes, in the order they are matched. */
  private routeTable(): AgentRoute[] {
    const session = (id: string): Session | AgentAnswer => this.sessions.get(id) ?? { status: 404, body: { error: `no session ${id}`, agentId: this.agentId } };
    return [
      { method: 'GET', path: '/metrics', handle: async () => ({ text: this.prometheus() }) },
      { method: 'GET', path: '/v1/time', handle: async () => ok({ monoMs: monoMs() }) },
      {
        method: 'GET',
        path: '/v1/hello',
        handle: async () => {
          const hello: Hello = { version: PROTOCOL_VERSION, role: this.o.role, agentId: this.agentId, pid: process.pid, allowCommands: this.o.allowCommands, facts: this.facts!, monoMs: monoMs() };
          return ok(hello);
        },
      },
      {
        method: 'POST',
        path: '/v1/sessions',
        handle: async ({ req }) => {
          const body = checkBody(SessionStart, await readJson(req), 'session');
          this.sessions.get(body.id)?.stop();
          const s = new Session(body.id, body.probes, body.selectors ?? [], this.latest, this.o.batchMs ?? 1000, this.o.maxBatches ?? 20_000);
          this.sessions.set(body.id, s);
          this.current = s;
          // Only the latest sessions are kept. One let go is stopped first: its timers and the
          // commands of its probes would otherwise run on.
          for (const id of [...this.sessions.keys()].slice(0, -SESSIONS_KEPT)) {
            this.sessions.get(id)?.stop();
            this.sessions.delete(id);
          }
          return ok({ ok: true, agentId: this.agentId });
        },
      },
      {
        method: 'POST',
        path: '/v1/events',
        handle: async ({ req }) => {
          const body = checkBody(EventsBody, await readJson(req), 'events');
          this.current?.addEvents(body.events);
          return ok({ ok: true, accepted: this.current ? body.events.length : 0 });
        },
      },
      {
        method: 'POST',
        path: '/v1/run',
        handle: async ({ req }) => {
          if (!this.o.allowCommands) return { status: 403, body: { error: this.noCommands() } };
          const body = checkBody(RunBody, await readJson(req), 'run');
          if (body.argv[0] === '') throw new ProtocolError('run: /argv/0 the program name is empty');
          return ok(await runCommand(body));
        },
      },
      {
        method: 'POST',
        path: '/v1/procs',
        handle: async ({ req }) => {
          const body = checkBody(ProcStart, await readJson(req), 'procs');
          if (body.argv[0] === '') throw new ProtocolError('procs: /argv/0 the program name is empty');
          return ok(this.procs.start(body.argv, body.env));
        },
      },
      { method: 'POST', path: '/v1/procs/end', handle: async () => ok({ ended: this.procs.endAll() }) },
      {
        method: 'GET',
        path: '/v1/procs/:id',
        handle: async ({ params, query }) => {
          const num = (k: string) => Math.max(0, Number(query.get(k) ?? 0) || 0);
          const r = await this.procs.poll(params['id']!, num('out'), num('err'), Math.min(5000, num('wait')));
          return r ? ok(r) : { status: 404, body: { error: `no process ${params['id']}` } };
        },
      },
      {
        method: 'POST',
        path: '/v1/procs/:id/signal',
        handle: async ({ req, params }) => {
          const body = checkBody(ProcSignal, await readJson(req), 'signal');
          return this.procs.signal(params['id']!, body.signal) ? ok({ ok: true }) : { status: 404, body: { error: `no process ${params['id']}` } };
        },
      },
      {
        method: 'GET',
        path: '/v1/sessions/:id/batches',
        handle: async ({ params, query }) => {
          const s = session(params['id']!);
          if (!(s instanceof Session)) return s;
          const after = Number(query.get('after') ?? 0);
          const wait = Math.min(5000, Number(query.get('wait') ?? 0));
          return ok({ agentId: this.agentId, batches: await s.after(after, wait) });
        },
      },
      {
        method: 'POST',
        path: '/v1/sessions/:id/stop',
        handle: async ({ params }) => {
          const s = session(params['id']!);
          if (!(s instanceof Session)) return s;
          s.stop();
          return ok({ ok: true });
        },
      },
      {
        method: 'POST',
        path: '/v1/sessions/:id/select',
        handle: async ({ req, params }) => {
          const s = session(params['id']!);
          if (!(s instanceof Session)) return s;
          s.setSelectors(checkBody(SelectBody, await readJson(req), 'select').selectors);
          return ok({ ok: true });
        },
      },
    ];
  }

  /** Latest values in Prometheus' text format, one gauge per value. */
  prometheus(): string {
    return prometheusText(this.o.role, this.latest);
  }
}
