// PromQL fragments shared by alerts, recording rules and dashboards, so the
// definition of "a guest we alert on" exists exactly once.
{
  // joinMatchers joins label matchers (strings without braces), skipping
  // empty ones, so optional config selectors can be passed unconditionally.
  joinMatchers(ms):: std.join(', ', std.filter(function(m) m != '', ms)),

  // regexEscape escapes RE2 metacharacters, because PVE tags may contain '.'
  // and '+', which must match literally.
  regexEscape(s)::
    std.join('', [
      if std.member('\\.+*?()|[]{}^$', ch) then '\\\\' + ch else ch
      for ch in std.stringChars(s)
    ]),

  // excludedTagsRegex matches a sorted ';'-joined tag list (the `tags` label of
  // proxmox_backup_guest_info) that contains one of the given tags as a whole
  // tag: "nobackup" matches "a;nobackup;z" but not "nobackups".
  // Prometheus anchors regexes, hence the leading and trailing groups.
  excludedTagsRegex(tags)::
    '(.*;)?(%s)(;.*)?' % std.join('|', [self.regexEscape(t) for t in tags]),

  // excludedTagsMatcher is the negative matcher for excluded tags, or '' when
  // no tag excludes.
  excludedTagsMatcher(c)::
    if std.length(c.excludeTags) == 0 then ''
    else 'tags!~"%s"' % self.excludedTagsRegex(c.excludeTags),

  // eligibleGuestInfo selects the inventory series of guests the guest alerts
  // apply to: in the inventory (so never an orphan), not a template, not
  // excluded by tag or by configuration.
  eligibleGuestInfo(c)::
    'proxmox_backup_guest_info{%s}' % self.joinMatchers([
      c.proxmoxBackupSelector,
      'template="0"',
      self.excludedTagsMatcher(c),
      c.guestExtraSelector,
    ]),

  // withGuestName multiplies a per-guest expression (labels job, instance,
  // cluster, backup_type, backup_id; value kept because guest_info is 1) with
  // the eligible inventory: it drops templates, excluded and unknown guests
  // and adds the guest's `name` label so alerts and tables are readable.
  // `ignoring` rather than `on` keeps the match exact on every other label
  // (job, instance, any target labels), so two exporters never collide.
  withGuestName(c, expr, extraLabels=[])::
    |||
      (
      %s
      )
      * ignoring (name, node, template, tags) group_left (%s)
        %s
    ||| % [self.indent(expr, 2), std.join(', ', ['name'] + extraLabels), self.eligibleGuestInfo(c)],

  // alertableGroups keeps the per-group series (labels repository, cluster,
  // backup_type, backup_id) an alert should look at: groups of eligible guests
  // of the inventory, plus groups with no inventory to check against
  // (unattributedGroupSelector, cluster="" by default). Orphaned groups
  // (a deleted guest: cluster known, guest not in its inventory), templates
  // and excluded guests drop out. exprFn(selector) builds the group
  // expression for a label selector. The join keeps the estate label (an
  // estate is counted apart; absent without estates).
  alertableGroups(c, exprFn)::
    |||
      (
      %s
        and on (estate, cluster, backup_type, backup_id)
        %s
      )
      or
      (
      %s
      )
    ||| % [
      self.indent(exprFn(c.proxmoxBackupSelector), 2),
      self.eligibleGuestInfo(c),
      self.indent(exprFn(self.joinMatchers([c.proxmoxBackupSelector, c.unattributedGroupSelector])), 2),
    ],

  // indent prefixes every non-empty line of s with n spaces and strips one
  // trailing newline, for readable nested multi-line expressions.
  indent(s, n)::
    local lines = std.split(std.rstripChars(s, '\n'), '\n');
    std.join('\n', [
      if l == '' then l else std.repeat(' ', n) + l
      for l in lines
    ]),
}
