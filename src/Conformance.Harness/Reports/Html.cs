using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

/// <summary>Shared pieces of the HTML reports: escaping, file names, grade colours, the stylesheet.</summary>
public static class Html
{
    /// <summary>
    /// HTML-escapes text for element content and quoted attribute values (&amp; &lt; &gt; " '). Control characters,
    /// which HTML must not carry, are shown as their Unicode control pictures (U+0001 → ␁).
    /// </summary>
    public static string Esc(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        if (s.Any(c => c < ' ' && c is not ('\t' or '\n' or '\r') || c == '\u007f'))
            s = new string(s.Select(c => c < ' ' && c is not ('\t' or '\n' or '\r') ? (char)(0x2400 + c) : c == '\u007f' ? '\u2421' : c).ToArray());
        return WebUtility.HtmlEncode(s);
    }

    /// <summary>The file name of a case page: <c>RFC0160-REQUEST-003.html</c> (unsafe characters replaced).</summary>
    public static string CaseFileName(string caseId) => GoldenFile.SafeName(caseId) + ".html";

    /// <summary>An href to a relative path: each segment percent-encoded, the fragment kept.</summary>
    public static string Href(string relativePath)
    {
        var hash = relativePath.IndexOf('#');
        var path = hash < 0 ? relativePath : relativePath[..hash];
        var frag = hash < 0 ? "" : "#" + Uri.EscapeDataString(Uri.UnescapeDataString(relativePath[(hash + 1)..]));
        return string.Join("/", path.Split('/').Select(seg => seg is ".." or "." ? seg : Uri.EscapeDataString(seg))) + frag;
    }

    public static string GradeBadge(Grade g) => $"<span class=\"grade grade-{g}\">{g}</span>";

    public static string Pretty(JsonNode? node) => node == null ? "" : GoldenFile.Serialize(node).TrimEnd('\n');

    /// <summary>Pretty-prints text that is JSON; returns other text unchanged.</summary>
    public static string PrettyText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return text ?? "";
        var t = text.TrimStart();
        if (t.Length == 0 || (t[0] != '{' && t[0] != '[')) return text;
        try { return JsonNode.Parse(text) is { } n ? Pretty(n) : text; }
        catch (System.Text.Json.JsonException) { return text; }
    }

    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{t.TotalSeconds:0.0} s" : $"{(int)t.TotalMinutes} min {t.Seconds} s";

    public static string Ms(long ms) => ms < 1000 ? $"{ms} ms" : $"{ms / 1000.0:0.00} s";

    /// <summary>Grade colours: PASS green, WARN amber, FAIL red, UNSUPPORTED grey, ERROR purple.</summary>
    public const string Css = """
        :root { --pass:#2e7d32; --warn:#b26a00; --fail:#c62828; --unsupported:#607d8b; --error:#6a1b9a;
                --bg:#fff; --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --soft:#f6f8fa; }
        * { box-sizing: border-box; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 1.5rem 2rem; }
        h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
        a { color: #0969da; } code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
        pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; overflow: auto; white-space: pre-wrap; word-break: break-all; margin: .25rem 0; }
        table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid var(--line); padding: .3rem .55rem; text-align: left; vertical-align: top; }
        th { background: var(--soft); font-weight: 600; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .muted { color: var(--muted); } dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; } dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
        .grade { display: inline-block; min-width: 4.2em; text-align: center; padding: .05rem .45rem; border-radius: 4px; color: #fff; font-weight: 600; font-size: 12px; letter-spacing: .02em; }
        .grade-PASS { background: var(--pass); } .grade-WARN { background: var(--warn); } .grade-FAIL { background: var(--fail); }
        .grade-UNSUPPORTED { background: var(--unsupported); } .grade-ERROR { background: var(--error); }
        td.count-PASS { color: var(--pass); } td.count-WARN { color: var(--warn); } td.count-FAIL { color: var(--fail); }
        td.count-UNSUPPORTED { color: var(--unsupported); } td.count-ERROR { color: var(--error); }
        td.count { font-weight: 600; cursor: pointer; } td.zero { color: #afb8c1; font-weight: 400; cursor: default; }
        .filters { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: .5rem 0; }
        .filters button { border: 1px solid var(--line); background: var(--soft); border-radius: 5px; padding: .25rem .7rem; cursor: pointer; font: inherit; }
        .filters button[aria-pressed="true"] { background: var(--fg); color: #fff; border-color: var(--fg); }
        .filters input { padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 5px; min-width: 18rem; font: inherit; }
        tr.case-row td:first-child { white-space: nowrap; }
        .matrix td { min-width: 9rem; } .matrix .pair { display: inline-block; margin: .1rem; padding: .05rem .4rem; border-radius: 4px; color: #fff; font-size: 12px; text-decoration: none; }
        .pair.grade-PASS { background: var(--pass); } .pair.grade-WARN { background: var(--warn); } .pair.grade-FAIL { background: var(--fail); }
        .pair.grade-UNSUPPORTED { background: var(--unsupported); } .pair.grade-ERROR { background: var(--error); }
        blockquote.requirement { margin: .5rem 0; padding: .5rem .9rem; border-left: 4px solid var(--fg); background: var(--soft); font-size: 15px; }
        .side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; } .side-by-side h3 { margin: .25rem 0; font-size: 1rem; }
        td.ok-true { color: var(--pass); font-weight: 600; } td.ok-false { color: var(--fail); font-weight: 600; }
        .wire-msg { border: 1px solid var(--line); border-radius: 6px; margin: .6rem 0; padding: .5rem .8rem; }
        .wire-msg.to-aut { border-left: 4px solid #0969da; } .wire-msg.from-aut { border-left: 4px solid #8250df; }
        .wire-head { display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: baseline; } .wire-head .seq { font-weight: 700; }
        .wire-note { color: var(--fail); } details > summary { cursor: pointer; color: var(--muted); }
        img.attachment { max-width: 100%; border: 1px solid var(--line); border-radius: 4px; margin: .25rem 0; }
        """;
}
