using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Tests.Fixtures;

public class FixtureStoreTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private const string Agent = "acapy";
    private const string Case = "RFC0023-REQUEST-001";

    private static string[] Files(string dir) =>
        Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Test]
    public void Golden_files_are_named_by_position_direction_and_message_and_have_stable_bytes()
    {
        var files = GoldenFile.Render(Transcripts.DidExchangeFlow("a", 40001, T0));
        Assert.That(files.Select(f => f.Name), Is.EqualTo(new[]
        {
            "01-aut-to-peer-invitation.json", "02-peer-to-aut-request.json", "03-aut-to-peer-response.json", "04-peer-to-aut-complete.json",
        }));

        var text = GoldenFile.Serialize(new JsonObject { ["z"] = "<id-1>", ["a"] = new JsonObject { ["é"] = 1 }, ["m"] = new JsonArray(1, 2) });
        Assert.That(text, Is.EqualTo("{\n  \"z\": \"<id-1>\",\n  \"a\": {\n    \"é\": 1\n  },\n  \"m\": [\n    1,\n    2\n  ]\n}\n"),
            "member order kept, 2-space indent, LF, trailing newline, no \\u003C escapes");
        Assert.That(files[0].Bytes[..3], Is.Not.EqualTo(new byte[] { 0xEF, 0xBB, 0xBF }), "no BOM");
    }

    [Test]
    public void Message_names_come_from_the_type()
    {
        Assert.That(GoldenFile.MessageName(new JsonObject { ["@type"] = "https://didcomm.org/report-problem/1.0/problem-report" }), Is.EqualTo("problem-report"));
        Assert.That(GoldenFile.MessageName(new JsonObject { ["@type"] = "did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/trust_ping/1.0/ping_response" }), Is.EqualTo("ping_response"));
        Assert.That(GoldenFile.MessageName(new JsonObject { ["type"] = "https://didcomm.org/coordinate-mediation/3.0/mediate-grant" }), Is.EqualTo("mediate-grant"));
        Assert.That(GoldenFile.MessageName(new JsonObject { ["@type"] = "../../evil name" }), Is.EqualTo("evil-name"));
        Assert.That(GoldenFile.MessageName(new JsonObject { ["@id"] = "1" }), Is.EqualTo("untyped"));
        Assert.That(GoldenFile.MessageName(new JsonObject { ["@type"] = 5 }), Is.EqualTo("untyped"));
    }

    [Test]
    public void New_then_accept_then_match_then_changed_then_accept()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path);
        var dir = store.CaseDirectory(Agent, Case);

        // No baseline: new, everything written as .received.json.
        var run1 = store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-1", 40001, T0));
        Assert.That(run1.Outcome, Is.EqualTo(FixtureOutcome.New));
        Assert.That(run1.Status, Is.EqualTo("new"));
        Assert.That(Files(dir), Is.EqualTo(new[]
        {
            "01-aut-to-peer-invitation.received.json", "02-peer-to-aut-request.received.json",
            "03-aut-to-peer-response.received.json", "04-peer-to-aut-complete.received.json",
        }));
        Assert.That(run1.Diff, Does.Contain("no baseline"));

        // Accept: baselines written, .received gone.
        var accepted = store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-1", 40001, T0), accept: true);
        Assert.That(accepted.Status, Is.EqualTo("accepted"));
        Assert.That(Files(dir), Is.EqualTo(new[]
        {
            "01-aut-to-peer-invitation.json", "02-peer-to-aut-request.json", "03-aut-to-peer-response.json", "04-peer-to-aut-complete.json",
        }));
        var baselineBytes = File.ReadAllBytes(Path.Combine(dir, "02-peer-to-aut-request.json"));
        Assert.That(Encoding.UTF8.GetString(baselineBytes), Does.Not.Contain("\r"));

        // Another run of a non-deterministic agent: other ids, keys, ports, times — still a match.
        var run2 = store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-2", 52000, T0.AddDays(1)));
        Assert.That(run2.Status, Is.EqualTo("match"));
        Assert.That(run2.Diff, Is.Null);
        Assert.That(Files(dir).Where(f => f.Contains(".received.")), Is.Empty);

        // A real change: .received written beside the changed file only, diff shows the line.
        var run3 = store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-3", 52000, T0, label: "Robert"));
        Assert.That(run3.Status, Is.EqualTo("changed"));
        Assert.That(Files(dir), Does.Contain("02-peer-to-aut-request.received.json"));
        Assert.That(Files(dir).Count(f => f.Contains(".received.")), Is.EqualTo(1));
        Assert.That(run3.Diff, Does.Contain("-  \"label\": \"Bob\","));
        Assert.That(run3.Diff, Does.Contain("+  \"label\": \"Robert\","));
        Assert.That(run3.Diff, Does.Contain("--- 02-peer-to-aut-request.json (baseline)"));
        Assert.That(run3.Diff, Does.Contain("+++ 02-peer-to-aut-request.received.json (received)"));
        Assert.That(run3.Diff, Does.Match(@"@@ -\d+,\d+ \+\d+,\d+ @@"));
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "02-peer-to-aut-request.json")), Is.EqualTo(baselineBytes), "verify never touches the baseline");

        // The next matching run removes the stale .received file.
        Assert.That(store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-4", 52000, T0)).Status, Is.EqualTo("match"));
        Assert.That(Files(dir).Where(f => f.Contains(".received.")), Is.Empty);

        // Accepting the change rewrites that baseline.
        Assert.That(store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-3", 52000, T0, label: "Robert"), accept: true).Status, Is.EqualTo("accepted"));
        Assert.That(File.ReadAllText(Path.Combine(dir, "02-peer-to-aut-request.json")), Does.Contain("\"label\": \"Robert\""));
        Assert.That(store.Verify(Agent, Case, Transcripts.DidExchangeFlow("run-5", 1234, T0, label: "Robert")).Status, Is.EqualTo("match"));
    }

    [Test]
    public void Fewer_messages_is_a_change_and_accept_deletes_the_files_of_messages_no_longer_sent()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path);
        var dir = store.CaseDirectory(Agent, Case);
        store.Verify(Agent, Case, Transcripts.DidExchangeFlow("a", 40001, T0), accept: true);

        var shorter = Transcripts.DidExchangeFlow("b", 40001, T0).Take(3).ToList();
        var v = store.Verify(Agent, Case, shorter);
        Assert.That(v.Status, Is.EqualTo("changed"));
        Assert.That(v.Diff, Does.Contain("04-peer-to-aut-complete.json (baseline)"));
        Assert.That(v.Diff, Does.Contain("/dev/null (message no longer sent)"));
        Assert.That(v.Diff, Does.Contain("-  \"@type\": \"https://didcomm.org/didexchange/1.1/complete\","));

        store.Verify(Agent, Case, shorter, accept: true);
        Assert.That(Files(dir), Is.EqualTo(new[] { "01-aut-to-peer-invitation.json", "02-peer-to-aut-request.json", "03-aut-to-peer-response.json" }));
    }

    [Test]
    public void A_message_that_changed_its_type_is_diffed_against_the_baseline_at_its_position()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path);
        store.Verify(Agent, Case, Transcripts.DidExchangeFlow("a", 40001, T0), accept: true);

        var t = Transcripts.DidExchangeFlow("a", 40001, T0);
        t[2] = t[2] with
        {
            Plaintext = new JsonObject
            {
                ["@type"] = "https://didcomm.org/didexchange/1.1/problem_report",
                ["@id"] = Guid.NewGuid().ToString(),
                ["~thread"] = t[2].Plaintext["~thread"]!.DeepClone(),
                ["description"] = new JsonObject { ["code"] = "request_not_accepted" },
            },
        };
        var v = store.Verify(Agent, Case, t);
        Assert.That(v.Status, Is.EqualTo("changed"));
        Assert.That(v.Diff, Does.Contain("--- 03-aut-to-peer-response.json (baseline)"));
        Assert.That(v.Diff, Does.Contain("+++ 03-aut-to-peer-problem_report.received.json (received)"));
        Assert.That(v.Diff, Does.Contain("+  \"@type\": \"https://didcomm.org/didexchange/1.1/problem_report\","));
    }

    [Test]
    public void Verify_takes_a_case_results_wire_log()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path);
        var t = Transcripts.DidExchangeFlow("a", 40001, T0);
        var result = new CaseResult
        {
            Id = Case, Agent = Agent,
            Wire = t.Select((m, i) => new WireRecord(i + 1, i * 10, m.Direction == FixtureDirection.AutToPeer ? "aut -> Bob" : "Bob -> aut",
                null, "http", null, "{}", m.Plaintext, null)).ToList(),
        };
        result.Wire.Add(new WireRecord(99, 100, "aut -> Bob", null, "http", null, "garbage", null, "rejected: not an envelope"));
        var v = store.Verify(result);
        Assert.That(v.Status, Is.EqualTo("new"));
        Assert.That(Files(store.CaseDirectory(Agent, Case)), Has.Length.EqualTo(4), "messages without a plaintext are not part of the transcript");
        Assert.That(Files(store.CaseDirectory(Agent, Case))[0], Is.EqualTo("01-aut-to-peer-invitation.received.json"));
    }

    [Test]
    public void Keep_raw_policy_pins_exact_bytes()
    {
        using var tmp = new TempDir();
        var store = new FixtureStore(tmp.Path, ScrubPolicy.KeepRaw);
        store.Verify("reference", Case, Transcripts.DidExchangeFlow("seed", 40001, T0), accept: true);
        Assert.That(store.Verify("reference", Case, Transcripts.DidExchangeFlow("seed", 40001, T0)).Status, Is.EqualTo("match"));
        Assert.That(store.Verify("reference", Case, Transcripts.DidExchangeFlow("other", 40001, T0)).Status, Is.EqualTo("changed"));
    }

    [Test]
    public void Case_and_agent_names_cannot_escape_the_fixtures_folder()
    {
        var store = new FixtureStore("/tmp/fx");
        Assert.That(store.CaseDirectory("../..", "../../etc"), Does.StartWith("/tmp/fx/"));
        Assert.That(Path.GetFullPath(store.CaseDirectory("..", "..")), Does.StartWith("/tmp/fx/"));
    }
}
