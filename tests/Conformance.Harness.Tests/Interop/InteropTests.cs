using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;
using Conformance.Harness.Running;

namespace Conformance.Harness.Tests.Interop;

/// <summary>
/// Interop pairings (Harness/Running/Interop.cs): two agents driven only through their AATH backchannels run
/// connections/1.0 (AATH T001-RFC0160), didexchange/1.1 over out-of-band (T001-RFC0023) and out-of-band reuse
/// (T012-RFC0023) with each other; the report's matrix shows every pairing.
/// </summary>
[TestFixture]
public class InteropTests
{
    private static readonly string[] Protocols = [.. InteropProtocols.All];

    // ------------------------------------------------------------------ reference ↔ reference (two in-process instances)

    [Test]
    public async Task Reference_with_reference_passes_all_three_protocols_and_the_report_shows_the_matrix()
    {
        using var tmp = new TempDir();
        var options = new InteropOptions { Agents = ["reference"], RepoRoot = TestPaths.RepoRoot, ReportsDir = tmp.Path, Timeout = TimeSpan.FromSeconds(15) };
        await using var run = new InteropRun(options);
        var result = await run.RunAsync();

        // One ordered pair (instance 1 invites instance 2): the reference agent is inviter and invitee.
        Assert.That(result.Cases.Select(c => c.Id), Is.EqualTo(Protocols.Select(p => InteropProtocols.CaseId("reference", "reference", p))));
        foreach (var c in result.Cases)
            Assert.That(c.Grade, Is.EqualTo(Grade.PASS), $"{c.Id}: {c.Reason} {c.Expected} / {c.Observed} " +
                string.Join("; ", c.Checks.Where(k => !k.Ok).Select(k => k.Requirement + " → " + k.Observed)));
        Assert.That(result.Pairings, Is.EqualTo(Protocols.Select(p => new Pairing("reference", "reference", p, Grade.PASS, InteropProtocols.CaseId("reference", "reference", p)))));
        Assert.That(result.ExitCode, Is.Zero);

        var conn = result.Cases[0];
        Assert.Multiple(() =>
        {
            Assert.That(conn.Rfc, Is.EqualTo("INTEROP"));
            Assert.That(conn.Aath, Is.EqualTo("T001-RFC0160"));
            Assert.That(conn.Requirement, Does.Contain("\"Acme\" generates a connection invitation"));
            Assert.That(conn.Agent, Is.EqualTo("reference"));
            Assert.That(conn.Peer, Is.EqualTo("reference"));
            // The invitee's request went through the relay on the inviter's invitation endpoint, still encrypted (RFC 0019).
            Assert.That(conn.Wire, Has.Count.GreaterThanOrEqualTo(1));
            Assert.That(conn.Wire[0].Direction, Is.EqualTo("invitee reference -> inviter reference"));
            Assert.That(Conformance.Wire.Envelopes.Rfc0019.LooksLikeEnvelope(conn.Wire[0].Envelope!), Is.True, conn.Wire[0].Envelope);
            Assert.That(conn.Wire[0].Note, Does.Contain("→ 202"));
        });
        // Reuse went through the inviter's public DID (T012 "an existing connection with a public DID"): the receiver
        // said it reused the connection, and no second handshake reached the inviter.
        var reuse = result.Cases[2];
        Assert.That(reuse.Observed, Does.Contain("public DID did:web:"));
        Assert.That(reuse.Observed, Does.Contain("\"reused\":true"));
        Assert.That(reuse.Checks.Where(k => k.Level == Level.SHOULD).Select(k => k.Ok), Is.All.True);

        var report = result.ToReport(run.RunId, options);
        var paths = ReportWriter.Write(report, tmp.Path, new ReportOptions { SpecsRoot = TestPaths.Specs });
        var index = File.ReadAllText(paths.IndexHtml);
        Assert.That(index, Does.Contain("id=\"interop-matrix\""));
        Assert.That(index, Does.Contain("<td data-inviter=\"reference\" data-invitee=\"reference\">"));
        foreach (var p in Protocols)
            Assert.That(index, Does.Contain($"<a class=\"pair grade-PASS\" href=\"cases/{InteropProtocols.CaseId("reference", "reference", p)}.html\""));
        var json = JsonNode.Parse(File.ReadAllText(paths.ResultsJson))!;
        Assert.That(json["pairings"]!.AsArray(), Has.Count.EqualTo(3));
        Assert.That(paths.CasePages, Has.Count.EqualTo(3));
    }

    // ------------------------------------------------------------------ pure parts

