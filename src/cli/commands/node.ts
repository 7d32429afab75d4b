/** `streambench node point SPEC`: the batch step of a point's Slurm job (started by the Slurm executor, not by hand). */
import { InputError } from '../../base/errors.ts';
import { runPointJob } from '../../engine/slurm-node.ts';
import { helpText, parseCommand, type CommandSpec } from '../args.ts';

export const nodeSpec = {
  name: 'node',
  summary: "Run a point on the nodes of a Slurm job (the Slurm executor's job step; not for use by hand).",
  usage: 'streambench node point SPEC',
  help: [
    "  point SPEC            run the point SPEC (a JSON file the engine wrote into the result set's .slurm/points/)",
    '',
    "Started by `streambench run --executor slurm` as the batch step of each point's job, on the job's first",
    "node. It starts the recording agents (one per role, each on its role's node, listening on the node's",
    "address with the run's token, for this point only), runs the point's parameter hooks and its workload",
    '(stream roles through srun --het-group on their nodes), and writes the result for the engine.',
    'SIGTERM (scancel, a time limit) stops the point as Ctrl-C stops a local one.',
  ].join('\n'),
  options: {},
} satisfies CommandSpec;

/** Runs the node side of one point's job. */
export async function nodeCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  const a = parseCommand(nodeSpec, argv);
  if (a.values.help) return (out.write(helpText(nodeSpec)), 0);
  const [what, spec, ...extra] = a.positionals;
  if (what !== 'point' || !spec || extra.length > 0) throw InputError.single('streambench node', 'expected: point SPEC', nodeSpec.usage);
  await runPointJob(spec);
  return 0;
}
