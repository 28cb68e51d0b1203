using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.ProblemReport;
using Conformance.Agent.Tests.Support;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>
/// Out-of-band flows between two reference agents on real loopback Kestrel hosts, through the full inbound pipeline
/// and the real handshake protocols (didexchange, connections), which other helpers implement: these need all of
/// them merged, hence the Integration category.
/// </summary>
[Category("Integration")]
public class OutOfBandIntegrationTests
{
    private static ConnectionRecord? InviterConnection(ReferenceAgent inviter, string invitationId) =>
        inviter.Store.FindConnection(c => c.Role == ConnectionRole.Inviter && (c.ParentThreadId == invitationId || c.InvitationId == invitationId));

    private static async Task<(ConnectionRecord Inviter, ConnectionRecord Invitee)> ConnectAsync(ReferenceAgent alice, ReferenceAgent bob, InvitationRecord inv, string done = "completed")
    {
        var r = await bob.OutOfBand.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(r.Reused, Is.False);
        var b = await TestAgents.WaitForStateAsync(bob, r.Connection!.Id, done);
        var a = await TestAgents.WaitForAsync(() => InviterConnection(alice, inv.Id) is { State: var s } c && s == done ? c : null, $"Alice's connection for {inv.Id} to reach {done}");
        return (a, b);
    }

    [Test]
    public async Task Didexchange_connection_then_a_second_invitation_with_the_same_key_is_reused_over_http()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var first = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        var (aConn, bConn) = await ConnectAsync(alice, bob, first);
        Assert.That(alice.Store.GetInvitation(first.Id)!.UseCount, Is.EqualTo(1));