    [Test]
    public void Inline_endpoints_of_an_out_of_band_invitation_are_rewritten_and_DID_services_are_left_alone()
    {
        // RFC 0434 §Messages "Invitation": services are inline blocks or DIDs.
        var inv = JsonNode.Parse("""
            {"@type":"https://didcomm.org/out-of-band/1.1/invitation","@id":"i1",
             "services":[{"id":"#inline","type":"did-communication","recipientKeys":["did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"],"serviceEndpoint":"http://127.0.0.1:9001/didcomm"},
                         "did:web:example.org",
                         {"id":"#ws","type":"did-communication","recipientKeys":[],"serviceEndpoint":"ws://127.0.0.1:9002"}]}
            """)!.AsObject();
        Assert.That(InteropRun.InlineEndpoints(inv).Select(u => u.ToString()), Is.EqualTo(new[] { "http://127.0.0.1:9001/didcomm", "ws://127.0.0.1:9002/" }));

        var rewritten = InteropRun.RewriteEndpoints(inv, u => new Uri(u.Scheme == "ws" ? "ws://127.0.0.1:7777/" : "http://127.0.0.1:7777" + u.AbsolutePath));
        Assert.That(rewritten["services"]![0]!["serviceEndpoint"]!.GetValue<string>(), Is.EqualTo("http://127.0.0.1:7777/didcomm"));
        Assert.That(rewritten["services"]![1]!.GetValue<string>(), Is.EqualTo("did:web:example.org"));
        Assert.That(rewritten["services"]![2]!["serviceEndpoint"]!.GetValue<string>(), Is.EqualTo("ws://127.0.0.1:7777/"));
        // Everything else is untouched, and the original is not modified.
        Assert.That(rewritten["services"]![0]!["recipientKeys"]!.ToJsonString(), Is.EqualTo(inv["services"]![0]!["recipientKeys"]!.ToJsonString()));
        Assert.That(inv["services"]![0]!["serviceEndpoint"]!.GetValue<string>(), Is.EqualTo("http://127.0.0.1:9001/didcomm"));
    }

    [Test]
    public void A_connections_invitation_is_relayed_only_when_it_carries_keys_and_an_endpoint()
    {
        // RFC 0160 §0: an invitation has either (recipientKeys, serviceEndpoint, routingKeys) or a public DID.
        var inline = JsonNode.Parse("""{"@type":"https://didcomm.org/connections/1.0/invitation","@id":"c1","label":"A","recipientKeys":["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"],"serviceEndpoint":"https://agent.example/in"}""")!.AsObject();
        var withDid = JsonNode.Parse("""{"@type":"https://didcomm.org/connections/1.0/invitation","@id":"c2","label":"A","did":"did:sov:QmWbsNYhMrjHiqZDTUTEJs"}""")!.AsObject();
        var notAUrl = JsonNode.Parse("""{"@type":"https://didcomm.org/connections/1.0/invitation","@id":"c3","recipientKeys":["k"],"serviceEndpoint":"mailto:x@example.org"}""")!.AsObject();
        Assert.That(InteropRun.InlineEndpoints(inline).Select(u => u.ToString()), Is.EqualTo(new[] { "https://agent.example/in" }));
        Assert.That(InteropRun.InlineEndpoints(withDid), Is.Empty);
        Assert.That(InteropRun.InlineEndpoints(notAUrl), Is.Empty);
        Assert.That(InteropRun.RewriteEndpoints(inline, _ => new Uri("http://127.0.0.1:1/in"))["serviceEndpoint"]!.GetValue<string>(), Is.EqualTo("http://127.0.0.1:1/in"));
    }

    [Test]
    public void The_matrix_has_inviters_as_rows_and_invitees_as_columns()
    {
        Pairing P(string a, string b, string p, Grade g) => new(a, b, p, g);
        var text = InteropMatrix.Render([
            P("reference", "credo", InteropProtocols.Connections, Grade.PASS),
            P("reference", "credo", InteropProtocols.Reuse, Grade.UNSUPPORTED),
            P("credo", "reference", InteropProtocols.Connections, Grade.FAIL),
        ]);
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.That(lines, Has.Length.EqualTo(3), text);
        Assert.That(lines[0], Does.StartWith("inviter \\ invitee"));
        // Rows and columns share one agent order (first appearance in either role), as in the report's matrix.
        Assert.That(lines[0].IndexOf("reference", StringComparison.Ordinal), Is.LessThan(lines[0].IndexOf("credo", StringComparison.Ordinal)));
        Assert.That(lines[1], Does.StartWith("reference"));
        Assert.That(lines[1], Does.Contain("—  ").And.EndWith("conn PASS  reuse UNSUPPORTED"), "reference did not invite reference");
        Assert.That(lines[2], Does.StartWith("credo"));
        Assert.That(lines[2], Does.Contain("conn FAIL").And.EndWith("—"), "credo did not invite credo");
        // Cells line up under their column heading.
        Assert.That(lines[1].IndexOf("conn PASS", StringComparison.Ordinal), Is.EqualTo(lines[0].IndexOf("credo", StringComparison.Ordinal)));
        Assert.That(lines.All(l => l == l.TrimEnd()), Is.True, "no trailing spaces");
    }

