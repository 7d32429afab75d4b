// design.md: lower folders never import higher ones. TypeScript's own parser reads every form of
// import (static, type-only, side-effect, export-from, dynamic, inline import() types, require,
// tsx's tsImport), and starting the CLI as a subprocess, an import that no import statement
// shows, is held to the same line through the one module that may do it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers, top to bottom, and which each may import (besides itself): an allowlist, a graph
 * rather than a chain (as Perfetto's import checker keeps its folders), so that an import the
 * design never meant (record reaching the store, analyze reaching the recording) is caught even
 * where it goes downwards. `web` (the GUI, its own package) is the folder web/ at the top of the
 * checkout and may import only the API's types (checkWeb); each other one is src/<name>.
 */
const LAYERS = ['web', 'cli', 'server', 'engine', 'workloads', 'stream', 'record', 'analyze', 'store', 'config', 'base'];
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  base: [],
  config: ['base'],
  record: ['base'],
  store: ['base', 'config'],
  analyze: ['base', 'config', 'store'],
  stream: ['base', 'config', 'record'],
  workloads: ['base', 'config', 'record', 'store', 'stream'],
  engine: ['base', 'config', 'record', 'store', 'workloads'],
  server: ['base', 'config', 'store', 'analyze', 'engine'],
  cli: ['base', 'config', 'record', 'store', 'analyze', 'stream', 'workloads', 'engine', 'server'],
  web: [],
};

/** Whether code of layer `from` may use layer `to` (its own, or one its allowlist names); by index into LAYERS. */
function mayImport(from: number, to: number): boolean {
  return to === from || (to >= 0 && (MAY_IMPORT[LAYERS[from]!] ?? []).includes(LAYERS[to]!));
}

/** Layers whose folder is at the top of the checkout, not under src/. */
const OUTSIDE_SRC = new Set(['web']);

/** The one module that may start the CLI, and its table of the layer of each subcommand it starts. */
const CLI_MODULE = 'src/base/cli-process.ts';
const CLI_TABLE = 'CLI_SUBCOMMAND_LAYERS';
/** Text that names the CLI's entry: the launcher, or the module it loads. */
const CLI_ENTRY = /bin\/streambench\b|\bstreambench\.[cm]?[jt]s\b|\bcli\/main(?:\.[cm]?[jt]s)?\b/;
/** The package's own name: importing it from inside src/ is importing src/index.ts, above every layer. */
const PACKAGE = 'streambench';

/**
 * A workload folder's declaration (src/workloads/<name>/declare.ts): what config resolves with,
 * so it may import only these layers (packages aside), never its own runner or the recording,
 * although the rest of its folder may (issue 20, item 1).
 */
const DECLARATION = /^src\/workloads\/[^/]+\/declare\.ts$/;
const DECLARATION_MAY_IMPORT = ['base', 'config'];
/**
 * A family's shared declaration (the desktop stacks' metrics and declaration kit): a declaration may import it, and it
 * is held to the same rule, so config still resolves with base and config alone.
 */
const FAMILY_DECLARATIONS = ['src/workloads/desktop/metrics.ts', 'src/workloads/desktop/declare.ts'];
/**
 * The machinery a family of workloads shares (src/workloads/desktop/): its workloads import it,
 * never the other way, so a stack of the family never depends on another.
 */
const FAMILY = /^src\/workloads\/(desktop)\//;
/** A workload's folder (src/workloads/<name>/...), as opposed to the files beside them (workload.ts, proctree.ts). */
const WORKLOAD_FOLDER = /^src\/workloads\/([^/]+)\//;

/** The references of a family's machinery (`rel`) that reach into a workload's folder. */
function familyFindings(rel: string, refs: readonly Reference[]): Finding[] {
  const family = FAMILY.exec(rel)?.[1];
  if (family === undefined) return [];
  return refs
    .filter((r) => {
      const folder = r.target === undefined ? undefined : WORKLOAD_FOLDER.exec(r.target)?.[1];
      return folder !== undefined && folder !== family;
    })
    .map((r) => ({ file: rel, line: r.line, kind: 'family-import' as const, message: `${rel}:${r.line}: the ${family} machinery may not import a workload's folder (its workloads import it); '${r.specifier}' -> ${r.target!}` }));
}
/** The workload registry, which hands config the built-in definitions when loaded. */
const WORKLOAD_REGISTRY = 'src/workloads/index.ts';

