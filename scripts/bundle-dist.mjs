// Joins each layer of the ES build (dist/core, dist/node) into one module, so
// that importing an entry costs Node's ES module loader two or three modules
// instead of ~30: in Node 20 each module costs ~0.5 ms of resolution, file
// reads and linking, which was most of the cold start (issue 13 item 6).
//
// Runs after tsc. For a layer it concatenates every module, in the order ES
// module evaluation would run them (dependencies first), into `_bundle.js`,
// which exports every binding any module of the layer exports; each original
// file then becomes a one-line re-export of its own names from the bundle.
// So every path keeps working (deep imports from dist/ws and dist/cli, the
// browser test, the .d.ts files beside them), and there is one instance of
// every binding however a module is reached: one WebAssembly instance, one
// message pool. The CommonJS build (dist/cjs/<layer>, from tsc's CommonJS
// output of the same sources) is replaced the same way, from the same joined
// code with require() for import and exports.x for export.
//
// No bundler dependency: the tsc output is plain ES2022 with named imports and
// exports only, parsed here with the TypeScript compiler API. One scope holds
// the whole layer, so a private top-level name two modules declare (or one
// that would capture another module's global) is renamed in one of them,
// through the checker's scopes. Anything else this script does not understand
// (default or namespace imports, an import renamed inside a layer, two modules
// exporting one name, an import cycle) fails the build instead of being guessed.
import { readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The build to join: dist/ beside this script, or the directory given (the tests join fixtures). */
const DIST = resolve(process.argv[2] ?? fileURLToPath(new URL('../dist/', import.meta.url)));
const BUNDLE = '_bundle.js';
const STUB_MARK = '// Re-exports from the joined layer (scripts/bundle-dist.mjs):';
/** Layers in dependency order: a layer may import only from layers before it. */
const LAYERS = ['core', 'node'];

class BundleError extends Error {}
/** Files to write once every layer has bundled: a failure leaves dist as tsc wrote it. */
const pending = [];
const write = (path, text) => pending.push([path, text]);
/** Top-level names declared by two modules of one layer, reported together. */
const collisions = [];
const collide = (m) => collisions.push(m);
const fail = (message) => { throw new BundleError(`bundle-dist: ${message}`); };

/** Sources of the real build (codec/<layer>/); fixtures given as an argument have none. */
const SOURCES = process.argv[2] === undefined ? fileURLToPath(new URL('../codec/', import.meta.url)) : null;

function listModules(dir, layer) {
  const files = readdirSync(dir, { recursive: true })
    .map((f) => String(f).split(sep).join('/'))
    .filter((f) => f.endsWith('.js') && f !== BUNDLE)
    .sort();
  if (SOURCES === null) return files;
  // tsc never deletes the output of a source that is gone: leave such files out (and as they are).
  const stale = files.filter((f) => !existsSync(join(SOURCES, layer, f.replace(/\.js$/, '.ts'))));
  if (stale.length) console.warn(`bundle-dist: left out of dist/${layer}, no source in codec/${layer}: ${stale.join(', ')} (rm -rf dist to clean)`);
  return files.filter((f) => !stale.includes(f));
}

/** Names bound by a declaration's binding pattern (`const { a, b: [c] } = …`). */
function boundNames(name, out, nodes) {
  if (ts.isIdentifier(name)) { out.push(name.text); nodes.set(name.text, name); }
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) boundNames(el.name, out, nodes);
  return out;
}

/**
 * Edits renaming a module-private top-level binding everywhere it is referenced
 * in its module (the checker resolves scopes: shadowing locals and property
 * names are left alone; a shorthand `{ name }` becomes `{ name: newName }`).
 */
function renameEdits(mod, name, newName, checker) {
  const symbol = checker.getSymbolAtLocation(mod.nameNodes.get(name)) ?? fail(`${mod.layer}/${mod.file}: no symbol for ${name}`);
  const edits = [];
  const visit = (node) => {
    if (ts.isShorthandPropertyAssignment(node) && checker.getShorthandAssignmentValueSymbol(node) === symbol) {
      edits.push([node.name.getStart(), node.name.getEnd(), `${name}: ${newName}`]);
    } else if (ts.isIdentifier(node) && node.text === name && checker.getSymbolAtLocation(node) === symbol) {
      edits.push([node.getStart(), node.getEnd(), newName]);
    }
    ts.forEachChild(node, visit);
  };
  visit(mod.sf);
  return edits;
}