    [Test]
    public void Ordered_pairs_include_each_agent_with_itself()
    {
        var o = new InteropOptions { Agents = ["reference", "credo"] };
        Assert.That(o.OrderedPairs(), Is.EqualTo(new[] { ("reference", "reference"), ("reference", "credo"), ("credo", "reference"), ("credo", "credo") }));
        Assert.That(InteropProtocols.CaseId("reference", "credo", "connections/1.0"), Is.EqualTo("INTEROP-reference-credo-connections-1.0"));
    }

    [Test]
    public async Task An_agent_that_cannot_start_grades_its_pairings_ERROR_with_the_reason()
    {
        using var tmp = new TempDir();
        var options = new InteropOptions { Agents = ["no-such-agent"], RepoRoot = TestPaths.RepoRoot, ReportsDir = tmp.Path };
        await using var run = new InteropRun(options);
        var result = await run.RunAsync();
        Assert.That(result.Cases, Has.Count.EqualTo(3));
        Assert.That(result.Cases.Select(c => c.Grade), Is.All.EqualTo(Grade.ERROR));
        Assert.That(result.Cases[0].Reason, Does.Contain("no-such-agent"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
    }
}

/// <summary>
/// Credo 0.6.3 (agents/credo, a real node process; installed by npm on first use) paired with the reference agent in
/// both directions and with itself. Observed on 0.6.3: connections/1.0, didexchange and out-of-band reuse PASS in
/// every pairing. Reuse goes through an inline invitation naming the same services as the first one (the backchannel
/// extension same_services_as, not AATH), because Credo has no public DID here and, as invitee, cannot resolve the
/// reference agent's loopback did:web (Credo resolves did:web over https only, as the did:web spec says; the reference
/// serves it over http on loopback): the invitee recognises the inviter and answers with handshake-reuse.
/// </summary>
[TestFixture, Category("Credo"), NonParallelizable]
public class CredoInteropTests
{
    [Test]
    public async Task Reference_and_credo_interoperate_in_both_directions_and_every_pairing_is_graded()
    {
        using var tmp = new TempDir();
        var options = new InteropOptions
        {
            Agents = ["reference", "credo"], RepoRoot = TestPaths.RepoRoot, ReportsDir = tmp.Path,
            Pairs = [("reference", "credo"), ("credo", "reference"), ("credo", "credo")],
        };
        await using var run = new InteropRun(options);
        var result = await run.RunAsync(c => TestContext.Progress.WriteLine($"{c.Id}: {c.Grade} {c.Reason}"));
        TestContext.Progress.WriteLine(InteropMatrix.Render(result.Pairings));

        Assert.That(result.Cases, Has.Count.EqualTo(9));
        Assert.That(result.Cases.Where(c => c.Grade == Grade.ERROR).Select(c => $"{c.Id}: {c.Reason}"), Is.Empty, "no ERROR from the harness");
        string Why(CaseResult c) => $"{c.Id}: {c.Grade} {c.Reason} {c.Expected} / {c.Observed}";
        foreach (var (a, b) in options.Pairs)
            foreach (var p in new[] { InteropProtocols.Connections, InteropProtocols.DidExchange })
            {
                var c = result.Cases.Single(x => x.Id == InteropProtocols.CaseId(a, b, p));
                Assert.That(c.Grade, Is.EqualTo(Grade.PASS), Why(c));
                // The invitee's request crossed the relay in front of the inviter and was accepted.
                Assert.That(c.Wire.Any(w => w.Direction == $"invitee {b} -> inviter {a}" && w.Envelope != null), Is.True, Why(c));
            }
        foreach (var c in result.Cases.Where(c => c.Id.EndsWith(InteropProtocols.Reuse, StringComparison.Ordinal)))
        {
            // The invitee reused the connection it has (handshake-reuse), recognising the second invitation by the
            // same services as the first (same_services_as); no second connection, no second request.
            Assert.That(c.Grade, Is.EqualTo(Grade.PASS), Why(c));
            Assert.That(c.Observed, Does.Contain(InteropProtocols.SameServicesAs).And.Contain("\"reused\":true"), Why(c));
            Assert.That(c.Checks.Where(k => k.Level == Level.SHOULD).Select(k => k.Ok), Is.All.True, Why(c));
        }

        var paths = ReportWriter.Write(result.ToReport(run.RunId, options), tmp.Path);
        var index = File.ReadAllText(paths.IndexHtml);
        Assert.That(index, Does.Contain("<td data-inviter=\"reference\" data-invitee=\"credo\">"));
        Assert.That(index, Does.Contain("<td data-inviter=\"credo\" data-invitee=\"reference\">"));
        Assert.That(index, Does.Contain("<td data-inviter=\"credo\" data-invitee=\"credo\">"));
        Assert.That(result.AgentInfo["credo"], Does.Contain("credo-ts-0.6.3"));
    }
}