/** The references of a workload's declaration (`rel`, relative to root) that leave DECLARATION_MAY_IMPORT. */
function declarationFindings(rel: string, refs: readonly Reference[]): Finding[] {
  return refs
    .filter((r) => r.target !== undefined && !FAMILY_DECLARATIONS.includes(r.target) && !DECLARATION_MAY_IMPORT.includes(LAYERS[layerOfPath(r.target)] ?? ''))
    .map((r) => ({
      file: rel,
      line: r.line,
      kind: 'workload-declaration' as const,
      message: `${rel}:${r.line}: a workload's declaration may import only ${DECLARATION_MAY_IMPORT.join(' and ')} (config resolves with it); '${r.specifier}' -> ${describe(r.target!, layerOfPath(r.target!))}`,
    }));
}

/** Files (relative to the root) whose dynamic import with a computed argument is meant, and why. */
const COMPUTED_IMPORTS: Record<string, string> = {
  'src/config/load.ts': "loads the user's TypeScript benchmark file (tsx's tsImport), which is not a module of src/",
  'src/engine/slurm-node.ts': "loads a workload module the engine registered and names in the point's spec (tsx's tsImport), which is no module of src/ (a test's fixture workload)",
  'src/stream/policy/load.ts': "loads the user's rate-control policy file (tsx's tsImport) from the text the point's settings carry, which is no module of src/",
};

type Kind =
  | 'import' // import {x} from
  | 'type-import' // import type {x} from
  | 'side-effect' // import './x'
  | 'export-from' // export ... from
  | 'dynamic' // import('./x')
  | 'import-type' // type T = import('./x').T
  | 'require' // require('./x'), import x = require('./x')
  | 'reference' // /// <reference path="./x" />
  | 'computed-import' // import(expr), require(expr), tsImport(expr)
  | 'unknown-folder' // a folder under src/ that is no layer
  | 'cli-entry' // names the CLI's entry outside the CLI module
  | 'cli-subcommand' // starts a subcommand of a higher layer, or one the table lacks
  | 'cli-computed' // starts a subcommand the test cannot read
  | 'cli-indirect' // passes a CLI starter around instead of calling it
  | 'cli-table' // the table says less than the subcommand's code imports
  | 'workload-declaration' // a workload folder's declaration imports more than base and config
  | 'family-import'; // a family's machinery (src/workloads/desktop/) imports a workload's folder

interface Finding {
  /** Relative to the root, with '/'. */
  file: string;
  line: number;
  kind: Kind;
  message: string;
}

interface Report {
  findings: Finding[];
  /** How many module references were read, so a parser that sees nothing cannot pass. */
  references: Record<string, number>;
  files: number;
}

const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.name === 'node_modules' ? [] : d.isDirectory() ? walk(join(dir, d.name)) : SOURCE.test(d.name) ? [join(dir, d.name)] : []));
}

const posix = (p: string) => p.split(sep).join('/');