        var second = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseAcceptTimeout = TimeSpan.FromSeconds(5) });
        Assert.That(r.Reused, Is.True);
        Assert.That(r.State, Is.EqualTo("reuse-accepted"));
        Assert.That(r.Connection!.Id, Is.EqualTo(bConn.Id));
        Assert.That(bob.Store.Connections(), Has.Count.EqualTo(1));
        Assert.That(alice.Store.Connections(), Has.Count.EqualTo(1));
        Assert.That(alice.Store.GetInvitation(second.Id)!.UseCount, Is.EqualTo(1));
        Assert.That(agents.Events.Count(e => e.Agent == "Alice" && e.Event.Kind == AgentEvent.ReuseAccepted && e.Event.ConnectionId == aConn.Id), Is.EqualTo(1));
        Assert.That(agents.Events.Count(e => e.Agent == "Bob" && e.Event.Kind == AgentEvent.ReuseAccepted && e.Event.ConnectionId == bConn.Id), Is.EqualTo(1));
        // Both reuse messages travelled encrypted on the connection (the tap records the envelope and the sender key).
        var wire = agents.Wire.Where(w => w.Event.Direction == "in" && w.Event.Type?.Contains("handshake-reuse") == true).ToList();
        Assert.That(wire.Select(w => w.Agent), Is.EquivalentTo(new[] { "Alice", "Bob" }));
        Assert.That(wire.All(w => w.Event.SenderVerkey != null && w.Event.ConnectionId != null), Is.True);
    }

    [Test]
    public async Task Complete_style_reuse_is_recorded_by_the_inviters_didexchange()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var first = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        var (aConn, _) = await ConnectAsync(alice, bob, first);
        var second = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseStyle = "complete" });
        Assert.That(r.State, Is.EqualTo("reuse-complete-sent"));
        await TestAgents.WaitUntilAsync(() => alice.Store.GetInvitation(second.Id)!.UseCount == 1, "Alice recording the reuse");
        Assert.That(agents.Events.Any(e => e.Agent == "Alice" && e.Event.Kind == AgentEvent.ReuseAccepted && e.Event.ConnectionId == aConn.Id), Is.True);
        Assert.That(alice.Store.Connections(), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_reuse_the_inviter_cannot_place_falls_back_to_a_new_handshake()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var first = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        var (aConn, bConn) = await ConnectAsync(alice, bob, first);
        alice.Store.Delete(aConn);   // "the inviter no longer has a record of the connection"
        var second = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true, ReuseAcceptTimeout = TimeSpan.FromSeconds(1) });
        Assert.That(r.Reused, Is.False);
        Assert.That(r.Connection!.Id, Is.Not.EqualTo(bConn.Id));
        await TestAgents.WaitForStateAsync(bob, r.Connection.Id, "completed");
    }

    [Test]
    public async Task Negotiation_answers_with_the_first_protocol_the_receiver_speaks()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var inv = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions
        {
            HandshakeProtocols = ["https://didcomm.org/unknown/9.0", "https://didcomm.org/connections/1.0"],
        });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(r.Connection!.Protocol, Is.EqualTo("connections/1.0"));
        var request = await TestAgents.WaitForAsync(() => agents.Wire.FirstOrDefault(w => w.Agent == "Alice" && w.Event.Direction == "in" && w.Event.Type?.EndsWith("/request") == true).Event,
            "Alice receiving the request");
        Assert.That(request.Type, Is.EqualTo("https://didcomm.org/connections/1.0/request"));
        Assert.That(request.Plaintext!["~thread"]!["pthid"]!.GetValue<string>(), Is.EqualTo(inv.Id));
        await TestAgents.WaitUntilAsync(() => alice.Store.GetInvitation(inv.Id)!.UseCount == 1, "Alice claiming the invitation");
    }

    [Test]
    public async Task A_didexchange_1_0_invitation_is_answered_in_1_0()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var inv = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = ["https://didcomm.org/didexchange/1.0", "https://didcomm.org/didexchange/1.1"] });
        await bob.OutOfBand.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        var request = await TestAgents.WaitForAsync(() => agents.Wire.FirstOrDefault(w => w.Agent == "Alice" && w.Event.Direction == "in" && w.Event.Type?.EndsWith("/request") == true).Event,
            "Alice receiving the request");
        Assert.That(request.Type, Is.EqualTo("https://didcomm.org/didexchange/1.0/request"));
    }

    [Test]
    public async Task A_single_use_invitation_refuses_a_second_receiver_and_a_multi_use_one_accepts_two()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var carol = (await agents.StartAsync("Carol")).Agent;

        var single = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        await ConnectAsync(alice, bob, single);
        var late = await carol.OutOfBand.ReceiveInvitationAsync(single.Invitation, new OobReceiveOptions());
        var refused = await TestAgents.WaitForAsync(() => carol.Store.GetConnection(late.Connection!.Id)?.ProblemReport, "Carol receiving a problem report");
        Assert.That(ProblemReports.CodeOf(refused), Is.EqualTo("request_not_accepted"));
        Assert.That(alice.Store.GetInvitation(single.Id)!.UseCount, Is.EqualTo(1));

        var multi = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { MultiUse = true });
        await ConnectAsync(alice, bob, multi);
        await ConnectAsync(alice, carol, multi);
        Assert.That(alice.Store.GetInvitation(multi.Id)!.UseCount, Is.EqualTo(2));
    }

    [Test]
    public async Task An_expired_invitation_is_refused_with_request_not_accepted()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var inv = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1) });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        var report = await TestAgents.WaitForAsync(() => bob.Store.GetConnection(r.Connection!.Id)?.ProblemReport, "Bob receiving a problem report");
        Assert.That(ProblemReports.CodeOf(report), Is.EqualTo("request_not_accepted"));
        Assert.That(report.ToJsonString(), Does.Contain("expired invitation"));
    }

    [Test]
    public async Task A_connectionless_ping_is_answered_over_http_to_the_invitations_service()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var inv = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [], Attachments = [Oob.Ping("ping-0000-0000-0010")] });
        var r = await bob.OutOfBand.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(r.State, Is.EqualTo("done"));
        var pong = await TestAgents.WaitForAsync(() => agents.Events.FirstOrDefault(e => e.Agent == "Alice" && e.Event.Kind == AgentEvent.TrustPingResponse).Event, "Alice's ping answered");
        Assert.That(pong.ThreadId, Is.EqualTo("ping-0000-0000-0010"));
        Assert.That(pong.Message!["~thread"]!["pthid"]!.GetValue<string>(), Is.EqualTo(inv.Id));
        Assert.That(alice.Store.Connections(), Is.Empty);
        Assert.That(bob.Store.Connections(), Is.Empty);
    }

    [Test]
    public async Task With_handshake_and_requests_attach_the_receiver_connects_first_then_answers_on_the_connection()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var inv = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { Attachments = [Oob.Ping("ping-0000-0000-0011")] });
        var (aConn, _) = await ConnectAsync(alice, bob, inv);
        var pong = await TestAgents.WaitForAsync(() => agents.Events.FirstOrDefault(e => e.Agent == "Alice" && e.Event.Kind == AgentEvent.TrustPingResponse && e.Event.ThreadId == "ping-0000-0000-0011").Event,
            "Alice's attached ping answered on the new connection");
        Assert.That(pong.ConnectionId, Is.EqualTo(aConn.Id));
        Assert.That(pong.Message!["~thread"]!["pthid"]!.GetValue<string>(), Is.EqualTo(inv.Id));
    }

    [Test]
    public async Task The_backchannel_receive_invitation_with_use_existing_connection_reports_the_reuse()
    {
        await using var agents = new TestAgents();
        var alice = (await agents.StartAsync("Alice")).Agent;
        var bobHost = await agents.StartAsync("Bob", host: new Conformance.Agent.Transport.AgentHostOptions { BackchannelPort = 0 });
        var bob = bobHost.Agent;
        var first = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        var (_, bConn) = await ConnectAsync(alice, bob, first);
        var second = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions { RecipientKey = first.RecipientKey });

        using var http = new HttpClient();
        var body = new JsonObject { ["data"] = second.Invitation.DeepClone() };
        body["data"]!["use_existing_connection"] = true;
        using var response = await http.PostAsync(new Uri(bobHost.BackchannelUrl!, "/agent/command/out-of-band/receive-invitation"),
            new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That((int)response.StatusCode, Is.EqualTo(200), json.ToJsonString());
        Assert.That(json["reused"]!.GetValue<bool>(), Is.True);
        Assert.That(json["connection_id"]!.GetValue<string>(), Is.EqualTo(bConn.Id));
    }

    [Test]
    public async Task The_backchannel_same_services_as_extension_makes_an_invitation_the_connected_receiver_reuses()
    {
        await using var agents = new TestAgents();
        var aliceHost = await agents.StartAsync("Alice", host: new Conformance.Agent.Transport.AgentHostOptions { BackchannelPort = 0 });
        var alice = aliceHost.Agent;
        var bob = (await agents.StartAsync("Bob")).Agent;
        var first = await alice.OutOfBand.CreateInvitationAsync(new OobInvitationOptions());
        var (aConn, bConn) = await ConnectAsync(alice, bob, first);

        using var http = new HttpClient();
        async Task<(int Status, JsonNode Json)> SendInvitation(JsonObject data)
        {
            using var response = await http.PostAsync(new Uri(aliceHost.BackchannelUrl!, "/agent/command/out-of-band/send-invitation-message"),
                new StringContent(new JsonObject { ["data"] = data }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        // Extension (not AATH): "same_services_as": the @id of an earlier out-of-band invitation of this agent.
        var (status, json) = await SendInvitation(new JsonObject
        {
            ["handshake_protocols"] = new JsonArray("https://didcomm.org/didexchange/1.1"),
            ["same_services_as"] = first.Id,
        });
        Assert.That(status, Is.EqualTo(200), json.ToJsonString());
        var second = (JsonObject)json["invitation"]!;
        Assert.That(second["@id"]!.GetValue<string>(), Is.Not.EqualTo(first.Id));
        Assert.That(JsonNode.DeepEquals(second["services"], first.Invitation["services"]), Is.True, second.ToJsonString());

        var r = await bob.OutOfBand.ReceiveInvitationAsync(second, new OobReceiveOptions { UseExistingConnection = true, ReuseAcceptTimeout = TimeSpan.FromSeconds(5) });
        Assert.That(r.Reused, Is.True);
        Assert.That(r.State, Is.EqualTo("reuse-accepted"));
        Assert.That(r.Connection!.Id, Is.EqualTo(bConn.Id));
        Assert.That(alice.Store.Connections().Select(c => c.Id), Is.EqualTo(new[] { aConn.Id }), "no second connection at the inviter");

        (status, json) = await SendInvitation(new JsonObject { ["same_services_as"] = "no-such-invitation" });
        Assert.That(status, Is.EqualTo(400), json.ToJsonString());
        Assert.That(json["error"]!.GetValue<string>(), Does.Contain("not an out-of-band invitation this agent created"));
    }
}
