// Validates dashboards/grafana/*.json against Grafana's published dashboard
// schema, @grafana/schema (npm), which ships the schema as TypeScript types
// generated from Grafana's CUE kinds:
//   - each dashboard literal must satisfy `Dashboard` (tsc, strict; object
//     literals get excess-property checks, so unknown or misspelt fields fail
//     as well as wrong types and enum values);
//   - each panel's `options` and `fieldConfig.defaults.custom` must satisfy
//     its plugin's generated `Options` / `FieldConfig` (timeseries, heatmap,
//     table, stat, text);
//   - schemaVersion equals the package's defaultDashboard.schemaVersion;
// plus what the types cannot say: stable uids, the template variables the
// issue requires, every query on the templated datasource, unique panel ids,
// and the committed JSON equal to what dashboards/src/build.mjs generates.
// Prints one line per failure; exit status 1 when any.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const dashDir = join(repo, 'dashboards', 'grafana');
const gen = join(here, '.gen');
const failures = [];
const fail = (msg) => failures.push(msg);

const { defaultDashboard } = await import('@grafana/schema');
const { dashboards: generated } = await import(join(repo, 'dashboards', 'src', 'build.mjs'));

// Panel plugin -> its generated types (stat has no custom field config).
const PANEL_TYPES = {
  timeseries: { cfg: 'TimeSeriesPanelCfg', custom: true },
  heatmap: { cfg: 'HeatmapPanelCfg', custom: true },
  table: { cfg: 'TablePanelCfg', custom: true },
  stat: { cfg: 'StatPanelCfg', custom: false },
  text: { cfg: 'TextPanelCfg', custom: false, queries: false },  // markdown only, no data
};
const EXPECTED = {
  'xskit-overview.json': { uid: 'xskit-overview', vars: ['datasource', 'kernel', 'instance', 'ifname', 'queue'] },
  'xskit-rollout.json': { uid: 'xskit-rollout',
                          vars: ['datasource', 'group_label', 'group_a', 'group_b', 'instance', 'ifname', 'queue'] },
};

const files = readdirSync(dashDir).filter((f) => f.endsWith('.json')).sort();
if (files.join() !== Object.keys(EXPECTED).sort().join())
  fail(`dashboards/grafana holds ${files.join(', ')}; expected ${Object.keys(EXPECTED).join(', ')}`);

