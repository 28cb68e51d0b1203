// RFC 0160 §Errors: problem_report in the connections family, `problem-code` one of request_not_accepted,
// request_processing_error, response_not_accepted, response_processing_error, "~thread ... referring to the message
// which contains the problem". AATH T003/T004 (replayed single-use invitation) and faults injected with Misbehaviour.
using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Core;
using Conformance.Agent.Misbehaviour;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Encoding;
using static Conformance.Agent.Tests.Connections.Wire;
using static Conformance.Agent.ProblemReport.ProblemReports;

namespace Conformance.Agent.Tests.Connections;

public class ConnectionsProblemReportTests
{
    private const string ProblemReportType = "https://didcomm.org/connections/1.0/problem_report";

    [Test]
    public async Task Replayed_single_use_invitation_after_completion_is_request_not_accepted_and_the_first_connection_is_unharmed()
    {
        // AATH T003-RFC0160: Mallory sends a request based on the invitation Bob already used.
        await using var agents = new TestAgents();
        var acme = (await agents.StartAsync("Acme")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var mallory = (await agents.StartAsync("Mallory")).Agent;
        var (inv, invitation, _) = await acme.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        await TestAgents.WaitForStateAsync(acme, inv.ConnectionId!, "complete");

        var m = await mallory.Connections.ReceiveInvitationAsync(invitation);
        var report = await ReportOn(mallory, m.Id);
        var malloryRequest = Sent(agents, "Mallory", "connections/1.0/request").Single();
        Assert.That(Str(report["@type"]), Is.EqualTo(ProblemReportType));
        Assert.That(CodeOf(report), Is.EqualTo("request_not_accepted"));
        Assert.That(Str(report["problem-code"]), Is.EqualTo("request_not_accepted"), "RFC 0160 names the field problem-code");
        Assert.That(Thid(report), Is.EqualTo(Str(malloryRequest["@id"])));
        Assert.That(Str(report["explain"]), Does.Contain("already been used"));
        Assert.That(mallory.Store.GetConnection(m.Id)!.State, Is.EqualTo("requested"), "a rejection moves no state");

        // The report went to the service of Mallory's DID document, from the invitation key.
        var sent = Events(agents, "Acme", "out", "connections/1.0/problem_report").Single();
        Assert.That(sent.RecipientVerkey, Is.EqualTo(mallory.Store.GetConnection(m.Id)!.MyVerkey));
        Assert.That(sent.SenderVerkey, Is.EqualTo(inv.RecipientKey));

        var first = acme.Store.GetConnection(inv.ConnectionId!)!;
        Assert.That(first.State, Is.EqualTo("complete"));
        Assert.That(first.ProblemReport, Is.Null);
        Assert.That(first.TheirLabel, Is.EqualTo("Bob"));
        Assert.That(acme.Store.Connections(), Has.Count.EqualTo(1));
        Assert.That(acme.Store.GetInvitation(inv.Id)!.UseCount, Is.EqualTo(1));
    }

    [Test]
    public async Task Replayed_single_use_invitation_during_the_share_phase_is_rejected_and_the_first_request_still_completes()
    {
        // AATH T004-RFC0160: Mallory tries while Acme (manual) has not answered Bob yet.
        await using var agents = new TestAgents();
        var acme = (await agents.StartAsync("Acme")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var mallory = (await agents.StartAsync("Mallory")).Agent;
        var (inv, invitation, _) = await acme.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { AutoAccept = false });
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var a = await TestAgents.WaitForStateAsync(acme, inv.ConnectionId!, "requested");

        var m = await mallory.Connections.ReceiveInvitationAsync(invitation);
        var report = await ReportOn(mallory, m.Id);
        Assert.That(CodeOf(report), Is.EqualTo("request_not_accepted"));
        Assert.That(Thid(report), Is.EqualTo(Str(Sent(agents, "Mallory", "connections/1.0/request").Single()["@id"])));
        Assert.That(acme.Store.GetConnection(a.Id)!.State, Is.EqualTo("requested"));

        await acme.Connections.AcceptRequestAsync(a.Id);
        await TestAgents.WaitForStateAsync(acme, a.Id, "complete");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        Assert.That(acme.Store.GetConnection(a.Id)!.TheirLabel, Is.EqualTo("Bob"));
    }

    [Test]
    public async Task Response_signed_by_a_key_that_is_not_the_invitation_key_is_response_not_accepted_and_a_corrected_response_completes()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        const string fault = "connection~sig signed by a key that is not the invitation key";
        alice.Misbehaviour.Add(new MisbehaviourRule("response", fault) { SignWith = alice.Wallet.CreateKey() });
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var request = Sent(agents, "Bob", "connections/1.0/request").Single();
        Assert.That(alice.Misbehaviour.Applied, Does.Contain(fault));

        // The invitee rejects, threaded to the request (the response's thread), and stays in requested.
        var sent = Events(agents, "Bob", "out", "connections/1.0/problem_report").Single().Plaintext!;
        Assert.That(CodeOf(sent), Is.EqualTo("response_not_accepted"));
        Assert.That(Thid(sent), Is.EqualTo(Str(request["@id"])));
        Assert.That(Str(sent["explain"]), Does.Contain("not the invitation's key"));
        Assert.That(bob.Store.GetConnection(b.Id)!.State, Is.EqualTo("requested"));

        // The inviter keeps the report on its record; its state machine is not harmed.
        var a = await TestAgents.WaitForAsync(() => alice.Store.GetConnection(inv.ConnectionId!) is { ProblemReport: not null } x ? x : null, "Alice stores the report");
        Assert.That(CodeOf(a.ProblemReport!), Is.EqualTo("response_not_accepted"));
        Assert.That(a.State, Is.EqualTo("responded"));

        // "The response can be resent after the appropriate corrections have been made."
        await alice.Connections.AcceptRequestAsync(a.Id);
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        a = await TestAgents.WaitForStateAsync(alice, a.Id, "complete");
        Assert.That(a.History, Is.EqualTo(new[] { "invited", "requested", "responded", "complete" }));
        Assert.That(b.History, Is.EqualTo(new[] { "invited", "requested", "responded", "complete" }));
    }

