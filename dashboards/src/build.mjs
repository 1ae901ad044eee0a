// Writes dashboards/grafana/*.json, the committed dashboards, from the panel
// tables below: `node dashboards/src/build.mjs` (the dashboards test fails
// when the committed JSON differs from what this prints).
// Metric and rule names: docs/DESIGN.md and dashboards/rules/.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_VERSION = 42; // @grafana/schema defaultDashboard.schemaVersion
const DS = { type: 'prometheus', uid: '${datasource}' };

// --- template variables -----------------------------------------------------
function datasourceVar() {
  return { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus',
           hide: 0, refresh: 1, includeAll: false, multi: false, options: [] };
}
function queryVar(name, label, query, extra = {}) {
  return { name, label, type: 'query', datasource: DS, query, refresh: 2,
           sort: 1, hide: 0, includeAll: true, multi: true, allValue: '.*', options: [],
           ...extra };
}
function customVar(name, label, values, description) {
  return { name, label, description, type: 'custom', query: values.join(','), hide: 0,
           includeAll: false, multi: false,
           current: { text: values[0], value: values[0] },
           options: values.map((v, i) => ({ text: v, value: v, selected: i === 0 })) };
}

// --- panels ------------------------------------------------------------------
let nextId = 1;
function target(expr, legend, extra = {}) {
  return { expr, legendFormat: legend, range: true, instant: false, datasource: DS,
           editorMode: 'code', ...extra };
}
function withRefIds(targets) {
  return targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i) }));
}
const legend = { showLegend: true, displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] };
const tooltip = { mode: 'multi', sort: 'desc' };

function timeseries(title, description, targets, unit, pos, extra = {}) {
  return {
    id: nextId++, type: 'timeseries', title, description, datasource: DS, gridPos: pos,
    targets: withRefIds(targets),
    fieldConfig: { defaults: { unit, min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10,
                                                        spanNulls: false, showPoints: 'never' } },
                   overrides: [] },
    options: { legend, tooltip },
    ...extra,
  };
}
function heatmap(title, description, expr, pos) {
  return {
    id: nextId++, type: 'heatmap', title, description, datasource: DS, gridPos: pos,
    targets: withRefIds([target(expr, '{{le}}', { format: 'heatmap' })]),
    fieldConfig: { defaults: {}, overrides: [] },
    options: {
      calculate: false,
      cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', fill: 'dark-orange', scale: 'exponential',
               exponent: 0.5, steps: 64, reverse: false },
      yAxis: { axisPlacement: 'left', unit: 'short', axisLabel: 'descriptors per sendmsg' },
      rowsFrame: { layout: 'le' },
      legend: { show: true },
      tooltip: { mode: 'single', yHistogram: true, showColorScale: false },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      cellValues: { unit: 'short' },
      showValue: 'auto',
      selectionMode: 'x',
    },
  };
}
function table(title, description, targets, pos, transformations = []) {
  return {
    id: nextId++, type: 'table', title, description, datasource: DS, gridPos: pos,
    targets: withRefIds(targets.map((t) => ({ ...t, range: false, instant: true, format: 'table' }))),
    fieldConfig: { defaults: { custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false } },
                   overrides: [] },
    options: { showHeader: true, cellHeight: 'sm', frameIndex: 0 },
    transformations,
  };
}
function stat(title, description, targets, unit, pos) {
  return {
    id: nextId++, type: 'stat', title, description, datasource: DS, gridPos: pos,
    targets: withRefIds(targets.map((t) => ({ ...t, range: false, instant: true }))),
    fieldConfig: { defaults: { unit, thresholds: { mode: 'absolute', steps: [
      { color: 'green', value: null }, { color: 'orange', value: 0.8 }, { color: 'red', value: 1.25 }] } },
                   overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
               orientation: 'auto', textMode: 'auto', colorMode: 'value', graphMode: 'area',
               justifyMode: 'auto', wideLayout: true, showPercentChange: false,
               percentChangeColorMode: 'standard' },
  };
}
function text(title, description, content, pos) {
  return { id: nextId++, type: 'text', title, description, gridPos: pos,
           options: { mode: 'markdown', content } };
}
function row(title, y) {
  return { id: nextId++, type: 'row', title, collapsed: false, panels: [], gridPos: { h: 1, w: 24, x: 0, y } };
}

