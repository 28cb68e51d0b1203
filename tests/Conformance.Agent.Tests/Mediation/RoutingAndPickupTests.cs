using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Tests.Support;
using Conformance.Agent.Transport;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;
using static Conformance.Agent.Tests.Mediation.Flows;

namespace Conformance.Agent.Tests.Mediation;

/// <summary>RFC 0094 forward through a reference mediator, and RFC 0685 pickup 2.0 between reference agents (HTTP and WS).</summary>
public class RoutingAndPickupTests
{
    [Test]
    public async Task A_message_to_a_routed_did_is_queued_by_the_mediator_and_reaches_the_recipient_by_pickup()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        mediator.Agent.Mediation.DirectDelivery = false; // queue only: Bob has an endpoint, but must pick up
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var routingVerkey = Rfc0094.ToVerkey(bob.Agent.Mediation.RoutingFor(bobSide.Id)!.RoutingKeys[0]);

        // Bob's DID for Carol routes through the mediator; Carol sends to the service its DID doc declares.
        var bobDid = await bob.Agent.Mediation.CreateRoutedDidAsync(bobSide.Id, "peer:4");
        var docService = DidDocument.FromJson(bobDid.Document).DidCommServices().Single();
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, bob.Agent, bDid: bobDid);
        carolSide.TheirService = new ServiceRecord { RecipientKeys = [.. docService.RecipientKeys], RoutingKeys = [.. docService.RoutingKeys], Endpoint = docService.Endpoint };
        carol.Agent.Store.Save(carolSide);

        var pingId = await carol.Agent.TrustPing.SendPingAsync(carolSide);

        // The outer envelope Carol posted is anoncrypted to the mediator's routing key (RFC 0094 / RFC 0067 step 4).
        var posted = WireOf(agents, "Carol", "out").Single(e => e.Type?.EndsWith("/ping") == true);
        Assert.That(posted.Endpoint, Is.EqualTo(mediator.Agent.Endpoint));
        Assert.That(Rfc0019.RecipientKids(posted.Envelope!), Is.EqualTo(new[] { routingVerkey }));
        var forward = Single(agents, "Mediator", "in", "forward");
        Assert.That(Rfc0094.ToVerkey(Str(forward["to"])!), Is.EqualTo(bobDid.Key.Verkey));
        var queued = mediator.Agent.Store.Peek([bobDid.Key.Verkey], 10);
        Assert.That(queued, Has.Count.EqualTo(1), "queued durably before the forward was acknowledged");
        Assert.That(EventCount(agents, "Bob", AgentEvent.MessageReceived, pingId), Is.Zero, "nothing reached Bob yet");

        var status = await bob.Agent.Mediation.StatusRequestAsync(bobSide.Id);
        Assert.That(status["message_count"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(status["live_delivery"]!.GetValue<bool>(), Is.False);
        Assert.That(status["total_bytes"]!.GetValue<long>(), Is.EqualTo(queued[0].Envelope.Length));
        Assert.That(Thid(status), Is.EqualTo(Str(Single(agents, "Bob", "out", "status-request")["@id"])));
        Assert.That(Str(Single(agents, "Bob", "out", "status-request")["~transport"]!["return_route"]), Is.EqualTo("all"),
            "RFC 0685: each message MUST use ~transport.return_route all, even from an agent with an endpoint");
        // "When specified, the Mediator MUST only return status related to that recipient key" and echo it.
        var forKey = await bob.Agent.Mediation.StatusRequestAsync(bobSide.Id, Rfc0094.ToDidKey(bobDid.Key.Verkey));
        Assert.That((forKey["message_count"]!.GetValue<int>(), Str(forKey["recipient_key"])), Is.EqualTo((1, bobDid.Key.Verkey)));
        var otherKey = await bob.Agent.Mediation.StatusRequestAsync(bobSide.Id, bob.Agent.Wallet.CreateKey().Verkey);
        Assert.That(otherKey["message_count"]!.GetValue<int>(), Is.Zero);

        Assert.That(await bob.Agent.Mediation.PickupAsync(bobSide.Id), Is.EqualTo(1));
        Assert.That(EventCount(agents, "Bob", AgentEvent.MessageReceived, pingId), Is.EqualTo(1), "the ping was processed by Bob");
        await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, pingId, "Carol gets Bob's ping_response");

        // delivery: one attachment per envelope, @id = the queue id, content = the envelope; acknowledged by id.
        var delivery = Single(agents, "Mediator", "out", "delivery");
        Assert.That(Thid(delivery), Is.EqualTo(Str(Single(agents, "Bob", "out", "delivery-request")["@id"])));
        var attachment = AgentMessage.FromJson(delivery).Attachments("~attach").Single();
        Assert.That(attachment.Id, Is.EqualTo(queued[0].MessageId));
        Assert.That(attachment.Bytes(), Is.EqualTo(queued[0].Envelope));
        var received = Single(agents, "Mediator", "in", "messages-received");
        Assert.That(((JsonArray)received["message_id_list"]!).Select(Str), Is.EqualTo(new[] { queued[0].MessageId }));
        Assert.That(mediator.Agent.Store.QueueCount([bobDid.Key.Verkey]), Is.Zero, "removed after messages-received");

        Assert.That(await bob.Agent.Mediation.PickupAsync(bobSide.Id), Is.Zero, "an empty queue answers with status");
        Assert.That(Thid(Messages(agents, "Bob", "in", "status")[^1]), Is.EqualTo(Str(Messages(agents, "Bob", "out", "delivery-request")[^1]["@id"])));
        // "limit is a REQUIRED attribute": a non-positive limit is refused with a problem report.
        var bad = await Assert.ThrowsAsync<ProblemReportException>(() => bob.Agent.Mediation.PickupAsync(bobSide.Id, 0));
        Assert.That(bad!.Code, Is.EqualTo("e.p.msg"));
    }

    [Test]
    public async Task By_default_the_mediator_hands_a_forward_straight_on_to_a_recipient_with_an_endpoint()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var bobDid = await bob.Agent.Mediation.CreateRoutedDidAsync(bobSide.Id, "peer:4");
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, bob.Agent, bDid: bobDid);

        var pingId = await carol.Agent.TrustPing.SendPingAsync(carolSide);
        await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, pingId, "Carol gets Bob's ping_response without any pickup");
        Assert.That(Messages(agents, "Bob", "out", "delivery-request"), Is.Empty);
        // The mediator posted the inner envelope as it came (it cannot read it) to Bob's endpoint, then dropped its copy.
        // (Tapped when Bob's HTTP response returns, which can be after Bob already answered Carol.)
        var handedOn = await TestAgents.WaitForAsync(() => WireOf(agents, "Mediator", "out").SingleOrDefault(e => e.Transport == "http" && e.Plaintext == null),
            "the mediator's POST of the forwarded envelope");
        Assert.That(handedOn.Endpoint, Is.EqualTo(bob.Agent.Endpoint));
        Assert.That(Rfc0019.RecipientKids(handedOn.Envelope!), Is.EqualTo(new[] { bobDid.Key.Verkey }));
        await TestAgents.WaitUntilAsync(() => mediator.Agent.Store.QueueCount([bobDid.Key.Verkey]) == 0, "queue copy removed once delivered");
    }

    [Test]
    public async Task Live_mode_over_a_websocket_pushes_messages_without_a_delivery_request()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true, new AgentHostOptions { AdvertiseWs = true });
        var edge = await agents.StartAsync("Edge", null, new AgentHostOptions { NoInbound = true });
        var carol = await agents.StartAsync("Carol");
        var (mEdge, edgeSide) = await GrantedAsync(mediator, edge.Agent, ws: true);
        var edgeDid = await edge.Agent.Mediation.CreateRoutedDidAsync(edgeSide.Id, "peer:2");
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, edge.Agent, bDid: edgeDid);

        var on = await edge.Agent.Mediation.SetLiveModeAsync(edgeSide.Id, true);
        Assert.That(on["live_delivery"]!.GetValue<bool>(), Is.True, "RFC 0685: the mediator MUST respond with a status");
        Assert.That(Thid(on), Is.EqualTo(Str(Single(agents, "Edge", "out", "live-delivery-change")["@id"])));

        var pingId = await carol.Agent.TrustPing.SendPingAsync(carolSide);
        await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, pingId, "the edge got the ping live and answered");
        Assert.That(Messages(agents, "Edge", "out", "delivery-request"), Is.Empty, "no delivery-request in live mode");
        var pushed = WireOf(agents, "Mediator", "out").Single(e => e.Type?.EndsWith("messagepickup/2.0/delivery") == true);
        Assert.That(pushed.Transport, Is.EqualTo("return-route"), "pushed on the edge's WebSocket");
        Assert.That(Thid(pushed.Plaintext!), Is.Null, "an unsolicited push belongs to no request's thread");
        await TestAgents.WaitUntilAsync(() => mediator.Agent.Store.QueueCount([edgeDid.Key.Verkey]) == 0, "acknowledged and removed");
        Assert.That(Messages(agents, "Edge", "out", "messages-received"), Has.Count.EqualTo(1));

        // Live mode off: with the WebSocket still open (return_route all), the mediator still hands messages on, as
        // the bare envelope (RFC 0685 §Motivation: the implicit pickup over a return route).
        var off = await edge.Agent.Mediation.SetLiveModeAsync(edgeSide.Id, false);
        Assert.That(off["live_delivery"]!.GetValue<bool>(), Is.False);
        var ping2 = await carol.Agent.TrustPing.SendPingAsync(carolSide);
        await WaitForEventAsync(agents, "Carol", AgentEvent.TrustPingResponse, ping2, "second ping answered");
        Assert.That(WireOf(agents, "Mediator", "out").Count(e => e.Type?.EndsWith("messagepickup/2.0/delivery") == true), Is.EqualTo(1), "no live push after live mode off");
        Assert.That(WireOf(agents, "Mediator", "out").Any(e => e.Transport == "return-route" && e.Plaintext == null), "bare envelope on the return route");
        Assert.That(mediator.Agent.Store.GetMediation(mEdge.Id)!.RecipientKeys, Does.Contain(edgeDid.Key.Verkey));
    }

    [Test]
    public async Task Live_mode_over_http_is_refused_with_a_live_mode_not_supported_problem_report()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);

        var refused = await Assert.ThrowsAsync<ProblemReportException>(() => bob.Agent.Mediation.SetLiveModeAsync(bobSide.Id, true));
        Assert.That(refused!.Code, Is.EqualTo("e.m.live-mode-not-supported"));
        var change = Single(agents, "Bob", "out", "live-delivery-change");
        var report = Single(agents, "Bob", "in", "problem-report");
        // RFC 0685 §Live Mode Change example: notification/1.0/problem-report, ~thread.pthid = the offending message.
        Assert.That(Str(report["@type"]), Is.EqualTo("https://didcomm.org/notification/1.0/problem-report"));
        Assert.That(Str(report["~thread"]!["pthid"]), Is.EqualTo(Str(change["@id"])));
        Assert.That(Str(report["description"]!["en"]), Does.StartWith("Connection does not support Live Delivery"));
        Assert.That(WireOf(agents, "Mediator", "out").Single(e => e.Type?.EndsWith("/problem-report") == true).Transport, Is.EqualTo("return-route"),
            "answered on the HTTP response (return_route all)");

        var status = await bob.Agent.Mediation.StatusRequestAsync(bobSide.Id);
        Assert.That(status["live_delivery"]!.GetValue<bool>(), Is.False, "live mode stayed off");
    }

    [Test]
    public async Task A_forward_for_an_unregistered_key_is_refused_with_400_and_noted_and_a_non_mediator_refuses_forwards()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var carol = await agents.StartAsync("Carol");
        var dave = await agents.StartAsync("Dave");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);

        // Bob advertises the route but never registered the key (no keylist-update).
        var unregistered = MyDids.Create(bob.Agent, "peer:4", bob.Agent.Mediation.RoutingFor(bobSide.Id));
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, bob.Agent, bDid: unregistered);
        var refused = await Assert.ThrowsAsync<DeliveryException>(() => carol.Agent.TrustPing.SendPingAsync(carolSide));
        Assert.That(refused!.Message, Does.Contain("HTTP 400"));
        var note = WireOf(agents, "Mediator", "in").Single(e => e.Note?.StartsWith("rejected:") == true);
        Assert.That(note.Note, Does.Contain("no recipient of this mediator registered the key"));
        Assert.That(note.Type, Does.EndWith("routing/1.0/forward"));
        Assert.That(mediator.Agent.Store.QueueCount([unregistered.Key.Verkey]), Is.Zero);

        // Dave mediates for no one: a forward to one of his keys for a key he does not hold is refused as such.
        var daveRouting = dave.Agent.Wallet.CreateKey().Verkey;
        var ping = carol.Agent.NewMessage("https://didcomm.org/trust_ping/1.0/ping");
        var notMediator = await Assert.ThrowsAsync<DeliveryException>(() => carol.Agent.Outbound.SendToServiceAsync(ping,
            new ServiceRecord { RecipientKeys = [carol.Agent.Wallet.CreateKey().Verkey], RoutingKeys = [Rfc0094.ToDidKey(daveRouting)], Endpoint = dave.Agent.Endpoint! }, null, null));
        Assert.That(notMediator!.Message, Does.Contain("HTTP 400"));
        Assert.That(WireOf(agents, "Dave", "in").Single(e => e.Note != null).Note, Does.Contain("not a mediator"));
    }

    [Test]
    public async Task A_forward_without_to_is_refused_with_400()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        var bob = await agents.StartAsync("Bob");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var routingVerkey = Rfc0094.ToVerkey(bob.Agent.Mediation.RoutingFor(bobSide.Id)!.RoutingKeys[0]);
        var inner = Rfc0019.Pack("{}", [bob.Agent.Wallet.CreateKey().Verkey], null, Conformance.Wire.Crypto.Entropy.System);
        // RFC 0094: "The `to` field is required".
        var forward = new JsonObject { ["@type"] = Rfc0094.ForwardType, ["@id"] = Guid.NewGuid().ToString(), ["msg"] = JsonNode.Parse(inner) };
        var outer = Rfc0019.Pack(forward.ToJsonString(), [routingVerkey], null, Conformance.Wire.Crypto.Entropy.System);
        using var http = new HttpClient();
        using var content = new StringContent(outer, System.Text.Encoding.UTF8, "application/didcomm-envelope-enc");
        using var response = await http.PostAsync(mediator.HttpEndpoint, content);
        Assert.That((int)response.StatusCode, Is.EqualTo(400));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();
        Assert.That(error, Does.StartWith("forward rejected:").And.Contain("has no \"to\""));
        Assert.That(WireOf(agents, "Mediator", "in").Single(e => e.Note != null).Note, Does.Contain("forward message has no \"to\""));
    }

    [Test]
    public async Task A_recipient_cannot_acknowledge_away_another_recipients_messages()
    {
        await using var agents = new TestAgents();
        var mediator = await agents.StartAsync("Mediator", o => o.Mediator = true);
        mediator.Agent.Mediation.DirectDelivery = false;
        var bob = await agents.StartAsync("Bob");
        var eve = await agents.StartAsync("Eve");
        var carol = await agents.StartAsync("Carol");
        var (_, bobSide) = await GrantedAsync(mediator, bob.Agent);
        var (_, eveSide) = await GrantedAsync(mediator, eve.Agent);
        var bobDid = await bob.Agent.Mediation.CreateRoutedDidAsync(bobSide.Id, "peer:4");
        var (carolSide, _) = PreEstablished.Connect(carol.Agent, bob.Agent, bDid: bobDid);
        await carol.Agent.TrustPing.SendPingAsync(carolSide);
        var queuedId = mediator.Agent.Store.Peek([bobDid.Key.Verkey], 10).Single().MessageId;

        // Eve sees nothing of Bob's queue, and her messages-received naming Bob's message id removes nothing.
        Assert.That((await eve.Agent.Mediation.StatusRequestAsync(eveSide.Id))["message_count"]!.GetValue<int>(), Is.Zero);
        Assert.That((await eve.Agent.Mediation.StatusRequestAsync(eveSide.Id, bobDid.Key.Verkey))["message_count"]!.GetValue<int>(), Is.Zero);
        Assert.That(await eve.Agent.Mediation.PickupAsync(eveSide.Id), Is.Zero);
        var ack = eve.Agent.NewMessage("https://didcomm.org/messagepickup/2.0/messages-received").With("message_id_list", new JsonArray(queuedId));
        await eve.Agent.Outbound.SendAsync(ack, eve.Agent.Store.GetConnection(eveSide.Id)!);
        await TestAgents.WaitUntilAsync(() => Messages(agents, "Mediator", "in", "messages-received").Count == 1, "Eve's ack arrived");
        Assert.That(mediator.Agent.Store.QueueCount([bobDid.Key.Verkey]), Is.EqualTo(1), "Bob's message is still queued");
        Assert.That(await bob.Agent.Mediation.PickupAsync(bobSide.Id), Is.EqualTo(1));
    }

    [Test]
    public async Task A_forward_whose_to_is_our_own_key_is_opened_and_processed()
    {
        await using var agents = new TestAgents();
        var carol = await agents.StartAsync("Carol");
        var dave = await agents.StartAsync("Dave");
        var outer = dave.Agent.Wallet.CreateKey().Verkey;
        var inner = dave.Agent.Wallet.CreateKey().Verkey;
        var ping = carol.Agent.NewMessage("https://didcomm.org/trust_ping/1.0/ping").With("response_requested", false);
        // RFC 0094: "When the Receiver Agent receives the message, it determines it is the target of the forward message, decrypts the payload and processes the message."
        await carol.Agent.Outbound.SendToServiceAsync(ping, new ServiceRecord { RecipientKeys = [inner], RoutingKeys = [outer], Endpoint = dave.Agent.Endpoint! }, null, null);
        await WaitForEventAsync(agents, "Dave", AgentEvent.MessageReceived, ping.Id, "Dave processed the inner ping");
    }
}
