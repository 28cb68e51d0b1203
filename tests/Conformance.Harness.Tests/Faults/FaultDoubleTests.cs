using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Faults;

/// <summary>
/// Every FAULTS case PASSes against the reference agent, and test doubles — the reference agent with one robustness
/// property removed — make the matching cases FAIL (or WARN where the requirement is a SHOULD) with a clear
/// expected/observed:
///   no duplicate detection (MisbehaviourPlan.TreatRepeatedRequestsAsNew): two connections from one duplicated
///     request on a multi-use invitation (FAIL), a problem report for a duplicate on a single-use one (WARN), a new
///     connection from a replayed request (FAIL), a resent request refused instead of answered (WARN);
///   silent loss (MisbehaviourPlan.SwallowDeliveryFailures): a refused / 500 / 503 delivery reported as sent and
///     never retried (FAIL);
///   impatience (a 1 s outbound timeout): a 3 s stall counted as a failure (WARN);
///   unthreaded answers (ping_response without ~thread): reordered pings not answered on their threads (FAIL);
///   dead sockets (MisbehaviourPlan.ReuseDeadSockets): after a WebSocket is cut, every later message fails (FAIL).
/// </summary>
public class FaultDoubleTests
{
    private static readonly IReadOnlyList<CaseInfo> Catalog = CaseCatalog.Discover(SuitesAssembly.Assembly);

    public static IEnumerable<string> FaultCases => Catalog.Where(c => c.Rfc == "FAULTS").Select(c => c.Id);

    private static async Task<CaseResult> Run(string caseId, IAgentDriver driver)
    {
        var info = Catalog.Single(c => c.Id == caseId);
        await using var _ = driver;
        var r = await CaseRunner.RunAsync(info, driver, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(3) });
        TestContext.Progress.WriteLine($"{caseId} vs {driver.Name}: {r.Grade} — expected: {r.Expected} — observed: {r.Observed} {r.Reason}");
        return r;
    }

    private static ReferenceDriver Double(string name, Action<ReferenceAgent> sabotage) => new(name, sabotage);

    [Test]
    public void Every_fault_mode_has_a_case()
    {
        Assert.That(FaultCases, Is.SupersetOf(new[]
        {
            "FAULTS-DEAD-001", "FAULTS-HTTP503-001", "FAULTS-HTTP500-001", "FAULTS-SLOW-001", "FAULTS-DROP-001",
            "FAULTS-DUPLICATE-001", "FAULTS-DUPLICATE-002", "FAULTS-REORDER-001", "FAULTS-REPLAY-001", "FAULTS-WSCUT-001",
        }));
    }

    [TestCaseSource(nameof(FaultCases))]
    public async Task The_reference_agent_passes(string caseId)
    {
        var r = await Run(caseId, new ReferenceDriver());
        Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{r.Expected} / {r.Observed} / {r.Reason}");
        Assert.That(r.Wire.Any(w => w.Note?.StartsWith('#') == true), Is.True, "the relay's actions are in the wire log");
    }

    // ------------------------------------------------------------------ no duplicate detection

    private static ReferenceDriver NoDuplicateDetection() => Double("no-duplicate-detection", a => a.Misbehaviour.TreatRepeatedRequestsAsNew = true);

    [Test]
    public async Task An_agent_that_makes_two_connections_from_a_duplicated_request_fails_FAULTS_DUPLICATE_002()
    {
        var r = await Run("FAULTS-DUPLICATE-002", NoDuplicateDetection());
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Expected, Is.EqualTo("1 connection"));
        Assert.That(r.Observed, Does.StartWith("2 connections:"));
        Assert.That(r.Wire.Count(w => w.Note?.Contains("forwarded again") == true), Is.EqualTo(1), "the duplicate is in the wire log");
    }

    [Test]
    public async Task An_agent_that_rejects_a_duplicate_as_a_second_use_warns_FAULTS_DUPLICATE_001()
    {
        var r = await Run("FAULTS-DUPLICATE-001", NoDuplicateDetection());
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN), "one connection still (single-use), but the duplicate drew a problem report");
        Assert.That(r.Observed, Does.Contain("request_not_accepted"));
    }

    [Test]
    public async Task An_agent_that_makes_a_connection_from_a_replay_fails_FAULTS_REPLAY_001()
    {
        var r = await Run("FAULTS-REPLAY-001", NoDuplicateDetection());
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.Contain("no new connection"));
        Assert.That(r.Observed, Does.StartWith("new connection(s) "));
    }

    [Test]
    public async Task An_agent_that_refuses_a_resent_request_warns_FAULTS_DROP_001()
    {
        var r = await Run("FAULTS-DROP-001", NoDuplicateDetection());
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN));
        Assert.That(r.Expected, Is.EqualTo("a second response"));
        Assert.That(r.Observed, Does.Contain("problem_report"));
    }

    // ------------------------------------------------------------------ silent loss

    [TestCase("FAULTS-DEAD-001")]
    [TestCase("FAULTS-HTTP503-001")]
    [TestCase("FAULTS-HTTP500-001")]
    public async Task An_agent_that_hides_a_failed_delivery_and_never_retries_fails(string caseId)
    {
        var r = await Run(caseId, Double("silent-loss", a => a.Misbehaviour.SwallowDeliveryFailures = true));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.Contain("reported success, so it must deliver the request itself"));
        Assert.That(r.Observed, Does.StartWith("nothing arrived (agent state 'request'); relay: "));
    }

    // ------------------------------------------------------------------ impatience

    [Test]
    public async Task An_agent_that_gives_up_after_one_second_warns_FAULTS_SLOW_001()
    {
        var r = await Run("FAULTS-SLOW-001", new ReferenceDriver("impatient", configureOptions: o => o.OutboundTimeout = TimeSpan.FromSeconds(1)));
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN), "waiting out a slow endpoint is a SHOULD");
        Assert.That(r.Expected, Is.EqualTo("accept-invitation succeeds"));
        Assert.That(r.Observed, Does.Contain("accept-invitation"), "the backchannel's error is the evidence");
    }

    // ------------------------------------------------------------------ dead sockets

    [Test]
    public async Task An_agent_that_keeps_writing_into_a_cut_websocket_fails_FAULTS_WSCUT_001()
    {
        var r = await Run("FAULTS-WSCUT-001", Double("reuses-dead-sockets", a => a.Misbehaviour.ReuseDeadSockets = true));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.StartWith("After the cut, the agent's next message is delivered"));
        Assert.That(r.Observed, Does.StartWith("send-ping failed twice: "));
    }

    // ------------------------------------------------------------------ unthreaded answers

    [Test]
    public async Task An_agent_whose_ping_responses_lose_their_thread_fails_FAULTS_REORDER_001()
    {
        var r = await Run("FAULTS-REORDER-001", Double("unthreaded-ping-response", a =>
            a.Misbehaviour.Add(new MisbehaviourRule("ping_response", "~thread dropped from ping_response")
            {
                Once = false,
                Mutate = m => { m.Remove("~thread"); return m; },
            })));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Expected, Does.StartWith("ping_response with thid "));
    }
}