function dashboard({ uid, title, description, tags, variables, panels, links }) {
  return {
    uid, title, description, tags, editable: true, graphTooltip: 1, schemaVersion: SCHEMA_VERSION,
    version: 1, timezone: 'browser', refresh: '30s', fiscalYearStartMonth: 0, liveNow: false,
    time: { from: 'now-6h', to: 'now' }, timepicker: {},
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' },
                            enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)',
                            name: 'Annotations & Alerts', type: 'dashboard' }] },
    links, templating: { list: variables }, panels,
  };
}

// --- Overview ------------------------------------------------------------------
const Q = 'instance=~"$instance", ifname=~"$ifname", queue=~"$queue"';
const I = 'instance=~"$instance", ifname=~"$ifname"';
const H = 'instance=~"$instance"';

function overview() {
  nextId = 1;
  const w = 12, h = 8;
  let y = 0;
  const at = (x, yy, ww = w, hh = h) => ({ x, y: yy, w: ww, h: hh });
  const p = [];
  p.push(row('Hosts and probe coverage', y++));
  p.push(table('Probe coverage (which signals each host cannot see)',
    'Per host and signal, the probe mode that measures it. "unavailable" (with the reason) means the panels that need that signal are empty on that host because the kernel cannot be probed there, not because nothing happens.',
    [target(`max by (instance, signal, mode, reason) (xsk_probe_coverage{${H}})`, '')], at(0, y, 16, 9),
    [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }]));
  p.push(stat('Unavailable probe signals per host',
    'How many probe signals each host cannot measure (0: full coverage). Hosts without probes attached have no coverage series at all and show nothing here; see the XskProbesNotAttached alert.',
    [target(`count by (instance) (xsk_probe_coverage{${H}, mode="unavailable"}) or count by (instance) (xsk_probe_coverage{${H}}) * 0`, '{{instance}}')],
    'none', at(16, y, 8, 9)));
  y += 9;
  p.push(table('Hosts (kernel, exporter, libbpf)', 'xsk_exporter_build_info of the selected hosts: the rollout labels.',
    [target(`max by (instance, kernel, version, libbpf) (xsk_exporter_build_info{${H}})`, '')], at(0, y, 24, 5),
    [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }]));
  y += 5;

  p.push(row('Steering (XDP)', y++));
  p.push(timeseries('Packets per second by steering outcome',
    'xsk_steer_packets_total per queue: redirected to the AF_XDP socket, passed to the stack (no socket on the queue, no filter match), or a failed redirect.',
    [target(`sum by (instance, ifname, queue, outcome) (rate(xsk_steer_packets_total{${Q}}[$__rate_interval]))`,
            '{{instance}} {{ifname}} q{{queue}} {{outcome}}')], 'pps', at(0, y)));
  p.push(timeseries('XDP program time per packet',
    'Kernel BPF run-time statistics of the attached steering program: only from exporters started with --bpf.run-time-stats (it costs every BPF program on the host two clock reads per run: exporter/README.md).',
    [target(`instance_ifname:xsk_steer_prog_run_seconds_per_run:ratio_rate5m{${I}}`, '{{instance}} {{ifname}}')],
    's', at(12, y)));
  y += h;

  p.push(row('Transmit: batching and backpressure', y++));
  p.push(heatmap('Descriptors per sendmsg (histogram)',
    'xsk_tx_descriptors_per_sendmsg buckets: how many Tx descriptors each sendmsg consumed. Bucket le=0 counts wasted wakeups.',
    `sum by (le) (rate(xsk_tx_descriptors_per_sendmsg_bucket{${Q}}[$__rate_interval]))`, at(0, y)));
  p.push(timeseries('Descriptors per sendmsg (mean)',
    'Batch efficiency: descriptors consumed per sendmsg call (recording rule, 5m rate). Higher is better; the AF_XDP budget caps it (32 on older kernels).',
    [target(`instance_ifname_queue:xsk_tx_descriptors_per_sendmsg:ratio_rate5m{${Q}}`, '{{instance}} {{ifname}} q{{queue}}')],
    'short', at(12, y)));
  y += h;
  p.push(timeseries('Backpressure by cause',
    'Failed sendmsg calls per second by the cause the probes found at the call\'s exit (completion ring full, send buffer full, budget, driver busy, ...) and errno.',
    [target(`sum by (instance, ifname, queue, cause, errno) (rate(xsk_tx_sendmsg_errors_total{${Q}}[$__rate_interval]))`,
            '{{instance}} {{ifname}} q{{queue}} {{cause}} {{errno}}')], 'short', at(0, y)));
  p.push(timeseries('Backpressure share of sendmsg calls',
    'Failed sendmsg calls per sendmsg call (recording rule, 5m). The XskBackpressureRising alert fires above 1% and twice the share of an hour ago.',
    [target(`instance_ifname_queue:xsk_tx_backpressure:ratio_rate5m{${Q}}`, '{{instance}} {{ifname}} q{{queue}}')],
    'percentunit', at(12, y)));
  y += h;
  p.push(timeseries('Outstanding descriptors',
    'Descriptors transmitted and not yet completed (xsk_tx_descriptors_outstanding). A queue stuck high means the application does not reap the completion ring.',
    [target(`max by (instance, ifname, queue) (xsk_tx_descriptors_outstanding{${Q}})`, '{{instance}} {{ifname}} q{{queue}}')],
    'short', at(0, y)));
  p.push(timeseries('Allocation path',
    'skb allocations by path (host-wide: slab, bulk, napi_cache), Tx skbs by build path (linear copy or frags) per queue, and allocation failures per queue.',
    [target(`sum by (instance, path) (rate(xsk_skb_allocs_total{${H}}[$__rate_interval]))`, '{{instance}} alloc {{path}}'),
     target(`sum by (instance, ifname, queue, path) (rate(xsk_tx_skbs_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} tx skb {{path}}'),
     // Failures are published when they happen (or per queue in fentry
     // mode); 0 where the alloc_fail signal is available and none happened,
     // nothing where it is unavailable.
     target(`sum by (instance, ifname, queue) (rate(xsk_skb_alloc_failures_total{${Q}}[$__rate_interval])) or (sum by (instance, ifname, queue) (rate(xsk_tx_sendmsg_calls_total{${Q}}[$__rate_interval])) * 0 and on (instance) xsk_probe_coverage{signal="alloc_fail", mode!="unavailable"})`,
            '{{instance}} {{ifname}} q{{queue}} alloc failures')],
    'short', at(12, y)));
  y += h;

  p.push(row('Drops', y++));
  p.push(timeseries('Drops by reason (top 10)',
    'kfree_skb by kernel drop reason on the selected interfaces (xsk="true": the skb belonged to an AF_XDP socket). A reason new on a host raises XskNewDropReason.',
    [target(`topk(10, sum by (instance, ifname, reason, xsk) (rate(xsk_skb_drops_total{${I}}[$__rate_interval])))`,
            '{{instance}} {{ifname}} {{reason}} xsk={{xsk}}')], 'pps', at(0, y, 24)));
  y += h;

  p.push(row('AF_XDP sockets', y++));
  p.push(table('Sockets and their mode',
    'Every AF_XDP socket on the selected hosts (any application, any namespace), from xsk_socket_info: mode (zerocopy, copy), owner, umem. A copy-mode socket on a driver that offers zero-copy raises XskZeroCopyFallback.',
    [target(`max by (instance, ifname, netns, queue, umem_id, mode, comm) (xsk_socket_info{${Q}})`, '')], at(0, y, 16, 8),
    [{ id: 'organize', options: { excludeByName: { Time: true, Value: true } } }]));
  p.push(stat('Sockets per mode',
    'How many bound AF_XDP sockets run in each mode on the selected hosts.',
    [target(`count by (mode) (xsk_socket_info{${Q}})`, '{{mode}}')], 'none', at(16, y, 8, 8)));
  y += 8;
  p.push(timeseries('Socket drops per second',
    'The kernel\'s own per-socket counters as rates: rx_dropped (fill ring empty, frame too large), Rx ring full, and fill ring found empty. fill_ring_empty without drops is benign on zero-copy drivers that count short batch refills.',
    [target(`sum by (instance, ifname, queue) (rate(xsk_socket_rx_dropped_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} rx_dropped'),
     target(`sum by (instance, ifname, queue) (rate(xsk_socket_rx_ring_full_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} rx_ring_full'),
     target(`sum by (instance, ifname, queue) (rate(xsk_socket_fill_ring_empty_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} fill_ring_empty')],
    'pps', at(0, y)));
  p.push(timeseries('Invalid descriptors and empty Tx wakeups per second',
    'Invalid descriptors posted by the application (Rx/fill and Tx; any is a bug, XskInvalidDescriptors) and Tx wakeups that found the Tx ring empty.',
    [target(`sum by (instance, ifname, queue) (rate(xsk_socket_rx_invalid_descriptors_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} rx_invalid'),
     target(`sum by (instance, ifname, queue) (rate(xsk_socket_tx_invalid_descriptors_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} tx_invalid'),
     target(`sum by (instance, ifname, queue) (rate(xsk_socket_tx_ring_empty_total{${Q}}[$__rate_interval]))`, '{{instance}} {{ifname}} q{{queue}} tx_ring_empty')],
    'short', at(12, y)));
  y += h;
  p.push(table('Ring sizes',
    'Descriptors per ring (rx, tx, fill, completion) of each socket (xsk_socket_ring_entries).',
    [target(`max by (instance, ifname, queue, ring) (xsk_socket_ring_entries{${Q}})`, '')], at(0, y, 24, 6),
    [{ id: 'labelsToFields', options: { mode: 'columns', valueLabel: 'ring' } },
     { id: 'organize', options: { excludeByName: { Time: true } } }]));
  y += 6;

  return dashboard({
    uid: 'xskit-overview', title: 'xskit / AF_XDP overview',
    description: 'Per host, interface and queue: steering outcomes, transmit batching and backpressure, drops, allocation path, XDP program cost and probe coverage.',
    tags: ['xskit', 'af_xdp', 'xdp'],
    links: [{ title: 'Rollout comparison', type: 'link', url: '/d/xskit-rollout/xskit-af-xdp-rollout-comparison',
              icon: 'dashboard', tooltip: 'compare two host groups', asDropdown: false,
              includeVars: false, keepTime: true, tags: [], targetBlank: false }],
    variables: [
      datasourceVar(),
      queryVar('kernel', 'Kernel', 'label_values(xsk_exporter_build_info, kernel)'),
      queryVar('instance', 'Host', 'label_values(xsk_exporter_build_info{kernel=~"$kernel"}, instance)'),
      queryVar('ifname', 'Interface', 'label_values(xsk_steer_info{instance=~"$instance"}, ifname)'),
      queryVar('queue', 'Queue', 'label_values(xsk_steer_packets_total{instance=~"$instance", ifname=~"$ifname"}, queue)'),
    ],
    panels: p,
  });
}

// --- Rollout comparison ------------------------------------------------------------
// A group is every host whose xsk_exporter_build_info has $group_label equal
// to the group's value; series join it on instance. A label set on the
// scrape target (e.g. rollout="canary") is on build_info too, so it works
// as $group_label without relabeling (docs/runbook.md, "Rollout groups").
const hosts = (g) => `max by (instance, $group_label) (xsk_exporter_build_info{instance=~"$instance", $group_label="$${g}"})`;
const inGroup = (g) => `* on (instance) group_left ($group_label) ${hosts(g)}`;
const nhosts = (g) => `count(${hosts(g)})`;
const RQ = 'instance=~"$instance", ifname=~"$ifname", queue=~"$queue"';
const RI = 'instance=~"$instance", ifname=~"$ifname"';
const RH = 'instance=~"$instance"';

const groupSignals = [
  { title: 'Packets per second per host by steering outcome', unit: 'pps',
    desc: 'Steering outcomes summed over the group and divided by its host count.',
    q: (g) => [[`sum by (outcome) (instance_ifname_queue_outcome:xsk_steer_packets:rate5m{${RQ}} ${inGroup(g)}) / scalar(${nhosts(g)})`, '{{outcome}}']] },
  { title: 'Descriptors per sendmsg (mean)', unit: 'short',
    desc: 'Batch efficiency of the group: its descriptors over its sendmsg calls.',
    q: (g) => [[`sum(instance_ifname_queue:xsk_tx_descriptors:rate5m{${RQ}} ${inGroup(g)}) / sum(instance_ifname_queue:xsk_tx_sendmsg_calls:rate5m{${RQ}} ${inGroup(g)})`, 'descriptors per sendmsg']] },
  { title: 'Descriptors per sendmsg (histogram)', heatmap: true,
    desc: 'The group\'s xsk_tx_descriptors_per_sendmsg buckets.',
    q: (g) => `sum by (le) (rate(xsk_tx_descriptors_per_sendmsg_bucket{${RQ}}[$__rate_interval]) ${inGroup(g)})` },
  { title: 'Backpressure by cause', unit: 'short',
    desc: 'Failed sendmsg calls per second, summed over the group, by cause.',
    q: (g) => [[`sum by (cause) (rate(xsk_tx_sendmsg_errors_total{${RQ}}[$__rate_interval]) ${inGroup(g)})`, '{{cause}}']] },
  { title: 'Drops by reason (top 10)', unit: 'pps',
    desc: 'kfree_skb by kernel drop reason, summed over the group.',
    q: (g) => [[`topk(10, sum by (reason) (rate(xsk_skb_drops_total{${RI}}[$__rate_interval]) ${inGroup(g)}))`, '{{reason}}']] },
  { title: 'Allocation path', unit: 'short',
    desc: 'skb allocations by path and Tx skbs by build path, summed over the group.',
    q: (g) => [[`sum by (path) (rate(xsk_skb_allocs_total{${RH}}[$__rate_interval]) ${inGroup(g)})`, 'alloc {{path}}'],
               [`sum by (path) (rate(xsk_tx_skbs_total{${RQ}}[$__rate_interval]) ${inGroup(g)})`, 'tx skb {{path}}']] },
  { title: 'XDP program time per packet', unit: 's',
    desc: 'The group\'s XDP steering program run time over its runs: only from exporters started with --bpf.run-time-stats (turn it on for the rollout\'s canaries).',
    q: (g) => [[`sum(rate(xsk_steer_prog_run_seconds_total{${RI}}[$__rate_interval]) ${inGroup(g)}) / sum(rate(xsk_steer_prog_runs_total{${RI}}[$__rate_interval]) ${inGroup(g)})`, 'per run']] },
  { title: 'Outstanding descriptors', unit: 'short',
    desc: 'Mean and worst queue of the group.',
    q: (g) => [[`avg(xsk_tx_descriptors_outstanding{${RQ}} ${inGroup(g)})`, 'mean'],
               [`max(xsk_tx_descriptors_outstanding{${RQ}} ${inGroup(g)})`, 'max']] },
];

function rollout() {
  nextId = 1;
  const h = 8;
  let y = 0;
  const p = [];
  const label = { a: '$group_label=$group_a', b: '$group_label=$group_b' };
  // The same two groups as xsk-triage selectors (it joins on
  // xsk_exporter_build_info exactly as these panels do): a verdict with an
  // exit code for a pipeline (triage/README.md).
  p.push(text('Verdict for a pipeline: xsk-triage',
    'The command that judges group B against group A over this time range, signal by signal, with an exit code.',
    [
      'Judge **B** against **A** signal by signal (Mann-Whitney U, Hodges-Lehmann interval per traffic-normalised signal) for this time range:',
      '',
      '```',
      'xsk-triage --prometheus http://PROMETHEUS:9090 \\',
      '  --baseline \'{${group_label}="${group_a}"}\' --canary \'{${group_label}="${group_b}"}\' \\',
      '  --start ${__from:date:iso} --end ${__to:date:iso}',
      '```',
      'Exit 0 PASS, 3 MARGINAL, 1 FAIL, 4 Prometheus error; `--json` for a pipeline. The Hosts, Interface and Queue filters above do not apply to it (see triage/README.md).',
    ].join('\n'), { x: 0, y, w: 24, h: 6 }));
  y += 6;
  p.push(row('B / A (1 = no change)', y++));
  const ppsPerHost = (g) => `sum(instance_ifname_queue_outcome:xsk_steer_packets:rate5m{${RQ}} ${inGroup(g)}) / scalar(${nhosts(g)})`;
  const batch = (g) => `sum(instance_ifname_queue:xsk_tx_descriptors:rate5m{${RQ}} ${inGroup(g)}) / sum(instance_ifname_queue:xsk_tx_sendmsg_calls:rate5m{${RQ}} ${inGroup(g)})`;
  const bp = (g) => `(sum(instance_ifname_queue:xsk_tx_sendmsg_errors:rate5m{${RQ}} ${inGroup(g)}) or vector(0)) / sum(instance_ifname_queue:xsk_tx_sendmsg_calls:rate5m{${RQ}} ${inGroup(g)})`;
  const ratios = [
    ['Packets per second per host, B/A', 'Steered packets per second per host of group B over group A.', ppsPerHost],
    ['Batch efficiency (descriptors per sendmsg), B/A', 'Below 1: group B needs more sendmsg calls for the same descriptors.', batch],
    ['Backpressure rate (failed sendmsg share), B/A', 'Above 1: more of group B\'s sendmsg calls fail. NaN when neither group has backpressure; +Inf when only B has.', bp],
  ];
  ratios.forEach(([t, d, f], i) => {
    p.push(stat(t, d, [target(`(${f("group_b")}) / (${f("group_a")})`, 'B/A')], 'none',
                { x: i * 8, y, w: 8, h: 5 }));
    p.push(timeseries(`${t} over time`, d, [target(`(${f("group_b")}) / (${f("group_a")})`, 'B/A')], 'none',
                      { x: i * 8, y: y + 5, w: 8, h: 7 }));
  });
  y += 12;
  p.push(row('Drop reasons seen in only one group', y++));
  const drops = (g) => `sum by (reason) (increase(xsk_skb_drops_total{${RI}}[$__range]) ${inGroup(g)}) > 0`;
  p.push(table('Drop reasons that appear in only one group',
    'Kernel drop reasons with drops in the time range in one group and none in the other; the only_in column names the group. Empty means both groups drop for the same reasons.',
    [target(`label_replace((${drops('group_b')}) unless on (reason) (${drops('group_a')}), "only_in", "B: ${label.b}", "", "") or label_replace((${drops('group_a')}) unless on (reason) (${drops('group_b')}), "only_in", "A: ${label.a}", "", "")`, '')],
    { x: 0, y, w: 24, h: 7 },
    [{ id: 'organize', options: { excludeByName: { Time: true }, renameByName: { Value: 'drops in range' } } }]));
  y += 7;

  p.push(row('Side by side: A (left), B (right)', y++));
  for (const s of groupSignals) {
    for (const [col, g] of [[0, 'group_a'], [12, 'group_b']]) {
      const side = g === 'group_a' ? `A (${label.a})` : `B (${label.b})`;
      const title = `${side}: ${s.title}`;
      const pos = { x: col, y, w: 12, h };
      if (s.heatmap) p.push(heatmap(title, s.desc, s.q(g), pos));
      else p.push(timeseries(title, s.desc, s.q(g).map(([e, l]) => target(e, l)), s.unit, pos));
    }
    y += h;
  }
  for (const [col, g] of [[0, 'group_a'], [12, 'group_b']]) {
    const side = g === 'group_a' ? `A (${label.a})` : `B (${label.b})`;
    p.push(table(`${side}: probe coverage (hosts per signal and mode)`,
      'How many hosts of the group measure each signal in each mode; "unavailable" rows are signals whose panels are empty for those hosts.',
      [target(`count by (signal, mode) (xsk_probe_coverage{${RH}} ${inGroup(g)})`, '')], { x: col, y, w: 12, h },
      [{ id: 'organize', options: { excludeByName: { Time: true }, renameByName: { Value: 'hosts' } } }]));
  }
  y += h;

  return dashboard({
    uid: 'xskit-rollout', title: 'xskit / AF_XDP rollout comparison',
    description: 'Two host groups chosen by a label of xsk_exporter_build_info (kernel by default, or any scrape-target label): the xsk-triage command for a verdict, the overview signals side by side, B/A ratios, and drop reasons only one group has.',
    tags: ['xskit', 'af_xdp', 'rollout'],
    links: [{ title: 'Overview', type: 'link', url: '/d/xskit-overview/xskit-af-xdp-overview', icon: 'dashboard',
              tooltip: 'per host', asDropdown: false, includeVars: false, keepTime: true, tags: [], targetBlank: false }],
    variables: [
      datasourceVar(),
      customVar('group_label', 'Group by', ['kernel', 'version', 'libbpf'],
                'Label of xsk_exporter_build_info that splits the fleet (a scrape-target label such as "rollout" works too: type it in).'),
      queryVar('group_a', 'Group A (baseline)', 'label_values(xsk_exporter_build_info, $group_label)',
               { includeAll: false, multi: false }),
      queryVar('group_b', 'Group B (candidate)', 'label_values(xsk_exporter_build_info, $group_label)',
               { includeAll: false, multi: false }),
      queryVar('instance', 'Hosts', 'label_values(xsk_exporter_build_info, instance)'),
      queryVar('ifname', 'Interface', 'label_values(xsk_steer_info{instance=~"$instance"}, ifname)'),
      queryVar('queue', 'Queue', 'label_values(xsk_steer_packets_total{instance=~"$instance", ifname=~"$ifname"}, queue)'),
    ],
    panels: p,
  });
}

export const dashboards = { 'xskit-overview.json': overview(), 'xskit-rollout.json': rollout() };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana');
  for (const [name, d] of Object.entries(dashboards))
    writeFileSync(join(out, name), JSON.stringify(d, null, 2) + '\n');
  console.log(`wrote ${Object.keys(dashboards).length} dashboards to ${out}`);
}