function scriptKind(file: string): ts.ScriptKind {
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  return /\.[cm]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

/** A string the parser can read without running anything: '...' or `...` with no ${}, maybe under a cast. */
function literal(n: ts.Node | undefined): string | undefined {
  while (n && (ts.isAsExpression(n) || ts.isSatisfiesExpression(n) || ts.isParenthesizedExpression(n) || ts.isNonNullExpression(n))) n = n.expression;
  return n && (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) ? n.text : undefined;
}

/** Layer index of a path relative to the root; -1 outside every layer, -2 for src/index.ts (the package entry, above all). */
function layerOfPath(rel: string): number {
  const parts = rel.split('/');
  if (OUTSIDE_SRC.has(parts[0]!)) return LAYERS.indexOf(parts[0]!);
  if (parts[0] !== 'src') return -1;
  if (parts.length === 2) return -2;
  const i = LAYERS.indexOf(parts[1]!);
  return i >= 0 && !OUTSIDE_SRC.has(parts[1]!) ? i : -1;
}

function describe(rel: string, layer: number): string {
  if (layer === -2) return `${rel} (the package entry, above every layer)`;
  if (layer === -1) return `${rel} (outside the layers)`;
  return `${rel} (${LAYERS[layer]})`;
}

/** Reads the CLI module's table of subcommand -> layer; problems go to `findings`. */
function readCliTable(root: string, findings: Finding[]): Map<string, number> {
  const table = new Map<string, number>();
  const path = join(root, CLI_MODULE);
  if (!existsSync(path)) return table;
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const problem = (n: ts.Node, message: string) => findings.push({ file: CLI_MODULE, line: sf.getLineAndCharacterOfPosition(n.getStart()).line + 1, kind: 'cli-table', message });
  let found = false;
  for (const st of sf.statements) {
    if (!ts.isVariableStatement(st)) continue;
    for (const d of st.declarationList.declarations) {
      if (!ts.isIdentifier(d.name) || d.name.text !== CLI_TABLE || !d.initializer) continue;
      found = true;
      let init: ts.Expression = d.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
      if (!ts.isObjectLiteralExpression(init)) {
        problem(d, `${CLI_TABLE} must be an object literal of subcommand: 'layer', so this test can read it`);
        continue;
      }
      for (const p of init.properties) {
        const name = p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : undefined;
        const value = ts.isPropertyAssignment(p) ? literal(p.initializer) : undefined;
        const layer = value === undefined ? -1 : LAYERS.indexOf(value);
        if (name === undefined || value === undefined) problem(p, `${CLI_TABLE}: each entry must be subcommand: 'layer'`);
        else if (layer < 0 || OUTSIDE_SRC.has(value)) problem(p, `${CLI_TABLE}: '${value}' (subcommand ${name}) is not a layer under src/ (${LAYERS.filter((l) => !OUTSIDE_SRC.has(l)).join(', ')})`);
        else table.set(name, layer);
      }
    }
  }
  if (!found) findings.push({ file: CLI_MODULE, line: 1, kind: 'cli-table', message: `${CLI_MODULE} declares no ${CLI_TABLE}: which layer each subcommand it starts belongs to` });
  return table;
}

interface Reference {
  line: number;
  kind: Exclude<Kind, 'unknown-folder' | 'cli-entry' | 'cli-subcommand' | 'cli-computed' | 'cli-indirect' | 'cli-table' | 'computed-import'>;
  specifier: string;
  /** Relative to the root; undefined for a package. */
  target: string | undefined;
}

/**
 * Every module reference of one file, and what it does with the CLI. References are resolved to
 * paths relative to the root; packages (node:fs, yaml) have no target.
 */
function readFile(root: string, rel: string, cliTable: Map<string, number>, findings: Finding[]): Reference[] {
  const path = join(root, rel);
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true, scriptKind(path));
  const lineOf = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const refs: Reference[] = [];
  const specifiers = new Set<ts.Node>();
  const resolveSpecifier = (s: string): string | undefined => {
    if (s === PACKAGE || s.startsWith(`${PACKAGE}/`)) return 'src/index.ts';
    if (s.startsWith('file:')) return posix(relative(root, fileURLToPath(s)));
    if (s.startsWith('.') || s.startsWith('/')) return posix(relative(root, resolve(dirname(path), s)));
    return undefined; // a package
  };
  const add = (n: ts.Node, kind: Reference['kind'], spec: ts.Node) => {
    specifiers.add(spec);
    const s = literal(spec)!;
    refs.push({ line: lineOf(n), kind, specifier: s, target: resolveSpecifier(s) });
  };
  const computed = (n: ts.Node, how: string) => {
    if (COMPUTED_IMPORTS[rel] !== undefined) return;
    findings.push({ file: rel, line: lineOf(n), kind: 'computed-import', message: `${rel}:${lineOf(n)}: ${how} with a computed argument: the layers cannot be checked (use a string literal, or add the file to COMPUTED_IMPORTS in test/layers.test.ts with the reason)` });
  };
  const from = layerOfPath(rel);
  const isCliModule = rel === CLI_MODULE;
  const cliEntry = (n: ts.Node, what: string) => {
    if (isCliModule) return;
    findings.push({ file: rel, line: lineOf(n), kind: 'cli-entry', message: `${rel}:${lineOf(n)}: ${what}: only ${CLI_MODULE} may start the CLI (spawnCli, cliArgv), which holds subprocesses to the layers` });
  };
  // Names under which this file holds what the CLI module exports (its table aside).
  const starters = new Set<string>();
  const namespaces = new Set<string>();

  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const c = n.importClause;
      add(n, !c ? 'side-effect' : c.phaseModifier === ts.SyntaxKind.TypeKeyword ? 'type-import' : 'import', n.moduleSpecifier);
      if (c && c.phaseModifier !== ts.SyntaxKind.TypeKeyword && resolveSpecifier(literal(n.moduleSpecifier)!) === CLI_MODULE) {
        if (c.name) starters.add(c.name.text);
        const b = c.namedBindings;
        if (b && ts.isNamespaceImport(b)) namespaces.add(b.name.text);
        if (b && ts.isNamedImports(b)) for (const e of b.elements) if (!e.isTypeOnly && (e.propertyName ?? e.name).text !== CLI_TABLE) starters.add(e.name.text);
      }
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      add(n, 'export-from', n.moduleSpecifier);
      if (!n.isTypeOnly && resolveSpecifier(literal(n.moduleSpecifier)!) === CLI_MODULE && rel !== 'src/index.ts') {
        findings.push({ file: rel, line: lineOf(n), kind: 'cli-indirect', message: `${rel}:${lineOf(n)}: re-exports ${CLI_MODULE}: its callers would start the CLI out of this test's sight` });
      }
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      if (literal(n.moduleReference.expression) !== undefined) add(n, 'require', n.moduleReference.expression);
      else computed(n, 'import = require()');
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && literal(n.argument.literal) !== undefined) {
      add(n, 'import-type', n.argument.literal);
    } else if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const arg = n.arguments[0];
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) {
        if (literal(arg) !== undefined) add(n, 'dynamic', arg!);
        else computed(n, 'import()');
      } else if (name === 'require' || name === 'tsImport') {
        if (literal(arg) !== undefined) add(n, name === 'require' ? 'require' : 'dynamic', arg!);
        else computed(n, `${name}()`);
      } else if (name !== undefined && ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'].includes(name) && /(?:^|\/)streambench$/.test(literal(arg) ?? '')) {
        cliEntry(n, `starts '${literal(arg)}', the installed CLI`);
      }
      const viaNamespace = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && namespaces.has(callee.expression.text) && callee.name.text !== CLI_TABLE;
      if ((ts.isIdentifier(callee) && starters.has(callee.text)) || viaNamespace) {
        const sub = literal(arg);
        const line = lineOf(n);
        if (sub === undefined) findings.push({ file: rel, line, kind: 'cli-computed', message: `${rel}:${line}: starts a CLI subcommand this test cannot read: pass it as a string literal` });
        else if (!cliTable.has(sub)) findings.push({ file: rel, line, kind: 'cli-subcommand', message: `${rel}:${line}: starts 'streambench ${sub}', which ${CLI_MODULE} does not place in a layer` });
        else if (from >= 0 && !mayImport(from, cliTable.get(sub)!)) {
          findings.push({ file: rel, line, kind: 'cli-subcommand', message: `${rel}:${line} (${LAYERS[from]}) starts 'streambench ${sub}', which runs ${LAYERS[cliTable.get(sub)!]} code, ${cliTable.get(sub)! < from ? 'a higher layer' : `a layer ${LAYERS[from]} may not use`}` });
        }
      }
    } else if (ts.isIdentifier(n) && starters.has(n.text)) {
      const p = n.parent;
      const called = ts.isCallExpression(p) && p.expression === n;
      // A property that shares the name (cli.spawnCli, {spawnCli: ...}) is not this binding.
      const property = (ts.isPropertyAccessExpression(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p)) && p.name === n;
      if (!called && !property && !ts.isImportSpecifier(p) && !ts.isImportClause(p)) {
        findings.push({ file: rel, line: lineOf(n), kind: 'cli-indirect', message: `${rel}:${lineOf(n)}: uses ${n.text} other than by calling it: call it with the subcommand as a string literal, so this test sees what is started` });
      }
    } else if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && namespaces.has(n.expression.text) && n.name.text !== CLI_TABLE) {
      const p = n.parent;
      if (!(ts.isCallExpression(p) && p.expression === n)) {
        findings.push({ file: rel, line: lineOf(n), kind: 'cli-indirect', message: `${rel}:${lineOf(n)}: uses ${n.getText(sf)} other than by calling it: call it with the subcommand as a string literal, so this test sees what is started` });
      }
    } else if (ts.isElementAccessExpression(n) && n.expression.getText(sf) === 'process.argv' && literal(n.argumentExpression) === undefined && n.argumentExpression.getText(sf) === '1') {
      cliEntry(n, 'process.argv[1] is the running CLI entry');
    }
    if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateLiteralToken(n)) && !specifiers.has(n) && CLI_ENTRY.test(n.text)) {
      cliEntry(n, `names the CLI entry ('${n.text.slice(0, 80)}')`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  for (const r of sf.referencedFiles) {
    refs.push({ line: sf.getLineAndCharacterOfPosition(r.pos).line + 1, kind: 'reference', specifier: r.fileName, target: resolveSpecifier(r.fileName.startsWith('.') ? r.fileName : `./${r.fileName}`) });
  }
  return refs;
}

/**
 * Checks the tree under `root` (a checkout, or a fixture shaped like one): every module reference
 * under src/ goes to its own layer or a lower one (packages aside), no folder under src/ is
 * outside the layers, and the CLI is started only through CLI_MODULE, for subcommands of the
 * caller's layer or below, with a table that matches what each subcommand's code imports.
 */
function checkLayers(root: string): Report {
  const findings: Finding[] = [];
  const references: Record<string, number> = {};
  const src = join(root, 'src');
  for (const d of readdirSync(src, { withFileTypes: true })) {
    if (d.isDirectory() && layerOfPath(`src/${d.name}/x`) < 0) findings.push({ file: `src/${d.name}`, line: 0, kind: 'unknown-folder', message: `src/${d.name}/ is not a layer (${LAYERS.join(', ')}): move it into one, or add it to LAYERS in its place` });
  }
  const cliTable = readCliTable(root, findings);
  const files = walk(src).map((f) => posix(relative(root, f)));
  const refsOf = new Map<string, Reference[]>();
  for (const rel of files) {
    const refs = readFile(root, rel, cliTable, findings);
    refsOf.set(rel, refs);
    if (DECLARATION.test(rel) || FAMILY_DECLARATIONS.includes(rel)) findings.push(...declarationFindings(rel, refs));
    findings.push(...familyFindings(rel, refs));
    const from = layerOfPath(rel);
    for (const r of refs) {
      references[r.kind] = (references[r.kind] ?? 0) + 1;
      // The package entry (src/index.ts) is above every layer, and a folder that is no layer is reported once above.
      if (r.target === undefined || from < 0) continue;
      const to = layerOfPath(r.target);
      if (mayImport(from, to)) continue;
      // A unit test is a top of the program, as the CLI is: it may hand config the built-in
      // workloads by loading their registry (a side-effect import, nothing taken from it).
      if (rel.endsWith('.test.ts') && r.kind === 'side-effect' && r.target === WORKLOAD_REGISTRY) continue;
      const why = to < 0 ? '' : to < from ? ', a higher layer' : `, which ${LAYERS[from]} may not import (MAY_IMPORT in test/layers.test.ts)`;
      findings.push({ file: rel, line: r.line, kind: r.kind, message: `${rel}:${r.line} (${LAYERS[from]}) ${r.kind} '${r.specifier}' -> ${describe(r.target, to)}${why}` });
    }
  }
  // Each subcommand's layer in the table must be at least as high as the code its command module
  // reaches (through other modules of src/cli, which are all in the cli layer).
  for (const [sub, layer] of cliTable) {
    const entry = `src/cli/commands/${sub}.ts`;
    if (!refsOf.has(entry)) {
      findings.push({ file: CLI_MODULE, line: 1, kind: 'cli-table', message: `${CLI_MODULE} places subcommand '${sub}', which has no ${entry}` });
      continue;
    }
    const seen = new Set([entry]);
    const queue = [entry];
    while (queue.length > 0) {
      const f = queue.shift()!;
      for (const r of refsOf.get(f) ?? []) {
        if (r.target === undefined) continue;
        const to = layerOfPath(r.target);
        const cliFile = to === LAYERS.indexOf('cli') && refsOf.has(r.target);
        if (cliFile && !seen.has(r.target)) {
          seen.add(r.target);
          queue.push(r.target);
        } else if (!cliFile && to >= 0 && !mayImport(layer, to)) {
          findings.push({ file: f, line: r.line, kind: 'cli-table', message: `${f}:${r.line}: 'streambench ${sub}' reaches ${describe(r.target, to)}, but ${CLI_MODULE} places it in ${LAYERS[layer]}: raise it there, or keep the command's code lower` });
        }
      }
    }
  }
  return { findings, references, files: files.length };
}

/** The one module of src/ the GUI (web/) may reach: its types, and its constants (the API's enums) while it imports nothing at run time. */
const WEB_MAY_IMPORT = 'src/server/api-types.ts';

/**
 * Checks the GUI's package (web/ at the top of root): each reference that leaves web/ must be an
 * import of WEB_MAY_IMPORT (packages such as echarts aside): type-only, or a static import of its
 * constants (MATRIX_KINDS, AGGREGATES: one list for the server's checks and the GUI's menus) as
 * long as that module itself imports nothing but types, so that a value import bundles only it,
 * never server code.
 */
function checkWeb(root: string): Report {
  const findings: Finding[] = [];
  const references: Record<string, number> = {};
  const files = walk(join(root, 'web')).map((f) => posix(relative(root, f)));
  // What the API module brings with it at run time: a value import of it bundles that too.
  const apiRuns = readFile(root, WEB_MAY_IMPORT, new Map(), []).filter((r) => r.kind !== 'type-import' && r.kind !== 'import-type');
  for (const rel of files) {
    for (const r of readFile(root, rel, new Map(), findings)) {
      references[r.kind] = (references[r.kind] ?? 0) + 1;
      if (r.target === undefined || r.target.startsWith('web/')) continue;
      const typeOnly = r.kind === 'type-import' || r.kind === 'import-type';
      if (r.target === WEB_MAY_IMPORT && (typeOnly || (r.kind === 'import' && apiRuns.length === 0))) continue;
      const why =
        r.target === WEB_MAY_IMPORT && r.kind === 'import'
          ? `${WEB_MAY_IMPORT} imports ${apiRuns.map((a) => `'${a.specifier}'`).join(', ')} at run time, which a value import would bring into the browser's bundle: import its types only, or keep the API module free of run-time imports`
          : `the GUI may only import the API module (import type {...}, or its constants, from '.../${WEB_MAY_IMPORT}')`;
      findings.push({ file: rel, line: r.line, kind: r.kind, message: `${rel}:${r.line} (web) ${r.kind} '${r.specifier}' -> ${r.target}: ${why}` });
    }
  }
  return { findings, references, files: files.length };
}

const repo = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('fixtures/layers', import.meta.url));