const hasExport = (node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
const hasDefault = (node) => ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);

/**
 * One module: its text with import/export syntax taken out, what it imports
 * (inside the layer, from other layers, from packages or node:), what it
 * declares at top level, and what it exports (exported name → origin).
 */
function analyse(layer, file, program) {
  const path = join(DIST, layer, file);
  const sf = program.getSourceFile(path) ?? fail(`cannot parse ${layer}/${file}`);
  const text = sf.text;
  if (text.startsWith(STUB_MARK)) fail(`${layer}/${file} is already a re-export stub: run tsc before this script`);
  const mod = {
    layer, file, declared: [], internal: [], cross: [], external: [], externalLocals: [],
    // exported name -> { local } (declared here) | { from: spec, name } (re-exported) | { star: spec }
    exports: new Map(), stars: [], cuts: [], sf, nameNodes: new Map(), mutable: new Set(),
  };
  const target = (spec) => {
    if (!spec.startsWith('.')) return { kind: 'external' };
    const abs = resolve(dirname(path), spec);
    const rel = relative(join(DIST, layer), abs).split(sep).join('/');
    if (!rel.startsWith('..')) return { kind: 'internal', file: rel };
    const other = relative(DIST, abs).split(sep).join('/');
    const otherLayer = other.split('/')[0];
    if (!LAYERS.slice(0, LAYERS.indexOf(layer)).includes(otherLayer)) fail(`${layer}/${file} imports ${spec}, outside the layers before it`);
    return { kind: 'cross', layer: otherLayer, file: other.slice(otherLayer.length + 1) };
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const spec = st.moduleSpecifier.text;
      const t = target(spec);
      mod.cuts.push([st.getFullStart(), st.getEnd()]);
      const clause = st.importClause;
      if (t.kind === 'external') {
        mod.external.push(st.getText());
        if (clause?.name || (clause?.namedBindings && !ts.isNamedImports(clause.namedBindings))) fail(`${layer}/${file}: only named imports are supported (${spec})`);
        for (const el of clause?.namedBindings?.elements ?? []) mod.externalLocals.push({ local: el.name.text, what: `${spec}#${(el.propertyName ?? el.name).text}` });
        continue;
      }
      if (!clause) fail(`${layer}/${file}: side-effect import of ${spec}`);
      if (clause.name || (clause.namedBindings && !ts.isNamedImports(clause.namedBindings))) fail(`${layer}/${file}: only named imports are supported (${spec})`);
      for (const el of clause.namedBindings?.elements ?? []) {
        const imported = (el.propertyName ?? el.name).text;
        const local = el.name.text;
        if (t.kind === 'internal') {
          if (imported !== local) fail(`${layer}/${file}: renamed import ${imported} as ${local} from ${spec}`);
          mod.internal.push({ file: t.file, name: imported });
        } else {
          mod.cross.push({ layer: t.layer, file: t.file, imported, local });
        }
      }
    } else if (ts.isExportDeclaration(st)) {
      mod.cuts.push([st.getFullStart(), st.getEnd()]);
      if (st.isTypeOnly) continue;
      const spec = st.moduleSpecifier?.text;
      const t = spec === undefined ? null : target(spec);
      if (t?.kind === 'external') fail(`${layer}/${file}: re-export from a package (${spec})`);
      if (!st.exportClause) { mod.stars.push(t); continue; }
      if (!ts.isNamedExports(st.exportClause)) fail(`${layer}/${file}: namespace re-export from ${spec}`);
      for (const el of st.exportClause.elements) {
        const inner = (el.propertyName ?? el.name).text;
        const name = el.name.text;
        mod.exports.set(name, t === null ? { local: inner } : { ...t, name: inner });
      }
    } else if (ts.isExportAssignment(st)) {
      fail(`${layer}/${file}: export default / export = is not supported`);
    } else {
      const names = [];
      if (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) {
        if (!st.name) fail(`${layer}/${file}: anonymous top-level ${ts.SyntaxKind[st.kind]}`);
        names.push(st.name.text);
        mod.nameNodes.set(st.name.text, st.name);
      } else if (ts.isVariableStatement(st)) {
        for (const d of st.declarationList.declarations) boundNames(d.name, names, mod.nameNodes);
        if (!(st.declarationList.flags & ts.NodeFlags.Const)) for (const n of names) mod.mutable.add(n);
      }
      mod.declared.push(...names);
      if (hasExport(st)) {
        if (hasDefault(st)) fail(`${layer}/${file}: export default is not supported`);
        for (const n of names) mod.exports.set(n, { local: n });
        const exportKw = ts.getModifiers(st).find((m) => m.kind === ts.SyntaxKind.ExportKeyword);
        mod.cuts.push([exportKw.getStart(), exportKw.getEnd() + 1]); // the keyword and its space
      }
    }
  }
  return mod;
}

