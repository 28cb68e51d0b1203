// reports/<run-id>/junit.xml for CI (GitLab, Jenkins, GitHub test reporters), in the common Ant/Surefire JUnit
// dialect: <testsuites> with one <testsuite name="RFC0160"> per RFC and one <testcase classname="RFC0160"
// name="<id> <title>" time="seconds"> per case.
//
// Grade mapping (JUnit has no "warn"):
//   PASS         passed (no child element)
//   WARN         passed, with <system-out> starting "WARN: " and naming the unmet SHOULD, expected and observed —
//                so a CI gate on failures lets warnings through, but they stay visible in the test's output
//   FAIL         <failure message="expected: …; observed: …" type="FAIL"> with the failed checks in the body
//   ERROR        <error message="reason" type="ERROR"> (the harness or its infrastructure failed)
//   UNSUPPORTED  <skipped message="reason">
// Every text goes through XDocument (escaped) after characters XML 1.0 cannot carry are replaced with U+FFFD.
// Private keys are redacted before (ReportWriter renders from sanitized cases).
using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class JunitXml
{
    public static XDocument Build(RunReport run)
    {
        var byGrade = run.CountByGrade();
        var root = new XElement("testsuites",
            new XAttribute("name", X("conformance " + run.RunId)),
            new XAttribute("tests", run.Cases.Count),
            new XAttribute("failures", byGrade[Grade.FAIL]),
            new XAttribute("errors", byGrade[Grade.ERROR]),
            new XAttribute("skipped", byGrade[Grade.UNSUPPORTED]),
            new XAttribute("time", Seconds((long)run.WallTime.TotalMilliseconds)),
            new XAttribute("timestamp", run.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)));

        var id = 0;
        foreach (var group in run.Cases.GroupBy(c => c.Rfc))
        {
            var cases = group.ToList();
            var suite = new XElement("testsuite",
                new XAttribute("name", X(group.Key)),
                new XAttribute("id", id++),
                new XAttribute("tests", cases.Count),
                new XAttribute("failures", cases.Count(c => c.Grade == Grade.FAIL)),
                new XAttribute("errors", cases.Count(c => c.Grade == Grade.ERROR)),
                new XAttribute("skipped", cases.Count(c => c.Grade == Grade.UNSUPPORTED)),
                new XAttribute("time", Seconds(cases.Sum(c => c.DurationMs))),
                new XAttribute("timestamp", run.Started.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)),
                new XElement("properties",
                    new XElement("property", new XAttribute("name", "agents"), new XAttribute("value", X(string.Join(", ", run.Agents)))),
                    new XElement("property", new XAttribute("name", "run_id"), new XAttribute("value", X(run.RunId)))));
            foreach (var c in cases) suite.Add(Case(c));
            root.Add(suite);
        }
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), root);
    }

    public static string Render(RunReport run)
    {
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", NewLineChars = "\n", Encoding = new UTF8Encoding(false) };
        using (var w = XmlWriter.Create(new Utf8StringWriter(sb), settings)) Build(run).Save(w);
        return sb.Append('\n').ToString();
    }

    private static XElement Case(CaseResult c)
    {
        var tc = new XElement("testcase",
            new XAttribute("classname", X(c.Rfc)),
            new XAttribute("name", X(string.IsNullOrEmpty(c.Title) ? c.Id : c.Id + " " + c.Title)),
            new XAttribute("time", Seconds(c.DurationMs)));
        var failed = c.Checks.Where(k => !k.Ok).ToList();
        switch (c.Grade)
        {
            case Grade.FAIL:
                tc.Add(new XElement("failure",
                    new XAttribute("message", X($"expected: {c.Expected ?? "—"}; observed: {c.Observed ?? "—"}")),
                    new XAttribute("type", "FAIL"),
                    X(Details(c, failed))));
                break;
            case Grade.ERROR:
                tc.Add(new XElement("error",
                    new XAttribute("message", X(c.Reason ?? "harness error")),
                    new XAttribute("type", "ERROR"),
                    X(Details(c, failed))));
                break;
            case Grade.UNSUPPORTED:
                tc.Add(new XElement("skipped", new XAttribute("message", X("UNSUPPORTED: " + (c.Reason ?? "not supported by the agent")))));
                break;
            case Grade.WARN:
                tc.Add(new XElement("system-out", X("WARN: " + Details(c, failed))));
                break;
        }
        return tc;
    }

    private static string Details(CaseResult c, List<Check> failed)
    {
        var sb = new StringBuilder();
        sb.Append($"{c.Id} ({c.Level}): {c.Requirement}\n");
        foreach (var k in failed)
            sb.Append($"- [{k.Level}] {k.Requirement}\n  expected: {k.Expected ?? "—"}\n  observed: {k.Observed ?? "—"}\n");
        if (failed.Count == 0 && (c.Expected != null || c.Observed != null))
            sb.Append($"expected: {c.Expected ?? "—"}\nobserved: {c.Observed ?? "—"}\n");
        if (c.Reason != null) sb.Append($"reason: {c.Reason}\n");
        sb.Append($"section: {c.Section}\n");
        return sb.ToString();
    }

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Replaces characters XML 1.0 cannot represent (control characters, lone surrogates) with U+FFFD.</summary>
    public static string X(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "";
        StringBuilder? sb = null;
        for (var i = 0; i < s.Length; i++)
        {
            var ch = s[i];
            bool ok;
            if (char.IsHighSurrogate(ch) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                sb?.Append(ch).Append(s[i + 1]);
                i++;
                continue;
            }
            ok = XmlConvert.IsXmlChar(ch);
            if (!ok) (sb ??= new StringBuilder(s, 0, i, s.Length)).Append('\uFFFD');
            else sb?.Append(ch);
        }
        return sb?.ToString() ?? s;
    }

    private sealed class Utf8StringWriter(StringBuilder sb) : StringWriter(sb, CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => new UTF8Encoding(false);
    }
}