test('src/ keeps to the layers of design.md: every import form, and the CLI started only through its module', () => {
  const r = checkLayers(repo);
  assert.deepEqual(
    r.findings.map((f) => f.message),
    [],
  );
  // The parser saw the forms src/ uses: a checker that reads nothing would pass the line above.
  assert.ok(r.files > 50, `${r.files} files read`);
  for (const kind of ['import', 'type-import', 'dynamic', 'import-type'] as const) assert.ok((r.references[kind] ?? 0) > 0, `no ${kind} found in src/: ${JSON.stringify(r.references)}`);
  assert.ok(r.references['import']! > 100, JSON.stringify(r.references));
  for (const f of Object.keys(COMPUTED_IMPORTS)) assert.ok(existsSync(join(repo, f)), `COMPUTED_IMPORTS names ${f}, which is gone: take it out`);
  for (const f of FAMILY_DECLARATIONS) assert.ok(existsSync(join(repo, f)), `FAMILY_DECLARATIONS names ${f}, which is gone: take it out`);
});

test('web/ (the GUI) reaches src/ only through the API module: its types, and its constants while it imports nothing at run time', () => {
  const r = checkWeb(repo);
  assert.deepEqual(
    r.findings.map((f) => f.message),
    [],
  );
  // It read the GUI, and saw the type-only imports it allows: a checker reading nothing passes too.
  assert.ok(r.files >= 5, `${r.files} files of web/ read`);
  assert.ok((r.references['type-import'] ?? 0) > 0 && (r.references['import'] ?? 0) > 0, JSON.stringify(r.references));
});