    public enum ResponseFault { TamperedSignedData, UnsignedConnection, WrongThread, NoThread }

    [TestCase(ResponseFault.TamperedSignedData, "invalid signature")]
    [TestCase(ResponseFault.UnsignedConnection, "not signed")]
    [TestCase(ResponseFault.WrongThread, "no connection request")]
    [TestCase(ResponseFault.NoThread, "~thread.thid")]
    public async Task Faulty_response_is_rejected_without_moving_the_invitee(ResponseFault fault, string explain)
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        alice.Misbehaviour.Add(new MisbehaviourRule("response", fault.ToString()) { Mutate = j => Break(j, fault) });
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var response = Sent(agents, "Alice", "connections/1.0/response").Single();
        var report = Events(agents, "Bob", "out", "connections/1.0/problem_report").Single().Plaintext!;
        Assert.That(CodeOf(report), Is.EqualTo("response_not_accepted"));
        Assert.That(Str(report["explain"]), Does.Contain(explain));
        // ~thread.thid is the thread of the offending message (the response's own @id when it has no ~thread).
        Assert.That(Thid(report), Is.EqualTo(Thid(response) ?? Str(response["@id"])));
        Assert.That(bob.Store.GetConnection(b.Id)!.State, Is.EqualTo("requested"));
        Assert.That(bob.Store.GetConnection(b.Id)!.TheirDid, Is.Null);

