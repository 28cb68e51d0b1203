using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;

namespace Conformance.Harness.Tests.Reports;

public class ReportWriterTests
{
    private TempDir _tmp = null!;
    private RunReport _run = null!;
    private ReportPaths _paths = null!;
    private string _png = null!;

    [OneTimeSetUp]
    public void Write()
    {
        _tmp = new TempDir();
        _png = Path.Combine(_tmp.Path, "screen shot.png");
        File.WriteAllBytes(_png, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        _run = SampleRun.Build(_png);
        _paths = ReportWriter.Write(_run, Path.Combine(_tmp.Path, "reports", _run.RunId));
    }

    [OneTimeTearDown]
    public void Cleanup() => _tmp.Dispose();

    private static string Read(string path) => File.ReadAllText(path);

    [Test]
    public void Writes_every_report_file()
    {
        Assert.That(File.Exists(_paths.ResultsJson), Is.True);
        Assert.That(File.Exists(_paths.JunitXml), Is.True);
        Assert.That(File.Exists(_paths.IndexHtml), Is.True);
        Assert.That(_paths.CasePages, Has.Count.EqualTo(_run.Cases.Count));
        Assert.That(_paths.CasePages.All(File.Exists), Is.True);
        Assert.That(Path.GetFileName(_paths.CasePages[0]), Is.EqualTo("RFC0023-REQUEST-001.html"));
        Assert.That(Directory.GetFiles(_paths.AllureResults, "*-result.json"), Has.Length.EqualTo(_run.Cases.Count));
    }

    // ---- results.json

    [Test]
    public void Results_json_has_the_required_fields_for_each_case_and_parses_back()
    {
        var doc = JsonNode.Parse(Read(_paths.ResultsJson))!;
        Assert.That(doc["run_id"]!.GetValue<string>(), Is.EqualTo(_run.RunId));
        Assert.That(doc["wall_ms"]!.GetValue<long>(), Is.EqualTo(12500));
        var cases = doc["cases"]!.AsArray();
        Assert.That(cases, Has.Count.EqualTo(5));
        string[] required = ["id", "rfc", "title", "requirement", "level", "section", "description", "aath", "agent", "peer", "grade",
            "expected", "observed", "reason", "duration_ms", "checks", "fixture", "attachments", "wire"];
        foreach (var c in cases)
            foreach (var f in required)
                Assert.That(c!.AsObject().ContainsKey(f), Is.True, $"{c["id"]} lacks {f}");

        var pass = cases[0]!;
        Assert.That(pass["grade"]!.GetValue<string>(), Is.EqualTo("PASS"));
        Assert.That(pass["duration_ms"]!.GetValue<long>(), Is.EqualTo(1234));
        var wire = pass["wire"]!.AsArray();
        Assert.That(wire, Has.Count.EqualTo(4));
        foreach (var w in wire)
            foreach (var f in new[] { "seq", "at_ms", "direction", "type", "transport", "endpoint", "envelope", "plaintext", "note" })
                Assert.That(w!.AsObject().ContainsKey(f), Is.True, f);
        Assert.That(wire[0]!["direction"]!.GetValue<string>(), Is.EqualTo("aut -> Bob"));
        Assert.That(wire[1]!["plaintext"]!["@type"]!.GetValue<string>(), Is.EqualTo("https://didcomm.org/didexchange/1.1/request"));

        var summary = doc["summary"]!;
        Assert.That(summary["total"]!.GetValue<int>(), Is.EqualTo(5));
        foreach (var g in Enum.GetValues<Grade>()) Assert.That(summary[g.ToString()]!.GetValue<int>(), Is.EqualTo(1), g.ToString());
        Assert.That(summary["by_rfc"]!["RFC0434"]!["ERROR"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(doc["pairings"]!.AsArray(), Has.Count.EqualTo(3));

        // Parses back into the model.
        var back = cases.Select(c => c.Deserialize<CaseResult>(ResultsJson.Options)!).ToList();
        Assert.That(back.Select(c => c.Id), Is.EqualTo(_run.Cases.Select(c => c.Id)));
        Assert.That(back.Select(c => c.Grade), Is.EqualTo(_run.Cases.Select(c => c.Grade)));
        Assert.That(back[2].Checks[1].Ok, Is.False);
        Assert.That(back[2].Checks[1].Level, Is.EqualTo(Level.MUST));
        Assert.That(back[0].Wire[1].Plaintext!["label"]!.GetValue<string>(), Is.EqualTo("Bob"));
    }

    // ---- junit.xml

    [Test]
    public void Junit_xml_is_well_formed_and_maps_grades()
    {
        var text = Read(_paths.JunitXml);
        var doc = XDocument.Parse(text);
        var root = doc.Root!;
        Assert.That(root.Name.LocalName, Is.EqualTo("testsuites"));
        Assert.That((int)root.Attribute("tests")!, Is.EqualTo(5));
        Assert.That((int)root.Attribute("failures")!, Is.EqualTo(1));
        Assert.That((int)root.Attribute("errors")!, Is.EqualTo(1));
        Assert.That((int)root.Attribute("skipped")!, Is.EqualTo(1));

        var suites = root.Elements("testsuite").ToList();
        Assert.That(suites.Select(s => (string)s.Attribute("name")!), Is.EqualTo(new[] { "RFC0023", "RFC0160", "RFC0434" }));
        var cases = root.Descendants("testcase").ToList();
        Assert.That(cases, Has.Count.EqualTo(5));
        Assert.That(cases.All(c => (string)c.Attribute("classname")! == (string)c.Parent!.Attribute("name")!), Is.True);
        Assert.That((string)cases[0].Attribute("name")!, Is.EqualTo("RFC0023-REQUEST-001 Suite of RFC0023"));
        Assert.That((string)cases[0].Attribute("time")!, Is.EqualTo("1.234"));

        Assert.That(root.Descendants("failure").Count(), Is.EqualTo(1));
        Assert.That(root.Descendants("error").Count(), Is.EqualTo(1));
        Assert.That(root.Descendants("skipped").Count(), Is.EqualTo(1));
        var failure = root.Descendants("failure").Single();
        Assert.That((string)failure.Attribute("message")!, Does.StartWith("expected: thid = <request @id>; observed: no ~thread \uFFFD at all"));
        Assert.That(failure.Value, Does.Contain("The response MUST carry ~thread.thid."));
        Assert.That((string)root.Descendants("skipped").Single().Attribute("message")!, Does.Contain("501 Not Implemented"));
        Assert.That((string)root.Descendants("error").Single().Attribute("message")!, Does.Contain("Connection refused"));

        var warn = cases.Single(c => ((string)c.Attribute("name")!).StartsWith("RFC0023-RESPONSE-002"));
        Assert.That(warn.Elements().Select(e => e.Name.LocalName), Is.EqualTo(new[] { "system-out" }), "WARN passes, with the warning in system-out");
        Assert.That(warn.Element("system-out")!.Value, Does.StartWith("WARN: "));
        Assert.That(warn.Element("system-out")!.Value, Does.Contain("SHOULD be signed by the invitation key"));
        Assert.That(cases[0].HasElements, Is.False, "PASS has no child");
    }

    // ---- index.html

    [Test]
    public void Index_links_every_case_and_has_the_documented_ids()
    {
        var html = Read(_paths.IndexHtml);
        foreach (var c in _run.Cases)
            Assert.That(html, Does.Contain($"<a class=\"case-link\" href=\"cases/{c.Id}.html\">{c.Id}</a>"));
        Assert.That(Regex.Matches(html, "class=\"case-link\"").Count, Is.EqualTo(_run.Cases.Count));
        foreach (var id in new[] { "filter-ALL", "filter-PASS", "filter-WARN", "filter-FAIL", "filter-UNSUPPORTED", "filter-ERROR", "filter-text", "summary", "cases", "run-meta", "shown-count", "interop-matrix" })
            Assert.That(html, Does.Contain($"id=\"{id}\""), id);
        Assert.That(html, Does.Contain("data-grade=\"FAIL\""));
        Assert.That(html, Does.Contain("<script>"), "the filter is inline JS");
        Assert.That(html, Does.Contain("12.5 s"), "wall time");
        Assert.That(html, Does.Contain("acapy, credo"));
    }

    [Test]
    public void Html_is_self_contained()
    {
        foreach (var path in _paths.CasePages.Append(_paths.IndexHtml))
        {
            var html = Read(path);
            Assert.That(html, Does.Not.Match(@"<(script|img|link|iframe)[^>]+(src|href)=""(https?:)?//"), path);
            Assert.That(html, Does.Not.Contain("<link"), path);
            Assert.That(html, Does.Not.Contain("@import"), path);
        }
    }

    [Test]
    public void Interop_matrix_has_inviter_rows_and_invitee_columns()
    {
        var html = Read(_paths.IndexHtml);
        var matrix = html[html.IndexOf("id=\"interop-matrix\"", StringComparison.Ordinal)..];
        matrix = matrix[..matrix.IndexOf("</table>", StringComparison.Ordinal)];
        Assert.That(matrix, Does.Contain("<td data-inviter=\"acapy\" data-invitee=\"credo\"><a class=\"pair grade-PASS\" href=\"cases/RFC0023-REQUEST-001.html\""));
        Assert.That(matrix, Does.Contain("class=\"pair grade-FAIL\""));
        Assert.That(matrix, Does.Contain("<td data-inviter=\"credo\" data-invitee=\"acapy\"><span class=\"pair grade-WARN\""));
        Assert.That(matrix, Does.Contain("<tr><th>inviter ↓ / invitee →</th><th>acapy</th><th>credo</th></tr>"), "one agent order for rows and columns");

        var plain = SampleRun.Build();
        plain.Pairings.Clear();
        Assert.That(IndexPage.Render(plain), Does.Not.Contain("interop-matrix"));
    }

    // ---- cases/<id>.html

    [Test]
    public void Case_page_shows_the_escaped_wire_log()
    {
        var html = Read(Path.Combine(_paths.Directory, "cases", "RFC0160-REQUEST-003.html"));
        Assert.That(html, Does.Contain("id=\"wire-log\""));
        Assert.That(html, Does.Not.Contain("<script"), "nothing from the wire is executable");
        Assert.That(html, Does.Contain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        Assert.That(html, Does.Contain("<article class=\"wire-msg from-aut\" id=\"msg-1\">"));
        Assert.That(html, Does.Contain("<details class=\"envelope\">"));
        Assert.That(html, Does.Contain("rejected: not a DIDComm envelope"));
        Assert.That(html, Does.Contain("no plaintext"));
        Assert.That(html, Does.Contain("class=\"plaintext\""));
    }

    [Test]
    public void Case_page_has_requirement_section_link_checks_and_attachments()
    {
        var html = Read(Path.Combine(_paths.Directory, "cases", "RFC0160-REQUEST-003.html"));
        Assert.That(html, Does.Contain("<span id=\"grade\" class=\"grade grade-FAIL\">FAIL</span>"));
        Assert.That(html, Does.Contain("“The response MUST carry ~thread.thid = the request&#39;s @id &amp; be &quot;signed&quot;.”"));
        Assert.That(html, Does.Contain("<a id=\"section-link\" href=\"../../../../shared/specs/aries-rfcs/0160-connection-protocol/README.md#errors\">aries-rfcs/0160-connection-protocol/README.md#errors</a>"));
        Assert.That(html, Does.Contain("<pre id=\"expected\">thid = &lt;request @id&gt;</pre>"));
        Assert.That(html, Does.Contain("<pre id=\"observed\">no ~thread \u2401 at all"), "control characters are shown as control pictures");
        Assert.That(Regex.Matches(html, "<tr class=\"check ").Count, Is.EqualTo(2));
        Assert.That(html, Does.Contain("class=\"ok-false\""));
        Assert.That(html, Does.Contain("<img class=\"attachment\" src=\"RFC0160-REQUEST-003/screen-shot.png\""));
        Assert.That(File.Exists(Path.Combine(_paths.Directory, "cases", "RFC0160-REQUEST-003", "screen-shot.png")), Is.True, "attachments are copied into the report");
        Assert.That(html, Does.Contain("/nonexistent/trace.zip"));

        var warn = Read(Path.Combine(_paths.Directory, "cases", "RFC0023-RESPONSE-002.html"));
        Assert.That(warn, Does.Contain("<dd id=\"aath\">T001-RFC0023</dd>"));
    }

    [Test]
    public void Case_page_quotes_the_section_from_the_spec_copy()
    {
        if (!Directory.Exists(TestPaths.Specs)) Assert.Ignore("shared/specs not found at " + TestPaths.Specs);
        using var tmp = new TempDir();
        var paths = ReportWriter.Write(SampleRun.Build(), Path.Combine(tmp.Path, "r"), new ReportOptions { SpecsRoot = TestPaths.Specs });
        var html = Read(Path.Combine(paths.Directory, "cases", "RFC0160-REQUEST-003.html"));
        // The "### Errors" section of Aries RFC 0160.
        Assert.That(html, Does.Contain("<details id=\"section-text\">"));
        Assert.That(html, Does.Contain("### Errors"));
        Assert.That(html, Does.Not.Contain("### Flow Overview"), "stops at the next heading of the same level");
        var link = Regex.Match(html, "id=\"section-link\" href=\"([^\"]+)\"").Groups[1].Value;
        var target = Path.GetFullPath(Path.Combine(paths.Directory, "cases", link.Split('#')[0]));
        Assert.That(File.Exists(target), Is.True, "the link resolves: " + target);
    }

    // ---- allure-results

    [Test]
    public void Allure_results_parse_and_map_grades()
    {
        var results = Directory.GetFiles(_paths.AllureResults, "*-result.json")
            .Select(f => (File: f, Json: JsonNode.Parse(File.ReadAllText(f))!)).ToDictionary(x => x.Json["testCaseId"]!.GetValue<string>());
        var expected = new Dictionary<string, string>
        {
            ["RFC0023-REQUEST-001"] = "passed", ["RFC0023-RESPONSE-002"] = "passed", ["RFC0160-REQUEST-003"] = "failed",
            ["RFC0434-OOB-004"] = "skipped", ["RFC0434-OOB-005"] = "broken",
        };
        foreach (var (id, status) in expected)
        {
            var (file, r) = results[id];
            Assert.That(r["status"]!.GetValue<string>(), Is.EqualTo(status), id);
            Assert.That(Path.GetFileName(file), Is.EqualTo(r["uuid"]!.GetValue<string>() + "-result.json"));
            Assert.That(Guid.TryParse(r["uuid"]!.GetValue<string>(), out _), Is.True);
            var labels = r["labels"]!.AsArray().Select(l => (l!["name"]!.GetValue<string>(), l["value"]!.GetValue<string>())).ToList();
            Assert.That(labels, Does.Contain(("suite", id[..7])));
            Assert.That(r["stop"]!.GetValue<long>() - r["start"]!.GetValue<long>(), Is.EqualTo(1234));
            Assert.That(r["links"]![0]!["url"]!.GetValue<string>(), Does.StartWith("../../../shared/specs/aries-rfcs/"));
        }
        var warnLabels = results["RFC0023-RESPONSE-002"].Json["labels"]!.AsArray().Select(l => l!["value"]!.GetValue<string>());
        Assert.That(warnLabels, Does.Contain("warn"));
        Assert.That(results["RFC0023-RESPONSE-002"].Json["statusDetails"]!["message"]!.GetValue<string>(), Does.StartWith("WARN"));
        Assert.That(results["RFC0434-OOB-004"].Json["statusDetails"]!["message"]!.GetValue<string>(), Does.Contain("501"));

        var att = results["RFC0023-REQUEST-001"].Json["attachments"]![0]!;
        Assert.That(att["type"]!.GetValue<string>(), Is.EqualTo("application/json"));
        var source = att["source"]!.GetValue<string>();
        Assert.That(source, Does.EndWith("-attachment.json"));
        var log = JsonNode.Parse(File.ReadAllText(Path.Combine(_paths.AllureResults, source)))!.AsArray();
        Assert.That(log, Has.Count.EqualTo(4));
        Assert.That(File.Exists(Path.Combine(_paths.AllureResults, "environment.properties")), Is.True);
    }

    [Test]
    public void Allure_uuids_are_deterministic()
    {
        Assert.That(AllureResults.Uuid("run/CASE-1"), Is.EqualTo(AllureResults.Uuid("run/CASE-1")));
        Assert.That(AllureResults.Uuid("run/CASE-1"), Is.Not.EqualTo(AllureResults.Uuid("run/CASE-2")));
        Assert.That(AllureResults.Uuid("run/CASE-1")[14], Is.EqualTo('5'), "RFC 4122 version 5");

        using var tmp = new TempDir();
        var a = ReportWriter.Write(SampleRun.Build(), Path.Combine(tmp.Path, "a"));
        var b = ReportWriter.Write(SampleRun.Build(), Path.Combine(tmp.Path, "b"));
        static string[] Names(string d) => Directory.GetFiles(d).Select(Path.GetFileName).Order().ToArray()!;
        Assert.That(Names(b.AllureResults), Is.EqualTo(Names(a.AllureResults)));
        foreach (var n in Names(a.AllureResults))
            Assert.That(File.ReadAllText(Path.Combine(b.AllureResults, n)), Is.EqualTo(File.ReadAllText(Path.Combine(a.AllureResults, n))), n);
        Assert.That(File.ReadAllText(b.ResultsJson), Is.EqualTo(File.ReadAllText(a.ResultsJson)));
    }

    // ---- private keys

    [Test]
    public void No_private_key_material_anywhere_in_the_output()
    {
        // The sample seeds a fake secret in a plaintext (recipient_secret), in an observation, in an envelope (seed)
        // and in the settings; reports redact rather than refuse, so the run is still reported.
        foreach (var f in Directory.GetFiles(_paths.Directory, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(f);
            Assert.That(text, Does.Not.Contain(SampleRun.Secret), f);
            Assert.That(text, Does.Not.Contain("Trustee1"), f);
        }
        var doc = JsonNode.Parse(Read(_paths.ResultsJson))!;
        Assert.That(doc["redactions"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(3));
        var hostile = doc["cases"]![2]!["wire"]![0]!["plaintext"]!;
        Assert.That(hostile["recipient_secret"]!.GetValue<string>(), Is.EqualTo(PrivateKeyGuard.Redacted));
        Assert.That(hostile["label"]!.GetValue<string>(), Is.EqualTo(SampleRun.Script), "only the secret is touched");
        Assert.That(_run.Cases[2].Wire[0].Plaintext!["recipient_secret"]!.GetValue<string>(), Is.EqualTo(SampleRun.Secret), "the run itself is not modified");
    }

    // ---- console summary

    [Test]
    public void Summary_table_counts_by_rfc_and_grade()
    {
        var text = SummaryTable.Render(_run);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("RFC      PASS  WARN  FAIL  UNSUPPORTED  ERROR  TOTAL"));
        Assert.That(lines[1], Is.EqualTo("RFC0023     1     1     0            0      0      2"));
        Assert.That(lines[2], Is.EqualTo("RFC0160     0     0     1            0      0      1"));
        Assert.That(lines[3], Is.EqualTo("RFC0434     0     0     0            1      1      2"));
        Assert.That(lines[4], Is.EqualTo("TOTAL       1     1     1            1      1      5"));
        Assert.That(lines[5], Is.EqualTo("wall time 12.5 s (run 20250301-120000-test)"));
    }
}
