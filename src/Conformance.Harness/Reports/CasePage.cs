// reports/<run-id>/cases/<case-id>.html: one case, Autobahn|Testsuite style — what was required, what happened, and
// the complete wire log. Self-contained (inline CSS, no scripts, no external resources); everything is HTML-escaped.
//
// Stable element ids (used by tests and the browser suite):
//   #case-id, #grade (the badge, class "grade grade-<GRADE>"), #rfc, #title, #requirement (blockquote), #level,
//   #section-link (a link into shared/specs), #section-text (the quoted section, when the spec copy was found),
//   #description, #aath, #reason, #expected, #observed (side by side), #checks (table, rows tr.check),
//   #fixture, #attachments, #wire-log (section; one article.wire-msg#msg-<seq> per message, with .plaintext (pre)
//   and details.envelope), a.back-link to ../index.html.
using System.Text;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class CasePage
{
    /// <summary>The default path from reports/&lt;run&gt;/cases/ to shared/specs (shared/ sits beside the repository).</summary>
    public const string DefaultSpecsHref = "../../../../shared/specs";

    /// <param name="specsHref">Relative path from the case page to shared/specs.</param>
    /// <param name="sectionText">The quoted section text, if the spec copy was readable.</param>
    /// <param name="attachmentHrefs">Attachment path → href relative to the case page (copied attachments).</param>
    public static string Render(RunReport run, CaseResult c, string specsHref = DefaultSpecsHref, string? sectionText = null,
        IReadOnlyDictionary<string, string>? attachmentHrefs = null)
    {
        var e = Html.Esc;
        var sb = new StringBuilder();
        sb.Append($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{e(c.Id)} — {e(c.Grade.ToString())}</title>
            <style>{Html.Css}</style>
            </head>
            <body>
            <p><a class="back-link" href="../index.html">← run {e(run.RunId)}</a></p>
            <h1><span id="case-id">{e(c.Id)}</span> <span id="grade" class="grade grade-{c.Grade}">{c.Grade}</span></h1>
            <dl class="meta">
            <dt>RFC</dt><dd id="rfc">{e(c.Rfc)}</dd>
            <dt>Title</dt><dd id="title">{e(c.Title)}</dd>
            <dt>Level</dt><dd id="level">{c.Level}</dd>
            <dt>Agent</dt><dd id="agent">{e(c.Agent)} <span class="muted">with peer</span> {e(c.Peer)}</dd>
            <dt>Duration</dt><dd id="duration">{e(Html.Ms(c.DurationMs))}</dd>
            <dt>Section</dt><dd><a id="section-link" href="{e(Html.Href(specsHref.TrimEnd('/') + "/" + c.Section))}">{e(c.Section)}</a></dd>

            """);
        if (c.Aath != null) sb.Append($"<dt>AATH</dt><dd id=\"aath\">{e(c.Aath)}</dd>\n");
        if (c.Counterpart != null) sb.Append($"<dt>Counterpart</dt><dd id=\"counterpart\">{e(c.Counterpart)}</dd>\n");
        if (c.FixtureStatus != null) sb.Append($"<dt>Fixture</dt><dd id=\"fixture\">{e(c.FixtureStatus)}</dd>\n");
        sb.Append("</dl>\n");

        sb.Append($"<h2>Requirement</h2>\n<blockquote id=\"requirement\" class=\"requirement\">“{e(c.Requirement)}”</blockquote>\n");
        if (c.Description != null) sb.Append($"<p id=\"description\">{e(c.Description)}</p>\n");
        if (sectionText != null)
            sb.Append($"<details id=\"section-text\"><summary>Section text ({e(c.Section)})</summary><pre>{e(sectionText)}</pre></details>\n");
        if (c.Reason != null) sb.Append($"<p><strong>Reason:</strong> <span id=\"reason\">{e(c.Reason)}</span></p>\n");

        sb.Append($"""
            <h2>Expected vs observed</h2>
            <div class="side-by-side">
            <div><h3>Expected</h3><pre id="expected">{e(c.Expected ?? "—")}</pre></div>
            <div><h3>Observed</h3><pre id="observed">{e(c.Observed ?? "—")}</pre></div>
            </div>

            """);

        sb.Append($"<h2>Checks ({c.Checks.Count})</h2>\n<table id=\"checks\">\n<tr><th>#</th><th>Requirement</th><th>Level</th><th>OK</th><th>Expected</th><th>Observed</th></tr>\n");
        var i = 0;
        foreach (var k in c.Checks)
            sb.Append($"<tr class=\"check check-{k.Grade}\"><td class=\"num\">{++i}</td><td>{e(k.Requirement)}</td><td>{k.Level}</td>" +
                      $"<td class=\"ok-{(k.Ok ? "true" : "false")}\">{(k.Ok ? "✓" : "✗")}</td><td><code>{e(k.Expected)}</code></td><td><code>{e(k.Observed)}</code></td></tr>\n");
        sb.Append("</table>\n");

        if (c.Attachments.Count > 0)
        {
            sb.Append("<h2>Attachments</h2>\n<div id=\"attachments\">\n");
            foreach (var a in c.Attachments)
            {
                var href = attachmentHrefs?.GetValueOrDefault(a);
                var name = Path.GetFileName(a);
                if (href == null) sb.Append($"<p class=\"mono\">{e(a)} <span class=\"muted\">(not found)</span></p>\n");
                else if (name.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
                    sb.Append($"<figure><img class=\"attachment\" src=\"{e(Html.Href(href))}\" alt=\"{e(name)}\"><figcaption class=\"mono\">{e(name)}</figcaption></figure>\n");
                else sb.Append($"<p><a class=\"attachment\" href=\"{e(Html.Href(href))}\">{e(name)}</a></p>\n");
            }
            sb.Append("</div>\n");
        }

        sb.Append($"<h2>Wire log ({c.Wire.Count} messages)</h2>\n<section id=\"wire-log\">\n");
        if (c.Wire.Count == 0) sb.Append("<p class=\"muted\">No message crossed the wire.</p>\n");
        foreach (var w in c.Wire)
        {
            var fromAut = w.Direction.Replace(" ", "").StartsWith("aut->", StringComparison.OrdinalIgnoreCase);
            sb.Append($"<article class=\"wire-msg {(fromAut ? "from-aut" : "to-aut")}\" id=\"msg-{w.Seq}\">\n<div class=\"wire-head\">" +
                      $"<span class=\"seq\">#{w.Seq}</span><span class=\"time mono\">+{w.AtMs} ms</span><span class=\"direction\">{e(w.Direction)}</span>" +
                      $"<code class=\"type\">{e(w.Type ?? "(no type)")}</code><span class=\"transport muted\">{e(w.Transport)}{(w.Endpoint != null ? " " + e(w.Endpoint) : "")}</span></div>\n");
            if (w.Note != null) sb.Append($"<div class=\"wire-note\">{e(w.Note)}</div>\n");
            if (w.Plaintext != null) sb.Append($"<pre class=\"plaintext\">{e(Html.Pretty(w.Plaintext))}</pre>\n");
            else sb.Append("<p class=\"muted\">no plaintext</p>\n");
            if (w.Envelope != null)
                sb.Append($"<details class=\"envelope\"><summary>envelope ({w.Envelope.Length} chars)</summary><pre>{e(Html.PrettyText(w.Envelope))}</pre></details>\n");
            sb.Append("</article>\n");
        }
        sb.Append("</section>\n</body>\n</html>\n");
        return sb.ToString();
    }
}
