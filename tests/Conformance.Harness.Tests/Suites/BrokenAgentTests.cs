using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Misbehaviour;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Suites;

/// <summary>
/// Proof that the checks can fail: the same cases that PASS against the reference agent are run against deliberately
/// broken test doubles of it (the reference agent with a misbehaviour installed), and must FAIL — or WARN, where the
/// requirement is a SHOULD — with a clear expected/observed.
/// </summary>
public class BrokenAgentTests
{
    private static readonly IReadOnlyList<CaseInfo> Catalog = CaseCatalog.Discover(SuitesAssembly.Assembly);

    private static async Task<CaseResult> Run(string caseId, Action<ReferenceAgent>? sabotage)
    {
        var info = Catalog.Single(c => c.Id == caseId);
        await using var driver = new ReferenceDriver("broken-double", sabotage);
        return await CaseRunner.RunAsync(info, driver, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(2) });
    }

    private static void Always(ReferenceAgent a, string message, string what, Func<JsonObject, JsonObject> mutate) =>
        a.Misbehaviour.Add(new MisbehaviourRule(message, what) { Mutate = mutate, Once = false });

    [TestCase("RFC0160-RESPONSE-002")]
    [TestCase("RFC0160-ERRORS-001")]
    public async Task The_reference_agent_passes(string caseId)
    {
        var r = await Run(caseId, null);
        Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{r.Expected} / {r.Observed} / {r.Reason}");
    }

    [Test]
    public async Task An_agent_that_drops_the_thread_of_its_response_fails_RFC0160_RESPONSE_002()
    {
        var r = await Run("RFC0160-RESPONSE-002", a => Always(a, "response", "~thread dropped", m => { m.Remove("~thread"); return m; }));
        // The strict reference invitee already refuses the response, so the case fails at that step, with the
        // invitee's own problem report as the evidence.
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Observed, Does.Contain("response_not_accepted").And.Contain("~thread.thid"));
    }

    [Test]
    public async Task An_agent_that_signs_with_the_wrong_key_fails_RFC0160_RESPONSE_005()
    {
        var r = await Run("RFC0160-RESPONSE-005", a =>
            a.Misbehaviour.Add(new MisbehaviourRule("response", "connection~sig signed by a key that is not the invitation key") { SignWith = a.Wallet.CreateKey(), Once = false }));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Observed, Does.Contain("response_not_accepted"), "the reference invitee's report is the evidence");
        Assert.That(r.Wire.Any(w => w.Type?.EndsWith("connections/1.0/problem_report") == true), Is.True, "the report is in the wire log");
    }

    [Test]
    public async Task An_agent_whose_problem_report_loses_its_thread_fails_RFC0160_ERRORS_001()
    {
        var r = await Run("RFC0160-ERRORS-001", a => Always(a, "problem_report", "~thread dropped from problem reports", m => { m.Remove("~thread"); return m; }));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.Contain("~thread"));
        Assert.That(r.Observed, Is.EqualTo("no ~thread.thid"));
    }

    [Test]
    public async Task An_agent_that_reports_the_wrong_problem_code_fails_RFC0160_ERRORS_001()
    {
        var r = await Run("RFC0160-ERRORS-001", a => Always(a, "problem_report", "problem code replaced", m =>
        {
            m["problem-code"] = "request_processing_error";
            m.Remove("problem_code");
            if (m["description"] is JsonObject d) d["code"] = "request_processing_error";
            return m;
        }));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Expected, Is.EqualTo("request_not_accepted"));
        Assert.That(r.Observed, Is.EqualTo("request_processing_error"));
    }

    [Test]
    public async Task An_agent_that_answers_pings_with_the_wrong_thread_fails_RFC0160_ACK_004()
    {
        var r = await Run("RFC0160-ACK-004", a => Always(a, "ping_response", "ping_response threaded elsewhere", m =>
        {
            m["~thread"] = new JsonObject { ["thid"] = "not-the-ping" };
            return m;
        }));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL), $"{r.Expected} / {r.Observed}");
    }

    [Test]
    public async Task An_agent_that_never_acknowledges_a_response_gets_a_warning_for_RFC0160_ACK_001()
    {
        // Drop the acknowledging trust ping: the SHOULD is not met, so the grade is WARN, not FAIL.
        var r = await Run("RFC0160-ACK-001", a => Always(a, "ping", "acknowledging ping replaced by a message to nobody", m =>
        {
            m["@type"] = "https://didcomm.org/unknown-protocol/1.0/ignored";
            return m;
        }));
        Assert.That(r.Grade, Is.AnyOf(Grade.WARN, Grade.PASS), "a SHOULD can never FAIL a case");
        Assert.That(r.Checks.All(k => k.Level == Level.SHOULD || k.Ok), Is.True);
    }
}
