using Conformance.Harness.Drivers;
using Conformance.Harness.Faults;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Mediator;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Faults;

/// <summary>
/// The mediator suites against fault-injected doubles of our mediator (<see cref="FaultyMediatorStore"/>): each broken
/// promise makes the cases that check it FAIL (or WARN where pickup 3.0 has only a SHOULD), while cases that do not
/// touch it still PASS — so a FAIL means the case caught the fault, not that the double is broken everywhere.
///   drop (forward acknowledged, never queued), duplicate (queued twice), forget-delivered (deleted when handed out,
///   before messages-received): FAIL; reorder (newest first), keep-acknowledged (messages-received deletes nothing),
///   no-replay-check: WARN — pickup 3.0 states no delivery order and only a SHOULD for removal, and DIDComm v2 does not
///   oblige a mediator to detect replays.
/// The healthy mediator passing every case is the suites project's job (suites/Conformance.Suites.NUnit).
/// </summary>
public class MediatorDoubleTests
{
    private static readonly IReadOnlyList<CaseInfo> Catalog = CaseCatalog.Discover(SuitesAssembly.Assembly);

    private static async Task<Dictionary<string, CaseResult>> Run(MediatorFaults faults, params string[] caseIds)
    {
        await using var mediator = new EmbeddedMediator("double-" + FaultyMediatorStore.Describe(faults), faults);
        await mediator.StartAsync();
        var results = new Dictionary<string, CaseResult>();
        foreach (var id in caseIds)
        {
            var r = await CaseRunner.RunAsync(Catalog.Single(c => c.Id == id), null, mediator, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(2), WebSocketIdle = TimeSpan.Zero });
            TestContext.Progress.WriteLine($"{id} vs {mediator.Name}: {r.Grade} — expected: {r.Expected} — observed: {r.Observed} {r.Reason}");
            results[id] = r;
        }
        return results;
    }

    private static void Expect(Dictionary<string, CaseResult> results, Grade grade, params string[] ids)
    {
        foreach (var id in ids)
        {
            var r = results[id];
            Assert.That(r.Grade, Is.EqualTo(grade), $"{id}: {r.Expected} / {r.Observed} / {r.Reason}");
            if (grade != Grade.PASS) Assert.That(r.Expected, Is.Not.Null.And.Not.Empty, $"{id} says what it expected");
        }
    }

    [Test]
    public async Task A_mediator_that_drops_acknowledged_forwards_fails_the_queue_cases()
    {
        var r = await Run(MediatorFaults.Drop, "PICKUP3-STATUS-001", "PICKUP3-DELIVERY-001", "MEDIATOR-QUEUE-001", "PICKUP3-LIVE-001",
            "MEDIATE2-KEYLIST-001", "PICKUP3-STATUS-002");
        Expect(r, Grade.FAIL, "PICKUP3-STATUS-001", "PICKUP3-DELIVERY-001", "MEDIATOR-QUEUE-001", "PICKUP3-LIVE-001");
        Expect(r, Grade.PASS, "MEDIATE2-KEYLIST-001", "PICKUP3-STATUS-002");
        Assert.That(r["PICKUP3-STATUS-001"].Observed, Does.Contain("message_count 0"));
    }

    [Test]
    public async Task A_mediator_that_duplicates_fails_the_exactly_once_cases()
    {
        var r = await Run(MediatorFaults.Duplicate, "PICKUP3-STATUS-001", "PICKUP3-DELIVERY-001", "MEDIATOR-QUEUE-001", "PICKUP3-STATUS-002");
        Expect(r, Grade.FAIL, "PICKUP3-STATUS-001", "PICKUP3-DELIVERY-001", "MEDIATOR-QUEUE-001");
        Expect(r, Grade.PASS, "PICKUP3-STATUS-002");
        Assert.That(r["PICKUP3-DELIVERY-001"].Observed, Does.Contain("2 attachment(s)"));
    }

    [Test]
    public async Task A_mediator_that_reorders_is_warned_about()
    {
        var r = await Run(MediatorFaults.Reorder, "MEDIATOR-QUEUE-002", "PICKUP3-DELIVERY-001");
        Expect(r, Grade.WARN, "MEDIATOR-QUEUE-002");
        Expect(r, Grade.PASS, "PICKUP3-DELIVERY-001");
        Assert.That(r["MEDIATOR-QUEUE-002"].Observed, Is.EqualTo("message 3 | message 2 | message 1"));
    }

    [Test]
    public async Task A_mediator_that_deletes_before_acknowledgement_fails_the_half_dead_socket_cases()
    {
        var r = await Run(MediatorFaults.ForgetDelivered, "PICKUP3-DELIVERY-004", "MEDIATOR-WS-003", "PICKUP3-DELIVERY-001");
        Expect(r, Grade.FAIL, "PICKUP3-DELIVERY-004", "MEDIATOR-WS-003");
        Expect(r, Grade.PASS, "PICKUP3-DELIVERY-001");
    }

    [Test]
    public async Task A_mediator_that_keeps_acknowledged_mail_is_warned_about()
    {
        var r = await Run(MediatorFaults.KeepAcknowledged, "PICKUP3-DELIVERY-003", "PICKUP3-LIVE-003", "PICKUP3-DELIVERY-004");
        Expect(r, Grade.WARN, "PICKUP3-DELIVERY-003", "PICKUP3-LIVE-003");
        Expect(r, Grade.PASS, "PICKUP3-DELIVERY-004");
    }

    [Test]
    public async Task A_mediator_without_replay_detection_is_warned_about()
    {
        var r = await Run(MediatorFaults.NoReplayCheck, "MEDIATOR-REPLAY-001", "PROBLEM2-001", "PROBLEM2-002");
        Expect(r, Grade.WARN, "MEDIATOR-REPLAY-001", "PROBLEM2-001");
        Expect(r, Grade.PASS, "PROBLEM2-002");
        Assert.That(r["MEDIATOR-REPLAY-001"].Observed, Does.Contain("message_count 2"));
    }

    [Test]
    public void Fault_names_parse_and_unknown_ones_are_refused_with_the_list()
    {
        Assert.That(MediatorTargets.Create("embedded:drop+reorder"), Is.TypeOf<EmbeddedMediator>()
            .With.Property(nameof(EmbeddedMediator.Faults)).EqualTo(MediatorFaults.Drop | MediatorFaults.Reorder));
        Assert.That(FaultyMediatorStore.Parse("forget-delivered"), Is.EqualTo(MediatorFaults.ForgetDelivered));
        Assert.That(() => MediatorTargets.Create("embedded:lose-everything"),
            Throws.ArgumentException.With.Message.Contains("unknown mediator fault 'lose-everything'").And.Message.Contains("keep-acknowledged"));
    }

    [Test]
    public async Task A_mediator_named_by_url_is_found_by_its_did_endpoint_and_passes()
    {
        // Another process's mediator, as a user would name it: by URL. The harness reads its DID from GET /did.
        await using var host = await MediatorHost.StartAsync(new MediatorOptions { InMemory = true });
        var mediator = MediatorTargets.Create(host.HttpEndpoint.ToString());
        await mediator.StartAsync();
        Assert.That(mediator.Did, Is.EqualTo(host.Did));
        Assert.That(mediator.IsDeterministic, Is.False, "an external mediator gets fresh client keys every run");
        foreach (var id in new[] { "MEDIATE2-GRANT-001", "PICKUP3-DELIVERY-001", "PICKUP3-LIVE-001" })
        {
            var r = await CaseRunner.RunAsync(Catalog.Single(c => c.Id == id), null, mediator, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(3) });
            Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{id}: {r.Expected} / {r.Observed} / {r.Reason}");
            Assert.That(r.Agent, Is.EqualTo(mediator.Name));
        }
    }

    [Test]
    public async Task A_mediator_named_by_an_out_of_band_url_is_its_invitations_sender()
    {
        // The Identus mediator's landing page shows an OOB 2.0 URL (?_oob=base64url(invitation)); its "from" is the mediator.
        const string did = "did:peer:2.Ez6LSg2gr2SAPVHvRRHu3uGtRAGwjaGi85KNnNASeY9vei2eu.Vz6Mkvn8j5D939YdEGW9y34Wj3rdGUwtEYFLP1TuqZ6vwycY3";
        var invitation = new System.Text.Json.Nodes.JsonObject
        {
            ["type"] = "https://didcomm.org/out-of-band/2.0/invitation", ["id"] = "1", ["from"] = did,
            ["body"] = new System.Text.Json.Nodes.JsonObject { ["goal_code"] = "request-mediate" },
        }.ToJsonString();
        var url = "http://127.0.0.1:9/?_oob=" + Conformance.Wire.Encoding.Base64Url.Encode(System.Text.Encoding.UTF8.GetBytes(invitation));
        var mediator = MediatorTargets.Create(url);
        await mediator.StartAsync(); // nothing listens on port 9: the DID comes from the URL alone
        Assert.That(mediator.Did, Is.EqualTo(did));
        Assert.That(() => MediatorTargets.Create("ftp://127.0.0.1/").StartAsync(), Throws.ArgumentException.With.Message.Contains("--mediator"));
    }

    [Test]
    public async Task A_mediator_case_without_a_mediator_is_unsupported_and_an_agent_case_without_an_agent_too()
    {
        var medCase = Catalog.First(c => c.Target == CaseTarget.Mediator);
        var r = await CaseRunner.RunAsync(medCase, null, null, new RunSettings());
        Assert.That(r.Grade, Is.EqualTo(Grade.UNSUPPORTED));
        Assert.That(r.Reason, Does.Contain("--mediator"));
        var agentCase = Catalog.First(c => c.Target == CaseTarget.Agent);
        r = await CaseRunner.RunAsync(agentCase, null, new EmbeddedMediator(), new RunSettings());
        Assert.That(r.Grade, Is.EqualTo(Grade.UNSUPPORTED));
        Assert.That(r.Reason, Does.Contain("--agent"));
    }

    [Test]
    public void Run_targets_follow_what_the_user_named()
    {
        var o = new RunOptions();
        o.Resolve(null, null);
        Assert.That((o.Agent, o.Mediator), Is.EqualTo(("reference", "embedded")), "plain ./run.sh: every suite");
        o.Resolve("credo", null);
        Assert.That((o.Agent, o.Mediator), Is.EqualTo(("credo", (string?)null)), "an agent alone: its suites only");
        o.Resolve(null, "http://127.0.0.1:8080");
        Assert.That((o.Agent, o.Mediator), Is.EqualTo(((string?)null, "http://127.0.0.1:8080")), "a mediator alone: the mediator suites only");
        o.Resolve("reference", "embedded:drop");
        Assert.That((o.Agent, o.Mediator), Is.EqualTo(("reference", "embedded:drop")));
    }
}
