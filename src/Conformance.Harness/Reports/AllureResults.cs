// reports/<run-id>/allure-results/: the Allure 2 result format (https://allurereport.org/docs/how-it-works-test-result-file/),
// so `allure generate reports/<run-id>/allure-results` builds an Allure report with history across runs.
//
// One <uuid>-result.json per case, one <uuid>-attachment.json (the wire log, JSON) per case with messages, plus
// environment.properties (agents, runtime, settings) and categories.json.
//   uuid         deterministic: a name-based UUID (SHA-1, RFC 4122 §4.3 version 5) of "<run-id>/<case-id>" (the
//                attachment's of "<run-id>/<case-id>/wire"), so the same run writes the same files
//   testCaseId   the case id; historyId "<agent>/<case-id>" (history per agent across runs)
//   status       PASS → passed, WARN → passed (+ label tag=warn and the unmet SHOULD in statusDetails.message:
//                Allure has no warning status, and "broken" would mean the harness failed), FAIL → failed,
//                ERROR → broken, UNSUPPORTED → skipped (reason in statusDetails.message)
//   labels       suite = RFC, subSuite = the suite title, parentSuite = agent, severity (MUST critical, SHOULD normal,
//                MAY minor), tag = level, tag = warn for WARN, aath = the AATH counterpart, framework, language
//   links        the spec section, as a path relative to allure-results/ (ReportOptions.SpecsRoot, else the
//                standard layout: ../../../shared/specs/<section>)
//   start/stop   epoch ms; CaseResult carries durations only, so cases are laid out one after another from the run's
//                start (they run sequentially)
//   steps        one per check (passed/failed, expected/observed in statusDetails)
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class AllureResults
{
    /// <summary>Namespace of the case uuids (a fixed random UUID).</summary>
    public static readonly Guid Namespace = new("6f0c3c1e-4f1a-4d6b-9a55-1c0b7d2e9a10");

    public static string Status(Grade g) => g switch
    {
        Grade.PASS or Grade.WARN => "passed",
        Grade.FAIL => "failed",
        Grade.ERROR => "broken",
        _ => "skipped",
    };

    /// <summary>RFC 4122 version-5 (SHA-1, name-based) UUID of <paramref name="name"/> in <see cref="Namespace"/>.</summary>
    public static string Uuid(string name)
    {
        var ns = Namespace.ToByteArray(bigEndian: true);
        var input = ns.Concat(Encoding.UTF8.GetBytes(name)).ToArray();
        var hash = SHA1.HashData(input);
        var b = hash[..16];
        b[6] = (byte)((b[6] & 0x0f) | 0x50);
        b[8] = (byte)((b[8] & 0x3f) | 0x80);
        return new Guid(b, bigEndian: true).ToString();
    }

    /// <summary>The files of allure-results: name → content.</summary>
    /// <param name="sectionUrl">Maps a case's section (relative to shared/specs) to the link Allure shows.</param>
    public static List<(string Name, string Content)> Build(RunReport run, Func<string, string> sectionUrl)
    {
        var files = new List<(string, string)>();
        var at = run.Started.ToUnixTimeMilliseconds();
        foreach (var c in run.Cases)
        {
            var uuid = Uuid($"{run.RunId}/{c.Id}");
            var start = at;
            var stop = at + c.DurationMs;
            at = stop;

            var labels = new JsonArray
            {
                Label("suite", c.Rfc),
                Label("subSuite", c.Title),
                Label("parentSuite", c.Agent),
                Label("severity", c.Level switch { Level.MUST => "critical", Level.SHOULD => "normal", _ => "minor" }),
                Label("tag", c.Level.ToString()),
                Label("framework", "conformance"),
                Label("language", "csharp"),
            };
            if (c.Grade == Grade.WARN) labels.Add(Label("tag", "warn"));
            if (c.Aath != null) labels.Add(Label("aath", c.Aath));
            if (c.Counterpart != null) labels.Add(Label("counterpart", c.Counterpart));

            var steps = new JsonArray();
            foreach (var k in c.Checks)
                steps.Add(new JsonObject
                {
                    ["name"] = $"[{k.Level}] {k.Requirement}",
                    ["status"] = k.Ok ? "passed" : k.Level == Level.MUST ? "failed" : "passed",
                    ["stage"] = "finished",
                    ["statusDetails"] = new JsonObject { ["message"] = $"expected: {k.Expected ?? "—"}\nobserved: {k.Observed ?? "—"}" },
                    ["start"] = start,
                    ["stop"] = stop,
                });

            var attachments = new JsonArray();
            if (c.Wire.Count > 0)
            {
                var source = Uuid($"{run.RunId}/{c.Id}/wire") + "-attachment.json";
                files.Add((source, System.Text.Json.JsonSerializer.Serialize(c.Wire, ResultsJson.Options) + "\n"));
                attachments.Add(new JsonObject { ["name"] = "wire log", ["source"] = source, ["type"] = "application/json" });
            }

            var result = new JsonObject
            {
                ["uuid"] = uuid,
                ["historyId"] = $"{c.Agent}/{c.Id}",
                ["testCaseId"] = c.Id,
                ["fullName"] = $"{c.Rfc}.{c.Id}",
                ["name"] = string.IsNullOrEmpty(c.Title) ? c.Id : $"{c.Id} {c.Title}",
                ["description"] = $"“{c.Requirement}”" + (c.Description != null ? "\n\n" + c.Description : ""),
                ["status"] = Status(c.Grade),
                ["statusDetails"] = StatusDetails(c),
                ["stage"] = "finished",
                ["start"] = start,
                ["stop"] = stop,
                ["labels"] = labels,
                ["links"] = new JsonArray { new JsonObject { ["name"] = c.Section, ["url"] = sectionUrl(c.Section), ["type"] = "link" } },
                ["parameters"] = new JsonArray
                {
                    new JsonObject { ["name"] = "agent", ["value"] = c.Agent },
                    new JsonObject { ["name"] = "peer", ["value"] = c.Peer },
                },
                ["steps"] = steps,
                ["attachments"] = attachments,
            };
            files.Add(($"{uuid}-result.json", result.ToJsonString(ResultsJson.Options) + "\n"));
        }

        var env = new StringBuilder();
        env.Append("run_id=").Append(Prop(run.RunId)).Append('\n');
        env.Append("agents=").Append(Prop(string.Join(", ", run.Agents))).Append('\n');
        env.Append("runtime=").Append(Prop(run.Runtime)).Append('\n');
        foreach (var (k, v) in run.Settings) env.Append(Prop(k).Replace("=", "\\=").Replace(":", "\\:")).Append('=').Append(Prop(Fixtures.PrivateKeyGuard.RedactValue(k, v))).Append('\n');
        files.Add(("environment.properties", env.ToString()));

        var categories = new JsonArray
        {
            new JsonObject { ["name"] = "MUST broken (FAIL)", ["matchedStatuses"] = new JsonArray("failed") },
            new JsonObject { ["name"] = "Harness error (ERROR)", ["matchedStatuses"] = new JsonArray("broken") },
            new JsonObject { ["name"] = "Not supported by the agent (UNSUPPORTED)", ["matchedStatuses"] = new JsonArray("skipped") },
        };
        files.Add(("categories.json", categories.ToJsonString(ResultsJson.Options) + "\n"));
        return files;
    }

    private static JsonObject StatusDetails(CaseResult c)
    {
        var d = new JsonObject { ["message"] = Message(c) };
        var trace = string.Join("\n", c.Checks.Where(k => !k.Ok).Select(k => $"[{k.Level}] {k.Requirement}\n  expected: {k.Expected ?? "—"}\n  observed: {k.Observed ?? "—"}"));
        if (trace.Length > 0) d["trace"] = trace;
        return d;
    }

    private static string Message(CaseResult c) => c.Grade switch
    {
        Grade.PASS => "PASS",
        Grade.UNSUPPORTED or Grade.ERROR => $"{c.Grade}: {c.Reason ?? "—"}",
        _ => $"{c.Grade}: expected: {c.Expected ?? "—"}; observed: {c.Observed ?? "—"}",
    };

    private static JsonObject Label(string name, string value) => new() { ["name"] = name, ["value"] = value };

    // Java .properties escaping for the few characters that matter on one line.
    private static string Prop(string s) => s.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r");
}