/** Is `node` an identifier naming a property, member or label rather than a binding it refers to? */
function isNonReference(node) {
  const p = node.parent;
  if (!p) return true;
  if ((ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) && (p.name === node || p.right === node)) return true;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) || ts.isPropertySignature(p) || ts.isEnumMember(p)) && p.name === node) return true;
  if (ts.isBindingElement(p) && p.propertyName === node) return true;
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return true;
  if (ts.isMetaProperty(p) || ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return true;
  return false;
}

/**
 * Names a module uses without declaring them (globals such as `Buffer` or
 * `TextEncoder`): joined with other modules, such a name would silently bind
 * to another module's top-level declaration of the same name.
 */
function freeNames(mod, checker) {
  const names = new Set();
  const visit = (node) => {
    if (ts.isIdentifier(node) && !isNonReference(node)) {
      const symbol = ts.isShorthandPropertyAssignment(node.parent) ? checker.getShorthandAssignmentValueSymbol(node.parent) : checker.getSymbolAtLocation(node);
      if (!symbol || !(symbol.declarations ?? []).some((d) => d.getSourceFile() === mod.sf)) names.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(mod.sf);
  return names;
}

/** `text` with each [from, to, replacement = ''] range replaced (ranges do not overlap). */
function edit(text, ranges) {
  let out = '';
  let at = 0;
  for (const [from, to, replacement = ''] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (from < at) fail('overlapping edits');
    out += text.slice(at, from) + replacement;
    at = to;
  }
  return out + text.slice(at);
}

/** Every module of a layer, joined. Returns the layer's export table for the layers after it. */
function bundleLayer(layer, earlier, cjs) {
  const dir = join(DIST, layer);
  const files = listModules(dir, layer);
  const program = ts.createProgram(files.map((f) => join(dir, f)), {
    allowJs: true, checkJs: false, noEmit: true, noResolve: true, types: [], target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022,
  });
  const checker = program.getTypeChecker();
  const mods = new Map(files.map((f) => [f, analyse(layer, f, program)]));

  // The binding behind each exported name of each module: { file, local } in this layer, or a cross-layer origin.
  const origins = new Map();
  const originOf = (file, name, seen = new Set()) => {
    const key = `${file}\0${name}`;
    if (origins.has(key)) return origins.get(key);
    if (seen.has(key)) fail(`${layer}/${file}: circular re-export of ${name}`);
    seen.add(key);
    const mod = mods.get(file) ?? fail(`${layer}: no module ${file}`);
    let e = mod.exports.get(name);
    let o;
    if (e === undefined) {
      const found = mod.stars.map((t) => exportNames(t, seen).has(name) ? t : null).filter(Boolean);
      if (found.length !== 1) return null;
      e = { ...found[0], name };
    }
    if (e.local !== undefined) o = { layer, local: e.local };
    else if (e.kind === 'internal') o = originOf(e.file, e.name, seen);
    else o = earlier.get(e.layer).origin(e.file, e.name);
    if (!o) fail(`${layer}/${file}: cannot find the origin of ${name}`);
    origins.set(key, o);
    return o;
  };
  const namesCache = new Map();
  const exportNames = (t, seen = new Set()) => {
    if (t.kind === 'cross') return earlier.get(t.layer).names(t.file);
    if (namesCache.has(t.file)) return namesCache.get(t.file);
    const mod = mods.get(t.file) ?? fail(`${layer}: no module ${t.file}`);
    const names = new Set(mod.exports.keys());
    for (const s of mod.stars) for (const n of exportNames(s, seen)) if (n !== 'default') names.add(n);
    namesCache.set(t.file, names);
    return names;
  };

  // One scope for the whole layer: a top-level name may be declared once.
  // A module-private name declared again by a later module is renamed in
  // that module (`name$module`); a name two modules export is an error.
  const declaredIn = new Map();
  let renamed = 0;
  const crossImports = new Map(); // local -> { layer, local in that layer }
  const exportedLocals = (mod) => new Set([...mod.exports.values()].filter((e) => e.local !== undefined).map((e) => e.local));
  for (const f of files) {
    const mod = mods.get(f);
    for (const n of mod.declared) {
      if (declaredIn.has(n)) {
        const first = mods.get(declaredIn.get(n));
        const [keep, rename] = exportedLocals(mod).has(n) ? [mod, first] : [first, mod];
        if (exportedLocals(rename).has(n)) { collide(`${layer}: ${n} is exported by both ${first.file} and ${mod.file}`); continue; }
        const newName = `${n}$${rename.file.replace(/\.js$/, '').replace(/[^A-Za-z0-9_$]/g, '_')}`;
        if (declaredIn.has(newName)) fail(`${layer}: cannot rename ${n} in ${rename.file}: ${newName} is taken`);
        rename.cuts.push(...renameEdits(rename, n, newName, checker));
        renamed++;
        rename.declared[rename.declared.indexOf(n)] = newName;
        declaredIn.set(newName, rename.file);
        declaredIn.set(n, keep.file);
        continue;
      }
      declaredIn.set(n, mod.file);
    }
  }
  // A global a module uses (Buffer, TextEncoder...) must not bind to another
  // module's top-level name once joined: a private one is renamed there.
  for (const f of files) {
    const mod = mods.get(f);
    for (const n of freeNames(mod, checker)) {
      const owner = declaredIn.has(n) ? mods.get(declaredIn.get(n)) : undefined;
      if (owner === undefined || owner === mod) continue;
      if (exportedLocals(owner).has(n)) { collide(`${layer}: ${mod.file} uses the global ${n}, which ${owner.file} exports`); continue; }
      const newName = `${n}$${owner.file.replace(/\.js$/, '').replace(/[^A-Za-z0-9_$]/g, '_')}`;
      if (declaredIn.has(newName)) fail(`${layer}: cannot rename ${n} in ${owner.file}: ${newName} is taken`);
      owner.cuts.push(...renameEdits(owner, n, newName, checker));
      owner.declared[owner.declared.indexOf(n)] = newName;
      declaredIn.delete(n);
      declaredIn.set(newName, owner.file);
      renamed++;
    }
  }
  for (const mod of mods.values()) {
    mod.body = edit(mod.sf.text, mod.cuts).trim();
    for (const c of mod.cross) {
      const o = earlier.get(c.layer).origin(c.file, c.imported) ?? fail(`${layer}/${mod.file}: ${c.file} of ${c.layer} has no export ${c.imported}`);
      const prev = crossImports.get(c.local);
      if (prev && prev.local !== o.local) fail(`${layer}: ${c.local} names two different imports`);
      crossImports.set(c.local, o);
    }
    for (const i of mod.internal) {
      const o = originOf(i.file, i.name) ?? fail(`${layer}/${mod.file}: ${i.file} has no export ${i.name}`);
      if (o.layer !== layer || o.local !== i.name) fail(`${layer}/${mod.file}: ${i.name} from ${i.file} is a re-export; import it from where it is declared`);
    }
  }
  for (const [local] of crossImports) if (declaredIn.has(local)) fail(`${layer}: ${local} is both imported from another layer and declared in ${declaredIn.get(local)}`);
  // Imports from packages and node: are hoisted to the top, once: the same local may name only the same import.
  const externalLocals = new Map();
  for (const mod of mods.values()) {
    for (const { local, what } of mod.externalLocals) {
      if (externalLocals.has(local) && externalLocals.get(local) !== what) fail(`${layer}: ${local} names two different imports`);
      if (declaredIn.has(local) || crossImports.has(local)) fail(`${layer}: ${local} is imported from ${what} and also declared or imported elsewhere`);
      externalLocals.set(local, what);
    }
  }

  // ...nor to a name another module imports (hoisted to the top of the bundle).
  for (const mod of mods.values()) {
    for (const n of freeNames(mod, checker)) {
      if ((crossImports.has(n) || externalLocals.has(n)) && !mod.cross.some((c) => c.local === n) && !mod.externalLocals.some((e) => e.local === n)) {
        collide(`${layer}: ${mod.file} uses the global ${n}, which another module of the layer imports`);
      }
    }
  }

  // Evaluation order of ES modules: depth-first, dependencies first, in import order.
  const order = [];
  const state = new Map();
  const visit = (file) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'active') fail(`${layer}: import cycle through ${file}`);
    state.set(file, 'active');
    const mod = mods.get(file);
    const deps = [...mod.internal.map((i) => i.file), ...[...mod.exports.values(), ...mod.stars].filter((e) => e && e.kind === 'internal').map((e) => e.file)];
    for (const d of deps) visit(d);
    state.set(file, 'done');
    order.push(file);
  };
  if (mods.has('index.js')) visit('index.js');
  for (const f of files) visit(f);

  // Every binding any module exports, under its (layer-unique) local name.
  const bundleExports = new Set();
  for (const mod of mods.values()) for (const e of mod.exports.values()) if (e.local !== undefined) bundleExports.add(e.local);
  for (const n of bundleExports) if (!declaredIn.has(n)) fail(`${layer}: exported ${n} is not declared at top level`);

  const rel = (fromFile, toLayer) => {
    const p = relative(dirname(join(DIST, layer, fromFile)), join(DIST, toLayer, BUNDLE)).split(sep).join('/');
    return p.startsWith('.') ? p : `./${p}`;
  };
  const byLayer = new Map();
  for (const [local, o] of crossImports) {
    if (!byLayer.has(o.layer)) byLayer.set(o.layer, []);
    byLayer.get(o.layer).push(local === o.local ? local : `${o.local} as ${local}`);
  }
  const externals = [...new Set([...mods.values()].flatMap((m) => m.external))];
  const out = [
    `// Generated by scripts/bundle-dist.mjs from the tsc output of codec/${layer}/*.ts: every module of the layer`,
    `// in evaluation order, so that loading it costs one module. Do not edit; the sources are codec/${layer}/.`,
    ...externals,
    ...[...byLayer].map(([l, names]) => `import { ${names.join(', ')} } from '${rel(BUNDLE, l)}';`),
  ];
  const bodies = order.flatMap((f) => ['', `// ---- codec/${layer}/${f.replace(/\.js$/, '.ts')}`, mods.get(f).body]);
  write(join(dir, BUNDLE), [...out, ...bodies, '', `export { ${[...bundleExports].sort().join(', ')} };`, ''].join('\n'));

  // The CommonJS twin (dist/cjs/<layer>), from the same joined code: tsc's
  // CommonJS output of the same sources differs only in its module syntax.
  // Imports become destructured require()s: no binding any layer exports is
  // ever reassigned (checked below), so copies of them are as good as live ones.
  const cjsDir = join(DIST, 'cjs', layer);
  if (cjs) {
    for (const mod of mods.values()) {
      for (const local of exportedLocals(mod)) {
        if (mod.mutable.has(local)) fail(`${layer}/${mod.file}: exported ${local} is a let/var: the CommonJS build needs exports that are never reassigned (const, function, class)`);
      }
    }
    const bySpec = new Map();
    for (const mod of mods.values()) {
      for (const { local, what } of mod.externalLocals) {
        const [spec, imported] = what.split('#');
        if (!bySpec.has(spec)) bySpec.set(spec, new Set());
        bySpec.get(spec).add(imported === local ? local : `${imported}: ${local}`);
      }
    }
    const cjsOut = [
      '"use strict";',
      `// Generated by scripts/bundle-dist.mjs from the tsc output of codec/${layer}/*.ts: every module of the layer`,
      `// in evaluation order, so that loading it costs one module. Do not edit; the sources are codec/${layer}/.`,
      'Object.defineProperty(exports, "__esModule", { value: true });',
      ...[...bySpec].map(([spec, names]) => `const { ${[...names].join(', ')} } = require(${JSON.stringify(spec)});`),
      ...[...byLayer].map(([l, names]) => `const { ${names.map((n) => n.replace(' as ', ': ')).join(', ')} } = require(${JSON.stringify(rel(BUNDLE, l))});`),
      ...bodies,
      '',
      ...[...bundleExports].sort().map((n) => `exports.${n} = ${n};`),
      '',
    ];
    write(join(cjsDir, BUNDLE), cjsOut.join('\n'));
  }

  // Each module becomes a re-export of its own names from the bundles.
  for (const f of files) {
    const names = [...exportNames({ kind: 'internal', file: f })].sort();
    const fromLayer = new Map();
    for (const n of names) {
      const o = originOf(f, n) ?? fail(`${layer}/${f}: ambiguous export ${n}`);
      if (!fromLayer.has(o.layer)) fromLayer.set(o.layer, []);
      fromLayer.get(o.layer).push(o.local === n ? n : `${o.local} as ${n}`);
    }
    const lines = [STUB_MARK];
    for (const [l, list] of fromLayer) lines.push(`export { ${list.join(', ')} } from '${rel(f, l)}';`);
    if (fromLayer.size === 0) lines.push('export {};');
    write(join(dir, f), lines.join('\n') + '\n');
    if (cjs) {
      if (!existsSync(join(cjsDir, f))) fail(`cjs/${layer}/${f} is missing: the CommonJS build must cover the same modules`);
      const cjsLines = [STUB_MARK, '"use strict";', 'Object.defineProperty(exports, "__esModule", { value: true });'];
      let i = 0;
      for (const [l, list] of fromLayer) {
        cjsLines.push(`const b${i} = require(${JSON.stringify(rel(f, l))});`);
        for (const item of list) {
          const [from, as = from] = item.split(' as ');
          cjsLines.push(`exports.${as} = b${i}.${from};`);
        }
        i++;
      }
      write(join(cjsDir, f), cjsLines.join('\n') + '\n');
    }
  }
  pending.push(() => console.log(`bundled dist/${layer}: ${files.length} modules -> ${BUNDLE} (${bundleExports.size} exports, ${renamed} private names renamed)`));
  return { origin: (file, name) => originOf(file, name), names: (file) => exportNames({ kind: 'internal', file }) };
}

try {
  const stubbed = (path) => existsSync(path) && readFileSync(path, 'utf8').startsWith(STUB_MARK);
  const esmDone = stubbed(join(DIST, 'core', 'index.js'));
  const cjs = existsSync(join(DIST, 'cjs', 'core', 'index.js'));
  if (cjs && stubbed(join(DIST, 'cjs', 'core', 'index.js')) !== esmDone) fail('dist and dist/cjs are not from the same build: run `npm run build:ts`');
  if (esmDone) {
    console.log('bundle-dist: dist is already bundled (run tsc to rebuild it)');
  } else {
    const done = new Map();
    for (const layer of LAYERS) {
      if (!existsSync(join(DIST, layer))) fail(`dist/${layer} is missing: run tsc first`);
      done.set(layer, bundleLayer(layer, done, cjs));
    }
    if (collisions.length) fail(`top-level names must be unique within a layer (rename one):\n  ${collisions.join('\n  ')}`);
    for (const w of pending) if (typeof w === 'function') w(); else writeFileSync(w[0], w[1]);
  }
} catch (err) {
  if (!(err instanceof BundleError)) throw err;
  console.error(err.message);
  process.exit(1);
}
