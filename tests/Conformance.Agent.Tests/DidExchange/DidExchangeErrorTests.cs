using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.DidExchange;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.ProblemReport;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using static Conformance.Agent.DidExchange.DidExchangeProblems;
using static Conformance.Agent.Tests.DidExchange.DidExchangeKit;

namespace Conformance.Agent.Tests.DidExchange;

/// <summary>
/// RFC 0023 §Errors, provoked with the misbehaviour plan. "These errors do not transition the protocol to the
/// abandoned state": every case also checks that the records stay where they were.
/// </summary>
public class DidExchangeErrorTests
{
    // ------------------------------------------------------------------ response_not_accepted

    [TestCase("1.1")]
    [TestCase("1.0")]
    public async Task Response_signed_by_another_key_than_the_invitation_key_is_not_accepted(string version)
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var stranger = Ed25519KeyPair.Generate(Entropy.System);
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "did_rotate~attach / did_doc~attach signed by a key that is not the invitation key") { SignWith = stranger });
        var handshake = version == "1.0" ? V10 : V11;
        var invitation = await InvitationAsync(bob.Agent, [handshake]);

        var a = await AcceptAsync(acme.Agent, invitation, handshake);
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        var received = await ProblemReportAsync(bob.Agent, b.Id);

        var sent = Sent(agents, "Acme", "problem_report").Single();
        Assert.Multiple(() =>
        {
            Assert.That(Str(sent["@type"]), Is.EqualTo($"https://didcomm.org/didexchange/{version}/problem_report"));
            Assert.That(Str(sent["problem-code"]), Is.EqualTo(ResponseNotAccepted));
            Assert.That(Str(sent["explain"]), Does.StartWith(InvalidSignature).And.Contain(stranger.Verkey));
            Assert.That(Str(sent["~thread"]!["thid"]), Is.EqualTo(a.ThreadId), "threaded to the response, whose thid is the request's @id");
            Assert.That(Str(sent["~thread"]!["pthid"]), Is.EqualTo(invitation.Id));
            Assert.That(ProblemReports.CodeOf(received), Is.EqualTo(ResponseNotAccepted));
            Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("request-sent"), "not abandoned");
            Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("response-sent"), "not abandoned");
            Assert.That(acme.Agent.Store.GetConnection(a.Id)!.TheirDid, Is.Null, "the rejected DID was not taken");
        });
    }

    [Test]
    public async Task Response_without_any_invitation_key_signature_is_not_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "did_rotate~attach removed") { Mutate = j => { j.Remove("did_rotate~attach"); return j; } });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await SentReportAsync(agents, "Acme");
        Assert.That(Str(report["problem-code"]), Is.EqualTo(ResponseNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(InvalidSignature).And.Contain("neither did_rotate~attach nor did_doc~attach"));
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("request-sent"));
    }

    [Test]
    public async Task Rotation_signed_for_another_DID_is_not_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "did replaced after did_rotate~attach was signed")
        {
            Mutate = j => { j["did"] = DidPeer.Numalgo0(Ed25519KeyPair.Generate(Entropy.System).PublicKey); return j; },
        });
        await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await SentReportAsync(agents, "Acme");
        Assert.That(Str(report["explain"]), Does.StartWith(InvalidSignature).And.Contain("did_rotate~attach signs"));
    }

    [Test]
    public async Task Response_with_an_unsupported_DID_method_is_not_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "did:example in the response")
        {
            Mutate = j => { j["did"] = "did:example:123"; j.Remove("did_rotate~attach"); return j; },
        });
        await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await SentReportAsync(agents, "Acme");
        Assert.That(Str(report["problem-code"]), Is.EqualTo(ResponseNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(UnsupportedDidMethod));
    }

    [Test]
    public async Task Response_on_an_unknown_thread_is_a_thread_mismatch()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "response threaded to nothing")
        {
            Mutate = j => { j["~thread"] = new JsonObject { ["thid"] = "no-such-thread" }; return j; },
        });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await SentReportAsync(agents, "Acme");
        Assert.That(Str(report["problem-code"]), Is.EqualTo(ResponseNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(ThreadMismatch).And.Contain(a.ThreadId!));
        Assert.That(Str(report["~thread"]!["thid"]), Is.EqualTo("no-such-thread"), "threaded to the offending message");
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("request-sent"));
    }

    // ------------------------------------------------------------------ request_not_accepted, one case per reason

    public sealed record RequestFault(string Name, string Reason, string RequesterMethod, bool Edge, Func<JsonObject, JsonObject>? Mutate, bool Expired = false)
    {
        public override string ToString() => Name;
    }

    private static IEnumerable<TestCaseData> RequestFaults()
    {
        // The requester is an edge agent (replies on return-route) wherever the fault leaves no usable service to answer to.
        yield return Case(new RequestFault("unsupported DID method", UnsupportedDidMethod, "peer:4", true,
            j => { j["did"] = "did:example:123"; j.Remove("did_doc~attach"); return j; }));
        yield return Case(new RequestFault("not a DID at all", UnsupportedDidMethod, "peer:4", true,
            j => { j["did"] = "B.did@B:A"; return j; }));
        yield return Case(new RequestFault("did:peer:1 document altered (hash mismatch)", InvalidDidDoc, "peer:1", false,
            j => { var doc = AttachedJson(j, "did_doc~attach"); doc["alsoKnownAs"] = new JsonArray("did:example:evil"); return WithUnsignedDoc(j, doc); }));
        yield return Case(new RequestFault("did_doc~attach signature broken", InvalidDidDoc, "peer:1", false,
            j => { var jws = j["did_doc~attach"]!["data"]!["jws"]!.AsObject(); jws["signature"] = Base64Url.Encode(new byte[64]); return j; }));
        yield return Case(new RequestFault("long did:peer:4 altered (hash mismatch)", InvalidDidDoc, "peer:4", true,
            j => { var did = Str(j["did"])!; j["did"] = did[..^1] + (did[^1] == '2' ? '3' : '2'); return j; }));
        yield return Case(new RequestFault("did:peer:1 without its document", InvalidDidDoc, "peer:1", true,
            j => { j.Remove("did_doc~attach"); return j; }));
        yield return Case(new RequestFault("envelope packed by a key the DID does not hold", InvalidDidDoc, "peer:4", true,
            j => { j["did"] = StrangerPeer2(); return j; }));
        yield return Case(new RequestFault("recipient key of an unsupported type (P-256)", UnsupportedKeyType, "unqualified", true,
            j => RewriteService(j, s => s["recipientKeys"] = new JsonArray(P256DidKey))));
        yield return Case(new RequestFault("X25519 recipient key with no Ed25519 partner", UnsupportedKeyType, "unqualified", true,
            j => RewriteService(j, s => s["recipientKeys"] = new JsonArray(DidKey.FromX25519(new byte[32] { 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 })))));
        yield return Case(new RequestFault("did:sov without a document", UnsupportedDidMethod, "unqualified", true,
            j => { j["did"] = "did:sov:" + Str(j["did"]); j.Remove("did_doc~attach"); return j; }));
        yield return Case(new RequestFault("endpoint of an unsupported protocol", UnsupportedEndpointProtocol, "unqualified", true,
            j => RewriteService(j, s => s["serviceEndpoint"] = "mqtt://broker.example:1883")));
        yield return Case(new RequestFault("DIDComm v2 service only", UnsupportedEndpointProtocol, "unqualified", true,
            j => RewriteService(j, s => { s["type"] = "DIDCommMessaging"; s["accept"] = new JsonArray("didcomm/v2"); })));
        yield return Case(new RequestFault("missing pthid", MissingInvitationReference, "peer:4", false,
            j => { j["~thread"] = new JsonObject { ["thid"] = Str(j["@id"]) }; return j; }));
        yield return Case(new RequestFault("pthid naming no invitation", MissingInvitationReference, "peer:4", false,
            j => { j["~thread"]!["pthid"] = "no-such-invitation"; return j; }));
        yield return Case(new RequestFault("pthid naming a DID that is not ours", MissingInvitationReference, "peer:4", false,
            j => { j["~thread"]!["pthid"] = "did:web:example.com#didcomm-0"; return j; }));
        yield return Case(new RequestFault("expired invitation", ExpiredInvitation, "peer:4", false, null, Expired: true));
    }

    private static TestCaseData Case(RequestFault f) => new TestCaseData(f).SetName("request_not_accepted: " + f.Name);

    /// <summary>A P-256 did:key (W3C CCG did:key spec test vector), a key type RFC 0019 cannot pack for.</summary>
    private const string P256DidKey = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169";

    private static string StrangerPeer2()
    {
        var key = Ed25519KeyPair.Generate(Entropy.System);
        var service = new JsonObject { ["id"] = "#didcomm-0", ["t"] = "did-communication", ["recipientKeys"] = new JsonArray("#key-1"), ["s"] = "didcomm:transport/queue" };
        return DidPeer.Numalgo2([('V', Multibase.EncodeKey(KeyCodec.Ed25519Pub, key.PublicKey))], [service]);
    }

    private static JsonObject RewriteService(JsonObject request, Action<JsonObject> change)
    {
        var doc = AttachedJson(request, "did_doc~attach");
        change((JsonObject)doc["service"]![0]!);
        return WithUnsignedDoc(request, doc);
    }

    [TestCaseSource(nameof(RequestFaults))]
    public async Task Rejected_request_is_answered_with_its_reason_and_changes_nothing(RequestFault fault)
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", o => o.DidExchangeDidMethod = fault.RequesterMethod, fault.Edge ? Edge : null);
        if (fault.Mutate != null) acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", fault.Name) { Mutate = fault.Mutate });
        var invitation = await InvitationAsync(bob.Agent, expiresAt: fault.Expired ? DateTimeOffset.UtcNow.AddMinutes(-1) : null);

        var a = await AcceptAsync(acme.Agent, invitation, V11);
        var report = await ProblemReportAsync(acme.Agent, a.Id);

        Assert.Multiple(() =>
        {
            Assert.That(Str(report["@type"]), Is.EqualTo("https://didcomm.org/didexchange/1.1/problem_report"));
            Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(RequestNotAccepted));
            // Unknown and expired invitations are refused by out-of-band's ClaimInvitation, which writes the reason in lower case.
            Assert.That(Str(report["explain"]), Does.StartWith(fault.Reason + ": ").IgnoreCase);
            Assert.That(Str(report["~thread"]!["thid"]), Is.EqualTo(a.ThreadId), "threaded to the request");
            if (fault.Name is not ("missing pthid" or "pthid naming no invitation" or "pthid naming a DID that is not ours"))
                Assert.That(Str(report["~thread"]!["pthid"]), Is.EqualTo(invitation.Id));
            Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("request-sent"), "not abandoned");
            Assert.That(bob.Agent.Store.Connections(), Is.Empty, "the responder kept nothing");
            Assert.That(bob.Agent.Store.GetInvitation(invitation.Id)!.UseCount, Is.Zero, "the invitation was not used up");
        });
    }

    [Test]
    public async Task A_request_naming_one_invitation_but_encrypted_to_another_is_not_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var named = await InvitationAsync(bob.Agent);
        var other = await InvitationAsync(bob.Agent);
        // The @id of one invitation with the service (key) of the other.
        var spliced = (JsonObject)other.Invitation.DeepClone();
        spliced["@id"] = named.Id;
        var a = await acme.Agent.DidExchange.StartFromOobAsync(spliced, V11, new Conformance.Agent.OutOfBand.OobReceiveOptions());
        var report = await ProblemReportAsync(acme.Agent, a.Id);
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(RequestNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(MissingInvitationReference).And.Contain(other.RecipientKey));
        Assert.That(bob.Agent.Store.Connections(), Is.Empty);
    }

    [Test]
    public async Task An_unexpected_failure_is_a_request_processing_error_without_internals()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme", host: Edge);
        bob.Agent.Resolver.Add(new ThrowingResolver());
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "a DID whose resolver fails unexpectedly")
        {
            Mutate = j => { j["did"] = "did:boom:1"; return j; },
        });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await ProblemReportAsync(acme.Agent, a.Id);
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(RequestProcessingError));
        Assert.That(Str(report["explain"]), Does.Contain("unknown processing error").And.Not.Contain("secret internals"));
        Assert.That(Str(report["~thread"]!["thid"]), Is.EqualTo(a.ThreadId));
    }

    private sealed class ThrowingResolver : IDidResolver
    {
        public bool CanResolve(string did) => did.StartsWith("did:boom:");
        public ValueTask<DidDocument> ResolveAsync(string did, CancellationToken ct = default) => throw new InvalidOperationException("secret internals");
    }

    [Test]
    public async Task A_single_use_invitation_is_claimed_once()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var carol = await agents.StartAsync("Carol");
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        var c = await AcceptAsync(carol.Agent, invitation, V11);
        var report = await ProblemReportAsync(carol.Agent, c.Id);
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(RequestNotAccepted));
        Assert.That(Str(report["~thread"]!["thid"]), Is.EqualTo(c.ThreadId));
        Assert.That(carol.Agent.Store.GetConnection(c.Id)!.State, Is.EqualTo("request-sent"));
        Assert.That(bob.Agent.Store.Connections(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_requester_may_resend_a_corrected_request_after_request_not_accepted()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "missing pthid")
        {
            Mutate = j => { j["~thread"] = new JsonObject { ["thid"] = Str(j["@id"]) }; return j; },
        });
        var invitation = await InvitationAsync(bob.Agent);
        var a = await AcceptAsync(acme.Agent, invitation, V11);
        var firstThread = a.ThreadId;
        await ProblemReportAsync(acme.Agent, a.Id);

        // RFC 0023: "The request can be resent after the appropriate corrections have been made."
        await acme.Agent.DidExchange.SendRequestAsync(a.Id);
        a = await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "completed");
        Assert.That(a.ThreadId, Is.Not.EqualTo(firstThread), "a resent request is a new message and thread");
        Assert.That(a.History, Is.EqualTo(new[] { "start", "invitation-received", "request-sent", "request-sent", "response-received", "completed" }));
        Assert.That(a.History, Does.Not.Contain("abandoned"));
    }

    // ------------------------------------------------------------------ terminal states (AATH T007)

    [Test]
    public async Task A_replayed_request_after_completion_is_refused_and_both_stay_completed()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("request", "request sent twice") { Copies = 2 });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var report = await ProblemReportAsync(acme.Agent, a.Id);

        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(RequestNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(AlreadyCompleted));
        Assert.That(Str(report["~thread"]!["thid"]), Is.EqualTo(a.ThreadId));
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("completed"));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("completed"));
        Assert.That(bob.Agent.Store.Connections(), Has.Count.EqualTo(1));
        await DidExchangeFlowTests.PingAsync(acme.Agent, a, agents, "Acme");
    }

    [Test]
    public async Task A_replayed_response_after_completion_is_refused_and_both_stay_completed()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        bob.Agent.Misbehaviour.Add(new MisbehaviourRule("response", "response sent twice") { Copies = 2 });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        var report = await ProblemReportAsync(bob.Agent, b.Id);

        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(ResponseNotAccepted));
        Assert.That(Str(report["explain"]), Does.StartWith(AlreadyCompleted));
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("completed"));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("completed"));
    }

    [Test]
    public async Task Sending_a_response_on_a_completed_exchange_is_refused_locally()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "completed");
        // AATH T007: "Bob sends a response to Acme which produces a problem_report" expects the backchannel call to fail (400).
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => bob.Agent.DidExchange.AcceptRequestAsync(b.Id));
        Assert.That(e!.Message, Does.Contain("terminal"));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("completed"));
        Assert.That(Sent(agents, "Bob", "response"), Has.Count.EqualTo(1));
    }

    // ------------------------------------------------------------------ complete

    [Test]
    public async Task Complete_with_another_pthid_is_refused_and_the_responder_keeps_waiting()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob");
        var acme = await agents.StartAsync("Acme");
        acme.Agent.Misbehaviour.Add(new MisbehaviourRule("complete", "complete with a wrong pthid")
        {
            Mutate = j => { j["~thread"]!["pthid"] = "another-invitation"; return j; },
        });
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var b = await ResponderRecordAsync(bob.Agent, () => a.ThreadId);
        var report = await ProblemReportAsync(acme.Agent, a.Id);
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo(CompleteNotAccepted));
        Assert.That(Str(report["explain"]), Does.Contain("must be identical"));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("response-sent"));
        Assert.That(acme.Agent.Store.GetConnection(a.Id)!.State, Is.EqualTo("completed"), "completed is terminal");
    }

    [Test]
    public async Task Abandoning_tells_the_other_side_which_abandons_too()
    {
        await using var agents = new TestAgents();
        var bob = await agents.StartAsync("Bob", o => o.AutoAccept = false);
        var acme = await agents.StartAsync("Acme");
        var a = await AcceptAsync(acme.Agent, await InvitationAsync(bob.Agent), V11);
        var b = await TestAgents.WaitForStateAsync(bob.Agent, (await ResponderRecordAsync(bob.Agent, () => a.ThreadId)).Id, "request-received");

        await bob.Agent.DidExchange.AbandonAsync(b.Id, "not today");
        await TestAgents.WaitForStateAsync(acme.Agent, a.Id, "abandoned");
        Assert.That(ProblemReports.CodeOf(acme.Agent.Store.GetConnection(a.Id)!.ProblemReport!), Is.EqualTo(Abandoned));
        Assert.That(bob.Agent.Store.GetConnection(b.Id)!.State, Is.EqualTo("abandoned"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => bob.Agent.DidExchange.AcceptRequestAsync(b.Id));
    }

    private static Task<JsonObject> SentReportAsync(TestAgents agents, string agent) =>
        TestAgents.WaitForAsync(() => Sent(agents, agent, "problem_report").FirstOrDefault(), $"{agent} to send a problem report");
}