mkdirSync(gen, { recursive: true });
const tsFiles = [];
const uids = new Set();
for (const file of files) {
  const text = readFileSync(join(dashDir, file), 'utf8');
  const d = JSON.parse(text);
  const want = EXPECTED[file] ?? { uid: '?', vars: [] };
  if (generated[file] && text !== JSON.stringify(generated[file], null, 2) + '\n')
    fail(`${file}: differs from dashboards/src/build.mjs output (run node dashboards/src/build.mjs)`);
  if (d.uid !== want.uid) fail(`${file}: uid ${d.uid}, expected the stable uid ${want.uid}`);
  if (uids.has(d.uid)) fail(`${file}: uid ${d.uid} used twice`);
  uids.add(d.uid);
  if (d.schemaVersion !== defaultDashboard.schemaVersion)
    fail(`${file}: schemaVersion ${d.schemaVersion}, @grafana/schema's current is ${defaultDashboard.schemaVersion}`);
  const vars = (d.templating?.list ?? []).map((v) => v.name);
  for (const v of want.vars) if (!vars.includes(v)) fail(`${file}: template variable $${v} missing`);
  const ds = d.templating?.list?.find((v) => v.name === 'datasource');
  if (!ds || ds.type !== 'datasource' || ds.query !== 'prometheus')
    fail(`${file}: $datasource must be a datasource variable of type prometheus`);

  const ids = new Set();
  const lines = [
    `import type { Dashboard } from '@grafana/schema';`,
    ...Object.entries(PANEL_TYPES).map(([t, { cfg, custom }]) =>
      `import type { Options as ${t}Options${custom ? `, FieldConfig as ${t}FieldConfig` : ''} } from '@grafana/schema/dist/esm/raw/composable/${t}/panelcfg/x/${cfg}_types.gen';`),
    '',
    // The generated types use TypeScript string enums (GraphDrawStyle.Line =
    // 'line'); JSON holds their values. Json<T> turns every string enum into
    // the union of its values and keeps everything else, so the JSON is held
    // to exactly the values the schema allows.
    'type Json<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Json<U>[]',
    '  : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    `export const dashboard = ${text.trim()} satisfies Json<Dashboard>;`,
  ];
  for (const p of d.panels ?? []) {
    if (ids.has(p.id)) fail(`${file}: panel id ${p.id} used twice`);
    ids.add(p.id);
    if (p.gridPos && p.gridPos.x + p.gridPos.w > 24) fail(`${file}: "${p.title}" is wider than the grid`);
    if (p.type === 'row') continue;
    if (!PANEL_TYPES[p.type]) {
      fail(`${file}: "${p.title}": panel type ${p.type} has no schema check here`);
      continue;
    }
    if (PANEL_TYPES[p.type].queries === false) {
      if (p.targets || p.datasource) fail(`${file}: "${p.title}": a ${p.type} panel has no queries`);
      lines.push(`export const p${p.id}_options = ${JSON.stringify(p.options ?? {})} satisfies Json<${p.type}Options>;`);
      continue;
    }
    if (p.datasource?.uid !== '${datasource}') fail(`${file}: "${p.title}": panel datasource is not $datasource`);
    for (const t of p.targets ?? []) {
      if (t.datasource?.uid !== '${datasource}') fail(`${file}: "${p.title}" ${t.refId}: datasource is not $datasource`);
      if (!t.expr) fail(`${file}: "${p.title}" ${t.refId}: no expr`);
    }
    if (!(p.targets ?? []).length) fail(`${file}: "${p.title}": no queries`);
    lines.push(`export const p${p.id}_options = ${JSON.stringify(p.options ?? {})} satisfies Json<${p.type}Options>;`);
    if (PANEL_TYPES[p.type].custom)
      lines.push(`export const p${p.id}_custom = ${JSON.stringify(p.fieldConfig?.defaults?.custom ?? {})} satisfies Json<${p.type}FieldConfig>;`);
    else if (p.fieldConfig?.defaults?.custom)
      fail(`${file}: "${p.title}": ${p.type} panels have no custom field config`);
  }
  const ts = join(gen, file.replace('.json', '.ts'));
  writeFileSync(ts, lines.join('\n') + '\n');
  tsFiles.push(ts);
}

writeFileSync(join(gen, 'tsconfig.json'), JSON.stringify({
  compilerOptions: { strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler',
                     target: 'es2022', skipLibCheck: true, resolveJsonModule: true, types: [] },
  files: tsFiles.map((f) => f.replace(gen + '/', '')),
}, null, 2));
try {
  execFileSync(join(here, 'node_modules', '.bin', 'tsc'), ['-p', join(gen, 'tsconfig.json')],
               { stdio: ['ignore', 'pipe', 'pipe'] });
} catch (e) {
  for (const l of String(e.stdout).split('\n').filter((l) => l.includes('error TS')))
    fail(`schema (tsc): ${l.replace(gen + '/', '')}`);
  if (!String(e.stdout).includes('error TS')) fail(`tsc failed: ${e.stderr || e.message}`);
}

for (const f of failures) console.log(`FAIL ${f}`);
console.log(`${files.length} dashboards, ${failures.length} failures (schema: @grafana/schema ` +
            `${JSON.parse(readFileSync(join(here, 'node_modules', '@grafana', 'schema', 'package.json'))).version}, ` +
            `schemaVersion ${defaultDashboard.schemaVersion})`);
process.exit(failures.length ? 1 : 0);