test("a workload module's declaration imports only base and config: the fixture workload's (outside src/) is held to it too", () => {
  const rel = 'test/fixtures/workloads/pingpong/declare.ts';
  const refs = readFile(repo, rel, new Map(), []);
  assert.ok(
    refs.some((r) => r.target?.startsWith('src/config/')),
    `${rel}: no import of config read: ${JSON.stringify(refs)}`,
  );
  assert.deepEqual(
    declarationFindings(rel, refs).map((f) => f.message),
    [],
  );
  // The rule reads only the declaration: the fixture's planted declaration is caught, its runner beside it is not.
  const planted = checkLayers(fixture).findings.filter((f) => f.kind === 'workload-declaration');
  assert.deepEqual(
    planted.map((f) => `${f.file}:${f.line}`),
    ['src/workloads/planted/declare.ts:5'],
    planted.map((f) => f.message).join('\n'),
  );
});

test('the web checker reports a value import of an API module that imports server code at run time, and any import of src/ beyond it', () => {
  const r = checkWeb(join(fixture, 'webcase'));
  const got = r.findings.map((f) => `${f.file}:${f.line} ${f.kind}`).sort();
  assert.deepEqual(got, ['web/src/planted.ts:3 import', 'web/src/planted.ts:4 type-import', 'web/src/planted.ts:5 dynamic'], r.findings.map((f) => f.message).join('\n'));
});

