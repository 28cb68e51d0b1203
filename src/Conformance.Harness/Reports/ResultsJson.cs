// reports/<run-id>/results.json: the machine-readable record of a run. Per case, every CaseResult field under its
// snake_case name (id, rfc, title, requirement, level, section, description, aath, agent, peer, grade, expected,
// observed, reason, duration_ms, checks, fixture, attachments, wire[seq, at_ms, direction, type, transport, endpoint,
// envelope, plaintext, note]); null fields are written as null so every case has the same shape. Top level: run
// metadata, "summary" (total and counts by grade, and by RFC × grade), "pairings" and "cases".
// Private keys never appear: values that look like one are redacted (see PrivateKeyGuard) and counted in
// "redactions".
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class ResultsJson
{
    public const string Format = "conformance-results/1";

    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The results.json document for a run (cases redacted).</summary>
    public static JsonObject Build(RunReport report)
    {
        var redactions = 0;
        var cases = new JsonArray();
        foreach (var c in report.Cases)
        {
            var node = CaseNode(c, out var n);
            redactions += n;
            cases.Add(node);
        }
        var byGrade = report.CountByGrade();
        var summary = new JsonObject { ["total"] = report.Cases.Count };
        foreach (var (g, n) in byGrade) summary[g.ToString()] = n;
        var byRfc = new JsonObject();
        foreach (var (rfc, counts) in report.CountByRfc())
            byRfc[rfc] = new JsonObject(counts.Select(kv => KeyValuePair.Create(kv.Key.ToString(), (JsonNode?)kv.Value)));
        summary["by_rfc"] = byRfc;

        return new JsonObject
        {
            ["format"] = Format,
            ["run_id"] = report.RunId,
            ["started"] = report.Started.ToString("O"),
            ["finished"] = report.Finished.ToString("O"),
            ["wall_ms"] = (long)report.WallTime.TotalMilliseconds,
            ["agents"] = new JsonArray(report.Agents.Select(a => (JsonNode?)a).ToArray()),
            ["runtime"] = report.Runtime,
            ["settings"] = new JsonObject(report.Settings.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)PrivateKeyGuard.RedactValue(kv.Key, kv.Value)))),
            ["summary"] = summary,
            ["redactions"] = redactions,
            ["pairings"] = JsonSerializer.SerializeToNode(report.Pairings, Options),
            ["cases"] = cases,
        };
    }

    public static string Render(RunReport report) => Build(report).ToJsonString(Options) + "\n";

    /// <summary>One case as JSON, with anything that looks like a private key redacted (<paramref name="redactions"/> counts them).</summary>
    public static JsonObject CaseNode(CaseResult c, out int redactions)
    {
        var node = JsonSerializer.SerializeToNode(c, Options)!.AsObject();
        redactions = PrivateKeyGuard.Redact(node);
        return node;
    }

    /// <summary>A redacted copy of a case result (what every report is rendered from).</summary>
    public static CaseResult Sanitized(CaseResult c) =>
        CaseNode(c, out _).Deserialize<CaseResult>(Options) ?? throw new InvalidOperationException("case result did not round-trip");
}