        await alice.Connections.AcceptRequestAsync(inv.ConnectionId!);   // a correct response still works
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
    }

    private static JsonObject Break(JsonObject response, ResponseFault fault)
    {
        switch (fault)
        {
            case ResponseFault.TamperedSignedData:
                var sig = response["connection~sig"]!.AsObject();
                var data = Base64Url.Decode(Str(sig["sig_data"]));
                var text = System.Text.Encoding.UTF8.GetString(data, 8, data.Length - 8).Replace("did:sov:", "did:sov:X");
                sig["sig_data"] = Base64Url.Encode([.. data[..8], .. System.Text.Encoding.UTF8.GetBytes(text)], padded: true);
                break;
            case ResponseFault.UnsignedConnection:
                var verified = Conformance.Wire.Signatures.SignatureDecorator.Verify(response["connection~sig"]!.AsObject());
                response.Remove("connection~sig");
                response["connection"] = verified.Value.DeepClone();
                break;
            case ResponseFault.WrongThread:
                response["~thread"] = new JsonObject { ["thid"] = "a0f4b7b2-0000-4000-8000-000000000000" };
                break;
            case ResponseFault.NoThread:
                response.Remove("~thread");
                break;
        }
        return response;
    }

    public enum RequestFault { UnsupportedDidMethod, DidDocInvalid, DidDocNamesAnotherDid, PackedWithAnotherKey, OnlyDidCommV2Service }

    [TestCase(RequestFault.UnsupportedDidMethod, "unsupported DID method")]
    [TestCase(RequestFault.DidDocInvalid, "DID document invalid")]
    [TestCase(RequestFault.DidDocNamesAnotherDid, "does not name")]
    [TestCase(RequestFault.PackedWithAnotherKey, "not a key of the DID document")]
    [TestCase(RequestFault.OnlyDidCommV2Service, "DIDComm v2")]
    public async Task Faulty_request_is_request_not_accepted_sent_to_the_requester_and_the_invitation_is_not_used_up(RequestFault fault, string explain)
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var rule = fault == RequestFault.PackedWithAnotherKey
            ? new MisbehaviourRule("request", fault.ToString()) { PackAs = bob.Wallet.CreateKey() }
            : new MisbehaviourRule("request", fault.ToString()) { Mutate = j => Break(j, fault) };
        bob.Misbehaviour.Add(rule);
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var request = Sent(agents, "Bob", "connections/1.0/request").Single();
        var report = await ReportOn(bob, b.Id);
        Assert.That(CodeOf(report), Is.EqualTo("request_not_accepted"));
        Assert.That(Thid(report), Is.EqualTo(Str(request["@id"])));
        Assert.That(Str(report["explain"]), Does.Contain(explain));
        Assert.That(alice.Store.GetConnection(inv.ConnectionId!)!.State, Is.EqualTo("invited"));
        Assert.That(alice.Store.GetInvitation(inv.Id)!.UseCount, Is.EqualTo(0), "a rejected request does not use up the invitation");

        // "The request can be resent after the appropriate corrections have been made": the same request, unbroken.
        await bob.Connections.AcceptInvitationAsync(b.Id);
        Assert.That(Sent(agents, "Bob", "connections/1.0/request").Select(r => Str(r["@id"])).Distinct().Count(), Is.EqualTo(1), "resent as-is, same @id");
        await TestAgents.WaitForStateAsync(bob, b.Id, "complete");
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
    }

    private static JsonObject Break(JsonObject request, RequestFault fault)
    {
        var conn = request["connection"]!.AsObject();
        var doc = conn["DIDDoc"]!.AsObject();
        switch (fault)
        {
            case RequestFault.UnsupportedDidMethod:
                conn["DID"] = "did:example:123456789abcdefghi";
                doc["id"] = "did:example:123456789abcdefghi";
                break;
            case RequestFault.DidDocInvalid:
                doc["authentication"] = new JsonArray(new JsonObject { ["type"] = "Ed25519SignatureAuthentication2018", ["publicKey"] = Str(doc["id"]) + "#99" });
                break;
            case RequestFault.DidDocNamesAnotherDid:
                conn["DID"] = "QmWbsNYhMrjHiqZDTUTEJs";
                break;
            case RequestFault.OnlyDidCommV2Service:
                var service = doc["service"]![0]!.AsObject();
                service["type"] = "DIDCommMessaging";
                break;
        }
        return request;
    }

    [Test]
    public async Task Request_for_an_unknown_invitation_or_an_expired_one_is_request_not_accepted()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;

        // A key Alice holds but never invited with.
        var stray = new JsonObject
        {
            ["@type"] = "https://didcomm.org/connections/1.0/invitation", ["@id"] = "b1b2b3b4-0000-4000-8000-000000000001",
            ["recipientKeys"] = new JsonArray(alice.Wallet.CreateKey().Verkey), ["serviceEndpoint"] = alice.Endpoint,
        };
        var b1 = await bob.Connections.ReceiveInvitationAsync(stray);
        Assert.That(Str((await ReportOn(bob, b1.Id))["explain"]), Does.Contain("answers no invitation"));

        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) });
        var b2 = await bob.Connections.ReceiveInvitationAsync(invitation);
        var report = await ReportOn(bob, b2.Id);
        Assert.That(CodeOf(report), Is.EqualTo("request_not_accepted"));
        Assert.That(Str(report["explain"]), Does.Contain("expired"));
        Assert.That(alice.Store.GetConnection(inv.ConnectionId!)!.State, Is.EqualTo("invited"));
    }

    [Test]
    public async Task Garbage_request_without_a_way_back_is_dropped_cleanly_and_the_invitation_stays_usable()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var debug = new List<string>();
        alice.DebugLog = line => { lock (debug) debug.Add(line); };
        bob.Misbehaviour.Add(new MisbehaviourRule("request", "no connection attribute") { Mutate = j => { j.Remove("connection"); return j; } });
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());

        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        // No DID document, so no service to answer to (and no return route): the rejection is logged, not sent.
        lock (debug) Assert.That(debug, Has.Some.Contains("request_not_accepted not sent"));
        Assert.That(Events(agents, "Alice", "out", "connections/1.0/problem_report"), Is.Empty);
        Assert.That(bob.Store.GetConnection(b.Id)!.ProblemReport, Is.Null);
        Assert.That(alice.Store.GetConnection(inv.ConnectionId!)!.State, Is.EqualTo("invited"));

        await bob.Connections.AcceptInvitationAsync(b.Id);
        await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
    }

    [Test]
    public async Task Response_that_cannot_be_delivered_is_a_request_processing_error_and_the_inviter_stays_requested()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var debug = new List<string>();
        alice.DebugLog = line => { lock (debug) debug.Add(line); };
        var dead = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        dead.Start();
        var deadEndpoint = $"http://127.0.0.1:{((System.Net.IPEndPoint)dead.LocalEndpoint).Port}/";
        dead.Stop();   // nothing listens there any more: connection refused
        bob.Misbehaviour.Add(new MisbehaviourRule("request", "DIDDoc service endpoint that refuses connections")
        {
            Mutate = j => { j["connection"]!["DIDDoc"]!["service"]![0]!["serviceEndpoint"] = deadEndpoint; return j; },
        });
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());

        await bob.Connections.ReceiveInvitationAsync(invitation);
        var a = alice.Store.GetConnection(inv.ConnectionId!)!;
        // §2 "When the message is transmitted, we are now in the responded state": it was not, so back to requested.
        Assert.That(a.History, Is.EqualTo(new[] { "invited", "requested", "responded", "requested" }));
        Assert.That(CodeOf(a.ProblemReport!), Is.EqualTo("request_processing_error"), "the report Alice tried to send");
        Assert.That(Thid(a.ProblemReport!), Is.EqualTo(Str(Sent(agents, "Bob", "connections/1.0/request").Single()["@id"])));
        lock (debug) Assert.That(debug, Has.Some.Contains("request_processing_error could not be delivered"));
    }

    [Test]
    public async Task Response_with_an_unknown_thread_on_a_live_connection_is_answered_on_it_and_harms_nothing()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        b = await TestAgents.WaitForStateAsync(bob, b.Id, "complete");

        var stray = alice.NewMessage("https://didcomm.org/connections/1.0/response").WithThread("c3c3c3c3-0000-4000-8000-00000000dead", null)
            .With("connection~sig", new JsonObject { ["@type"] = "x" });
        await alice.Outbound.SendAsync(stray, a);

        a = await TestAgents.WaitForAsync(() => alice.Store.GetConnection(a.Id) is { ProblemReport: not null } x ? x : null, "Alice receives the report");
        Assert.That(CodeOf(a.ProblemReport!), Is.EqualTo("response_not_accepted"));
        Assert.That(Thid(a.ProblemReport!), Is.EqualTo("c3c3c3c3-0000-4000-8000-00000000dead"));
        Assert.That(alice.Store.GetConnection(a.Id)!.State, Is.EqualTo("complete"));
        Assert.That(bob.Store.GetConnection(b.Id)!.State, Is.EqualTo("complete"));

        var pingId = await bob.TrustPing.SendPingAsync(bob.Store.GetConnection(b.Id)!);
        await TestAgents.WaitUntilAsync(() => agents.Events.Any(e => e.Agent == "Bob" && e.Event.Kind == AgentEvent.TrustPingResponse && e.Event.ThreadId == pingId),
            "the connection still carries a ping");
    }

    [Test]
    public async Task Unknown_connections_message_is_answered_and_changes_nothing()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
        var b = await bob.Connections.ReceiveInvitationAsync(invitation);
        var a = await TestAgents.WaitForStateAsync(alice, inv.ConnectionId!, "complete");
        await alice.Outbound.SendAsync(alice.NewMessage("https://didcomm.org/connections/1.0/invitation"), a);
        a = await TestAgents.WaitForAsync(() => alice.Store.GetConnection(a.Id) is { ProblemReport: not null } x ? x : null, "Alice receives the report");
        Assert.That(CodeOf(a.ProblemReport!), Is.EqualTo("unsupported-message-type"));
        Assert.That(bob.Store.GetConnection(b.Id)!.State, Is.EqualTo("complete"));
    }

    [Test]
    public async Task Malformed_requests_and_responses_are_rejections_never_internal_errors()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var debug = new List<string>();
        alice.DebugLog = bob.DebugLog = line => { lock (debug) debug.Add(line); };
        var requestFaults = new Dictionary<string, Action<JsonObject>>
        {
            ["connection is an array"] = j => j["connection"] = new JsonArray(),
            ["connection is a string"] = j => j["connection"] = "x",
            ["DID is a number"] = j => j["connection"]!["DID"] = 5,
            ["DID is empty"] = j => j["connection"]!["DID"] = "",
            ["DIDDoc is a number"] = j => j["connection"]!["DIDDoc"] = 5,
            ["DIDDoc is empty"] = j => j["connection"]!["DIDDoc"] = new JsonObject(),
            ["service is a string"] = j => j["connection"]!["DIDDoc"]!["service"] = "x",
            ["recipient key is a number"] = j => j["connection"]!["DIDDoc"]!["service"]![0]!["recipientKeys"] = new JsonArray(5),
            ["endpoint is an object"] = j => j["connection"]!["DIDDoc"]!["service"]![0]!["serviceEndpoint"] = new JsonObject(),
            ["publicKey holds a number"] = j => j["connection"]!["DIDDoc"]!["publicKey"] = new JsonArray(1),
            ["DIDDoc id is a number"] = j => j["connection"]!["DIDDoc"]!["id"] = 7,
            ["label is an object"] = j => j["label"] = new JsonObject(),
        };
        var responseFaults = new Dictionary<string, Action<JsonObject>>
        {
            ["connection~sig is a string"] = j => j["connection~sig"] = "x",
            ["connection~sig is empty"] = j => j["connection~sig"] = new JsonObject(),
            ["sig_data is not base64"] = j => j["connection~sig"]!["sig_data"] = "***",
            ["signer is a number"] = j => j["connection~sig"]!["signer"] = 7,
            ["signature is short"] = j => j["connection~sig"]!["signature"] = "AAAA",
        };
        foreach (var (what, change) in requestFaults.Select(f => ("request", f)).Concat(responseFaults.Select(f => ("response", f))))
        {
            var (inv, invitation, _) = await alice.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions());
            var sender = what == "request" ? bob : alice;
            sender.Misbehaviour.Add(new MisbehaviourRule(what, change.Key) { Mutate = j => { change.Value(j); return j; } });
            var b = await bob.Connections.ReceiveInvitationAsync(invitation);
            Assert.That(bob.Store.GetConnection(b.Id)!.State, Is.EqualTo("requested"), change.Key);
            Assert.That(alice.Store.GetConnection(inv.ConnectionId!)!.State, Is.EqualTo(what == "request" ? "invited" : "responded"), change.Key);
        }
        lock (debug) Assert.That(debug.Where(l => l.Contains("unexpected error") || l.Contains("failed:")), Is.Empty);
        var reports = Events(agents, "Alice", "out", "connections/1.0/problem_report").Concat(Events(agents, "Bob", "out", "connections/1.0/problem_report"))
            .Select(e => CodeOf(e.Plaintext!)).ToList();
        Assert.That(reports, Is.Not.Empty);
        Assert.That(reports, Is.All.EqualTo("request_not_accepted").Or.EqualTo("response_not_accepted"));
    }

    /// <summary>Waits for the problem report stored on a record and returns it.</summary>
    private static async Task<JsonObject> ReportOn(ReferenceAgent agent, string connectionId) =>
        (await TestAgents.WaitForAsync(() => agent.Store.GetConnection(connectionId) is { ProblemReport: not null } c ? c : null,
            $"{agent.Options.Label} to store a problem report on {connectionId}")).ProblemReport!;
}
