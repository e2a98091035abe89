// A deliberately small Grafana helper: plain JSON objects in the shape
// Grafana 10/11 exports (schemaVersion 39), instead of grafonnet, which
// jsonnet-bundler cannot fetch here and whose generated output is harder to
// review. Only what our three dashboards use.
{
  // datasource refers to the dashboard's `datasource` template variable, so
  // an imported dashboard works with whatever the user names their Prometheus.
  datasource:: { type: 'prometheus', uid: '${datasource}' },

  // target is one Prometheus query. Instant table queries feed tables and
  // stats; range queries feed time series.
  target(expr, legend='', refId='A', instant=false, format='time_series'):: {
    datasource: $.datasource,
    expr: expr,
    legendFormat: legend,
    refId: refId,
    instant: instant,
    range: !instant,
    format: format,
  },

  // tableTargets turns a list of expressions into instant table queries
  // A, B, C..., merged by the table's "merge" transformation on their labels.
  tableTargets(exprs):: [
    $.target(exprs[i], refId=std.char(65 + i), instant=true, format='table')
    for i in std.range(0, std.length(exprs) - 1)
  ],

  // thresholds builds a threshold step list: base color, then [value, color].
  thresholds(base, steps=[]):: {
    mode: 'absolute',
    steps: [{ color: base, value: null }] + [{ color: s[1], value: s[0] } for s in steps],
  },

  // valueMap maps exact values to text and color (e.g. 1 -> "OK").
  valueMap(entries):: [{
    type: 'value',
    options: {
      [std.toString(e[0])]: { text: e[1], color: e[2], index: i }
      for i in std.range(0, std.length(entries) - 1)
      for e in [entries[i]]
    },
  }],

  local panel(type, title, description, targets, unit, w, h) = {
    type: type,
    title: title,
    description: description,
    datasource: $.datasource,
    targets: targets,
    fieldConfig: { defaults: { unit: unit }, overrides: [] },
    options: {},
    gridPos: { w: w, h: h },
  },

  stat(title, description, targets, unit='none', w=4, h=4, thresholds=$.thresholds('green'), mappings=[], colorMode='value'):: panel('stat', title, description, targets, unit, w, h) + {
    fieldConfig+: { defaults+: { thresholds: thresholds, mappings: mappings, color: { mode: 'thresholds' } } },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: colorMode,
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: 'auto',
      wideLayout: true,
      showPercentChange: false,
    },
  },

  timeseries(title, description, targets, unit, w=12, h=8, stack=false, min=null):: panel('timeseries', title, description, targets, unit, w, h) + {
    fieldConfig+: {
      defaults+: {
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: if stack then 30 else 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: if stack then 'normal' else 'none', group: 'A' },
        },
      } + (if min != null then { min: min } else {}),
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  },

  bargauge(title, description, targets, unit, w=12, h=8, min=null, max=null, thresholds=$.thresholds('green')):: panel('bargauge', title, description, targets, unit, w, h) + {
    fieldConfig+: {
      defaults+: { thresholds: thresholds, color: { mode: 'thresholds' } }
                 + (if min != null then { min: min } else {})
                 + (if max != null then { max: max } else {}),
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      displayMode: 'gradient',
      orientation: 'horizontal',
      showUnfilled: true,
      valueMode: 'color',
      namePlacement: 'auto',
      sizing: 'auto',
      minVizHeight: 16,
      minVizWidth: 8,
      maxVizHeight: 300,
    },
  },

  // table shows instant queries merged into one row per label set.
  // columns: [[field, display name, unit or null, extra field config]] in
  // display order; other fields are hidden. sortBy is a display name.
  table(title, description, targets, columns, unit='none', w=24, h=10, sortBy=null, sortDesc=true):: panel('table', title, description, targets, unit, w, h) + {
    local names = [col[0] for col in columns],
    fieldConfig+: {
      defaults+: { custom: { align: 'auto', cellOptions: { type: 'auto' }, filterable: true } },
      overrides: [
        {
          matcher: { id: 'byName', options: col[0] },
          properties: [{ id: 'displayName', value: col[1] }]
                      + (if col[2] != null then [{ id: 'unit', value: col[2] }] else [])
                      + (if std.length(col) > 3 then col[3] else []),
        }
        for col in columns
      ],
    },
    options: {
      showHeader: true,
      cellHeight: 'sm',
      footer: { show: false, reducer: ['sum'], countRows: false, fields: '' },
      sortBy: if sortBy == null then [] else [{ displayName: sortBy, desc: sortDesc }],
    },
    transformations: [
      // One row per label set: instant queries A, B, ... become the columns
      // "Value #A", "Value #B", ...
      { id: 'merge', options: {} },
      // Keep only the listed columns (hides Time, job, instance and any
      // labels a user's relabelling adds) ...
      { id: 'filterFieldsByName', options: { include: { names: names } } },
      // ... in the listed order.
      {
        id: 'organize',
        options: {
          excludeByName: {},
          indexByName: { [names[i]]: i for i in std.range(0, std.length(names) - 1) },
          renameByName: {},
        },
      },
    ],
  },

  // cellColor colors a table cell's background by thresholds/mappings.
  cellColor:: [{ id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } }],
  cellText:: [{ id: 'custom.cellOptions', value: { type: 'color-text' } }],

  // layout assigns ids and grid positions, filling rows of 24 columns left
  // to right, so dashboards list panels in reading order only.
  layout(panels)::
    local step(acc, p) =
      local fits = acc.x + p.gridPos.w <= 24;
      local x = if fits then acc.x else 0;
      local y = if fits then acc.y else acc.y + acc.rowH;
      local rowH = if fits then std.max(acc.rowH, p.gridPos.h) else p.gridPos.h;
      {
        x: x + p.gridPos.w,
        y: y,
        rowH: rowH,
        panels: acc.panels + [p { id: std.length(acc.panels) + 1, gridPos+: { x: x, y: y } }],
      };
    std.foldl(step, panels, { x: 0, y: 0, rowH: 0, panels: [] }).panels,

  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    regex: '',
    hide: 0,
    refresh: 1,
    current: {},
    options: [],
  },

  // queryVariable is a multi-value label_values variable with "All" = .*,
  // so series with an empty label value (e.g. cluster="") are included.
  queryVariable(name, label, query):: {
    name: name,
    label: label,
    type: 'query',
    datasource: $.datasource,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery', qryType: 1 },
    definition: query,
    refresh: 2,
    regex: '',
    sort: 1,
    multi: true,
    includeAll: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    hide: 0,
  },

  // estateVariable selects estates: the `estate` label that Prometheus
  // sets when it scrapes /probe?estate=NAME (docs/estates.md). Without
  // estates it has no values and "All" (.*) matches every series, as the
  // label is absent.
  estateVariable(selector):: $.queryVariable('estate', 'Estate', 'label_values(proxmox_backup_target_up{%s}, estate)' % selector),

  dashboard(c, uidSuffix, title, description, variables, panels):: {
    uid: c.dashboardUIDPrefix + uidSuffix,
    title: c.dashboardTitlePrefix + title,
    description: description,
    tags: c.dashboardTags,
    editable: true,
    graphTooltip: 1,
    refresh: c.dashboardRefresh,
    schemaVersion: 39,
    time: { from: c.dashboardTimeFrom, to: 'now' },
    timezone: c.dashboardTimezone,
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    version: 1,
    links: [{
      title: 'Proxmox Backup dashboards',
      type: 'dashboards',
      tags: c.dashboardTags,
      asDropdown: true,
      includeVars: true,
      keepTime: true,
      icon: 'external link',
      targetBlank: false,
      tooltip: '',
      url: '',
    }],
    annotations: { list: [{
      builtIn: 1,
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      hide: true,
      iconColor: 'rgba(0, 211, 255, 1)',
      name: 'Annotations & Alerts',
      type: 'dashboard',
    }] },
    templating: { list: [$.datasourceVariable] + variables },
    panels: $.layout(panels),
  },
}
