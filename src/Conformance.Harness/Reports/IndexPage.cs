// reports/<run-id>/index.html: the run at a glance. Self-contained: inline CSS and plain JS, no external resources.
//
// Stable element ids and classes (the browser suite and the tests rely on them; keep them):
//   #run-meta            run metadata (dl): run id, agents, runtime, started, finished, wall time, settings
//   #summary             table RFC × grade; cells td.count[data-rfc][data-grade] (clicking one filters the cases)
//   #filters             the filter bar: button#filter-ALL, #filter-PASS, #filter-WARN, #filter-FAIL,
//                        #filter-UNSUPPORTED, #filter-ERROR (aria-pressed="true" on the active one),
//                        input#filter-text (case-insensitive substring of id, RFC, title, requirement, agent),
//                        #shown-count ("n of m cases")
//   #cases               table of cases; one tr.case-row[data-grade][data-rfc][data-text] each, with
//                        a.case-link → cases/<id>.html; filtered rows get the hidden attribute
//   #interop-matrix      (only with pairings) rows = inviter, columns = invitee, cells list a span/a.pair
//                        .grade-<GRADE> per protocol
// The page also honours a #grade=FAIL / #text=... fragment on load.
using System.Text;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class IndexPage
{
    public static string Render(RunReport run)
    {
        var e = Html.Esc;
        var grades = Enum.GetValues<Grade>();
        var sb = new StringBuilder();
        var total = run.CountByGrade();
        var worst = run.Cases.Count == 0 ? "" : $" — {total[Grade.FAIL] + total[Grade.ERROR]} failing";
        sb.Append($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Conformance run {e(run.RunId)}{e(worst)}</title>
            <style>{Html.Css}</style>
            </head>
            <body>
            <h1>Conformance run <span class="mono">{e(run.RunId)}</span></h1>
            <dl id="run-meta" class="meta">
            <dt>Agent(s)</dt><dd id="agents">{e(string.Join(", ", run.Agents))}</dd>
            <dt>Runtime</dt><dd>{e(run.Runtime)}</dd>
            <dt>Started</dt><dd>{e(run.Started.ToString("u"))}</dd>
            <dt>Finished</dt><dd>{e(run.Finished.ToString("u"))}</dd>
            <dt>Wall time</dt><dd id="wall-time">{e(Html.Duration(run.WallTime))}</dd>

            """);
        foreach (var (k, v) in run.Settings) sb.Append($"<dt>{e(k)}</dt><dd class=\"mono\">{e(Fixtures.PrivateKeyGuard.RedactValue(k, v))}</dd>\n");
        sb.Append("</dl>\n");

        // Summary: RFC × grade.
        sb.Append("<h2>Summary</h2>\n<table id=\"summary\">\n<tr><th>RFC</th>");
        foreach (var g in grades) sb.Append($"<th class=\"num\">{Html.GradeBadge(g)}</th>");
        sb.Append("<th class=\"num\">Total</th></tr>\n");
        foreach (var (rfc, counts) in run.CountByRfc())
        {
            sb.Append($"<tr><th>{e(rfc)}</th>");
            foreach (var g in grades) sb.Append(CountCell(rfc, g, counts[g]));
            sb.Append($"<td class=\"num\">{counts.Values.Sum()}</td></tr>\n");
        }
        sb.Append("<tr><th>Total</th>");
        foreach (var g in grades) sb.Append(CountCell("", g, total[g]));
        sb.Append($"<td class=\"num\"><strong>{run.Cases.Count}</strong></td></tr>\n</table>\n");

        if (run.Pairings.Count > 0) AppendMatrix(sb, run);

        // Filters and cases.
        sb.Append("<h2>Cases</h2>\n<div id=\"filters\" class=\"filters\">\n<button type=\"button\" id=\"filter-ALL\" data-grade=\"ALL\" aria-pressed=\"true\">All</button>\n");
        foreach (var g in grades) sb.Append($"<button type=\"button\" id=\"filter-{g}\" data-grade=\"{g}\" aria-pressed=\"false\">{g} ({total[g]})</button>\n");
        sb.Append("<input id=\"filter-text\" type=\"search\" placeholder=\"filter: id, RFC, requirement, agent…\" aria-label=\"filter cases by text\">\n");
        sb.Append($"<span id=\"shown-count\" class=\"muted\">{run.Cases.Count} of {run.Cases.Count} cases</span>\n</div>\n");

        sb.Append("<table id=\"cases\">\n<thead><tr><th>Case</th><th>Grade</th><th>RFC</th><th>Requirement</th><th>Agent</th><th class=\"num\">Time</th><th>Fixture</th></tr></thead>\n<tbody>\n");
        foreach (var c in run.Cases)
        {
            var text = string.Join(" ", c.Id, c.Rfc, c.Title, c.Requirement, c.Agent, c.Grade.ToString(), c.Aath ?? "", c.Counterpart ?? "").ToLowerInvariant();
            sb.Append($"<tr class=\"case-row\" data-grade=\"{c.Grade}\" data-rfc=\"{e(c.Rfc)}\" data-text=\"{e(text)}\">" +
                      $"<td><a class=\"case-link\" href=\"cases/{e(Html.Href(Html.CaseFileName(c.Id)))}\">{e(c.Id)}</a></td>" +
                      $"<td>{Html.GradeBadge(c.Grade)}</td><td>{e(c.Rfc)}</td><td>{e(c.Requirement)}" +
                      (c.Reason != null ? $"<br><span class=\"muted\">{e(c.Reason)}</span>" : "") +
                      $"</td><td>{e(c.Agent)}</td><td class=\"num\">{e(Html.Ms(c.DurationMs))}</td><td>{e(c.FixtureStatus ?? "")}</td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        sb.Append("<script>\n").Append(Script).Append("</script>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static string CountCell(string rfc, Grade g, int n) =>
        n == 0
            ? "<td class=\"num zero\">0</td>"
            : $"<td class=\"num count count-{g}\" data-rfc=\"{Html.Esc(rfc)}\" data-grade=\"{g}\" title=\"show {g} cases\">{n}</td>";

    private static void AppendMatrix(StringBuilder sb, RunReport run)
    {
        var e = Html.Esc;
        // One agent order for rows and columns (first appearance in either role), so the diagonal lines up.
        var agents = run.Pairings.SelectMany(p => new[] { p.Inviter, p.Invitee }).Distinct().ToList();
        var inviters = agents.Where(a => run.Pairings.Any(p => p.Inviter == a)).ToList();
        var invitees = agents.Where(a => run.Pairings.Any(p => p.Invitee == a)).ToList();
        sb.Append("<h2>Interop matrix</h2>\n<p class=\"muted\">Rows: inviter. Columns: invitee. One badge per protocol, coloured by grade.</p>\n");
        sb.Append("<table id=\"interop-matrix\" class=\"matrix\">\n<tr><th>inviter ↓ / invitee →</th>");
        foreach (var b in invitees) sb.Append($"<th>{e(b)}</th>");
        sb.Append("</tr>\n");
        foreach (var a in inviters)
        {
            sb.Append($"<tr><th>{e(a)}</th>");
            foreach (var b in invitees)
            {
                sb.Append($"<td data-inviter=\"{e(a)}\" data-invitee=\"{e(b)}\">");
                var cell = run.Pairings.Where(p => p.Inviter == a && p.Invitee == b).ToList();
                if (cell.Count == 0) sb.Append("<span class=\"muted\">—</span>");
                foreach (var p in cell)
                {
                    var label = $"{e(p.Protocol)}: {p.Grade}";
                    sb.Append(p.CaseId != null
                        ? $"<a class=\"pair grade-{p.Grade}\" href=\"cases/{e(Html.Href(Html.CaseFileName(p.CaseId)))}\" title=\"{label}\">{e(p.Protocol)}</a>"
                        : $"<span class=\"pair grade-{p.Grade}\" title=\"{label}\">{e(p.Protocol)}</span>");
                }
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n");
    }

    // Plain JS, no dependencies: grade buttons + text box filter the rows of #cases; summary cells filter by RFC and grade.
    private const string Script = """
        (function () {
          var rows = Array.prototype.slice.call(document.querySelectorAll('#cases tr.case-row'));
          var buttons = Array.prototype.slice.call(document.querySelectorAll('#filters button[data-grade]'));
          var input = document.getElementById('filter-text');
          var shown = document.getElementById('shown-count');
          var state = { grade: 'ALL', text: '', rfc: '' };
          function apply() {
            var n = 0, t = state.text.toLowerCase();
            rows.forEach(function (r) {
              var ok = (state.grade === 'ALL' || r.getAttribute('data-grade') === state.grade)
                && (!state.rfc || r.getAttribute('data-rfc') === state.rfc)
                && (!t || r.getAttribute('data-text').indexOf(t) >= 0);
              if (ok) { r.removeAttribute('hidden'); n++; } else { r.setAttribute('hidden', ''); }
            });
            buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.getAttribute('data-grade') === state.grade)); });
            shown.textContent = n + ' of ' + rows.length + ' cases' + (state.rfc ? ' in ' + state.rfc : '');
          }
          buttons.forEach(function (b) {
            b.addEventListener('click', function () { state.grade = b.getAttribute('data-grade'); state.rfc = ''; apply(); });
          });
          input.addEventListener('input', function () { state.text = input.value; apply(); });
          Array.prototype.forEach.call(document.querySelectorAll('#summary td.count'), function (td) {
            td.addEventListener('click', function () {
              state.grade = td.getAttribute('data-grade'); state.rfc = td.getAttribute('data-rfc') || ''; apply();
              document.getElementById('cases').scrollIntoView();
            });
          });
          var h = decodeURIComponent(location.hash.slice(1)).split('&');
          h.forEach(function (kv) {
            var p = kv.split('=');
            if (p[0] === 'grade' && p[1]) state.grade = p[1].toUpperCase();
            if (p[0] === 'text' && p[1]) { state.text = p[1]; input.value = p[1]; }
          });
          apply();
        })();

        """;
}