test('the checker reports each form of a higher import planted in a fixture, and nothing else there', () => {
  const r = checkLayers(fixture);
  const got = r.findings.map((f) => `${f.file} ${f.kind}`).sort();
  const want = [
    'src/base/planted-static.ts import',
    'src/base/planted-type-only.ts type-import',
    'src/base/planted-inline-type.ts import-type',
    'src/base/planted-side-effect.ts side-effect',
    'src/base/planted-export-from.ts export-from',
    'src/base/planted-export-star.mjs export-from',
    'src/base/planted-dynamic.ts dynamic',
    'src/base/planted-reference.ts reference',
    'src/base/planted-computed.ts computed-import',
    'src/base/planted-require.ts require',
    'src/base/planted-package-entry.ts side-effect',
    'src/base/planted-outside.ts side-effect',
    'src/config/planted-tsimport.ts computed-import',
    'src/base/planted-cli-entry.ts cli-entry',
    'src/base/planted-argv1.ts cli-entry',
    'src/base/planted-installed-cli.ts cli-entry',
    'src/record/planted-cli-higher.ts cli-subcommand',
    'src/record/planted-cli-unknown.ts cli-subcommand',
    'src/record/planted-cli-computed.ts cli-computed',
    'src/record/planted-cli-indirect.ts cli-indirect',
    'src/record/planted-cli-namespace.ts cli-subcommand',
    'src/record/planted-downward.ts import',
    'src/store/planted-registry.test.ts import',
    'src/workloads/planted/declare.ts workload-declaration',
    'src/workloads/desktop/planted-workload.ts family-import',
    'src/cli/commands/agent.ts cli-table',
    'src/extras unknown-folder',
  ].sort();
  assert.deepEqual(got, want, r.findings.map((f) => f.message).join('\n'));
  // Each finding says where and what: file:line, both layers or what to do.
  const msg = (file: string) => r.findings.find((f) => f.file === file)!.message;
  assert.equal(msg('src/base/planted-static.ts'), "src/base/planted-static.ts:2 (base) import '../cli/main.ts' -> src/cli/main.ts (cli), a higher layer");
  assert.equal(msg('src/base/planted-inline-type.ts'), "src/base/planted-inline-type.ts:2 (base) import-type '../cli/main.ts' -> src/cli/main.ts (cli), a higher layer");
  assert.match(msg('src/base/planted-package-entry.ts'), /side-effect 'streambench' -> src\/index\.ts \(the package entry, above every layer\)$/);
  assert.match(msg('src/base/planted-outside.ts'), /-> outside\.ts \(outside the layers\)$/);
  assert.match(msg('src/record/planted-cli-higher.ts'), /^src\/record\/planted-cli-higher\.ts:\d+ \(record\) starts 'streambench stream', which runs stream code, a higher layer$/);
  // A downward import the graph does not allow: the store is below record, and record may use base only.
  assert.equal(msg('src/record/planted-downward.ts'), "src/record/planted-downward.ts:2 (record) import '../store/thing.ts' -> src/store/thing.ts (store), which record may not import (MAY_IMPORT in test/layers.test.ts)");
  // The family's machinery reaching into a workload's folder (its own modules and workloads/index.ts beside the folders are fine).
  assert.equal(msg('src/workloads/desktop/planted-workload.ts'), "src/workloads/desktop/planted-workload.ts:4: the desktop machinery may not import a workload's folder (its workloads import it); '../planted/run.ts' -> src/workloads/planted/run.ts");
  assert.match(msg('src/cli/commands/agent.ts'), /'streambench agent' reaches src\/engine\/run\.ts \(engine\), but src\/base\/cli-process\.ts places it in record/);
  // The allowed calls of the fixture (workloads starting stream and agent, record starting agent) are not findings.
  assert.ok(!got.some((g) => g.includes('allowed')), got.join('\n'));
});
