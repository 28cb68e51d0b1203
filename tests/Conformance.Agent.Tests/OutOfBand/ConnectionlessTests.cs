using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Tests.OutOfBand;

/// <summary>
/// requests~attach without handshake_protocols: the connectionless ("ephemeral", seed 002) mode of RFC 0434 —
/// "If only the requests~attach item is included, no new connection is expected to be created ... The receiver
/// responds to one of the messages in the requests~attach array."
/// </summary>
public class ConnectionlessTests
{
    private static Task<InvitationRecord> ConnectionlessInvitation(Peer alice, params JsonObject[] requests) =>
        alice.Oob.CreateInvitationAsync(new OobInvitationOptions { HandshakeProtocols = [], Attachments = [.. requests] });

    [Test]
    public async Task An_attached_ping_is_answered_over_the_invitations_service_with_the_invitation_as_pthid()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var ping = Oob.Ping("ping-0000-0000-0001");
        var inv = await ConnectionlessInvitation(alice, ping);

        var result = await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(result.Connection, Is.Null);
        Assert.That(result.Reused, Is.False);
        Assert.That(result.State, Is.EqualTo("done"));
        Assert.That(bob.Agent.Store.Connections(), Is.Empty, "no connection is created");
        Assert.That(bob.EventsOf(AgentEvent.MessageReceived).Single().ThreadId, Is.EqualTo(ping["@id"]!.GetValue<string>()));

        // Encrypted to the invitation's key (only Alice can open it); anoncrypted: the response expects nothing further.
        var response = await Courier.CarryOneAsync(bob, alice, inv.RecipientKey);
        Assert.That(response.Envelope.Mode, Is.EqualTo(EnvelopeMode.Anoncrypt));
        Assert.That(response.Envelope.RecipientVerkey, Is.EqualTo(inv.RecipientKey));
        Assert.That(response.Message.Type.ToString(), Is.EqualTo("https://didcomm.org/trust_ping/1.0/ping_response"));
        // RFC 0048: ping_response ~thread.thid = the ping's @id. RFC 0434: "The response to an out-of-band message MUST
        // set its ~thread.pthid equal to the @id property of the out-of-band message."
        Assert.That(response.Message.Thread!.Thid, Is.EqualTo("ping-0000-0000-0001"));
        Assert.That(response.Message.Thread.Pthid, Is.EqualTo(inv.Id));
        Assert.That(response.Json.ContainsKey("~service"), Is.False);

        // Alice's trust ping handler takes it as the answer to her ping.
        var pong = alice.EventsOf(AgentEvent.TrustPingResponse).Single();
        Assert.That(pong.ThreadId, Is.EqualTo("ping-0000-0000-0001"));
        Assert.That(pong.ConnectionId, Is.Null);
    }

    [Test]
    public async Task A_ping_that_asks_for_no_response_gets_none()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var inv = await ConnectionlessInvitation(alice, Oob.Ping("ping-0000-0000-0002", responseRequested: false));
        var result = await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(result.State, Is.EqualTo("done"));
        Assert.That(Courier.Queued(bob, inv.RecipientKey), Is.Zero);
        Assert.That(bob.EventsOf(AgentEvent.MessageReceived), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_attached_basic_message_is_recorded_and_not_answered()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var inv = await ConnectionlessInvitation(alice, Oob.BasicMessage("msg-0000-0000-0001", "Your table is ready"));
        var result = await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        Assert.That(result.State, Is.EqualTo("done"));
        var received = bob.EventsOf(AgentEvent.MessageReceived).Single();
        Assert.That(received.Message!["content"]!.GetValue<string>(), Is.EqualTo("Your table is ready"));
        Assert.That(received.ConnectionId, Is.Null);
        Assert.That(Courier.Queued(bob, inv.RecipientKey), Is.Zero);
    }

    [Test]
    public async Task The_first_attached_request_this_agent_can_answer_is_the_one_answered()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var proofRequest = new JsonObject { ["@type"] = "https://didcomm.org/present-proof/2.0/request-presentation", ["@id"] = "proof-0000-0001" };
        var inv = await ConnectionlessInvitation(alice, proofRequest, Oob.Ping("ping-0000-0000-0003"), Oob.BasicMessage("msg-0000-0000-0002", "x"));
        await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());
        var response = await Courier.CarryOneAsync(bob, alice, inv.RecipientKey, deliver: false);
        Assert.That(response.Message.Thread!.Thid, Is.EqualTo("ping-0000-0000-0003"));
        Assert.That(bob.EventsOf(AgentEvent.MessageReceived), Has.Count.EqualTo(1), "one request is answered, not all");
    }

    [Test]
    public async Task An_invitation_whose_requests_this_agent_cannot_answer_is_refused_clearly()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var offer = new JsonObject { ["@type"] = "https://didcomm.org/issue-credential/2.0/offer-credential", ["@id"] = "offer-0000-0001" };
        var inv = await ConnectionlessInvitation(alice, offer);
        var e = await Assert.ThrowsAsync<OutOfBandException>(() => bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions()));
        Assert.That(e!.Message, Does.Contain("none of the requests~attach messages can be answered").And.Contain("issue-credential/2.0/offer-credential"));
    }

    [Test]
    public async Task Services_are_tried_in_the_senders_order()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var inv = await ConnectionlessInvitation(alice, Oob.Ping("ping-0000-0000-0004"));
        var json = (JsonObject)inv.Invitation.DeepClone();
        var dead = (JsonObject)json["services"]![0]!.DeepClone();
        dead["serviceEndpoint"] = "http://127.0.0.1:1";   // nothing listens on port 1: connection refused
        ((JsonArray)json["services"]!).Insert(0, dead);

        var result = await bob.Oob.ReceiveInvitationAsync(json, new OobReceiveOptions());
        Assert.That(result.State, Is.EqualTo("done"));
        Assert.That(Courier.Queued(bob, inv.RecipientKey), Is.EqualTo(1), "delivered through the second service after the first refused");

        ((JsonArray)json["services"]!).RemoveAt(1);
        var e = await Assert.ThrowsAsync<Conformance.Agent.Transport.DeliveryException>(() => bob.Oob.ReceiveInvitationAsync(json, new OobReceiveOptions()));
        Assert.That(e!.Message, Does.Contain("none of the invitation's services took the message").And.Contain("127.0.0.1:1"));
    }

    [Test]
    public async Task A_connectionless_message_that_expects_a_response_carries_a_service_decorator_and_the_ping_is_answered_there()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var inv = await ConnectionlessInvitation(alice, Oob.BasicMessage("msg-0000-0000-0003", "ping me"));
        await bob.Oob.ReceiveInvitationAsync(inv.Invitation, new OobReceiveOptions());

        // Bob answers with a message that needs a response: "the receiver must include a ~service decorator for the
        // sender to use in responding".
        var ping = AgentMessage.FromJson(Oob.Ping("ping-0000-0000-0005"));
        var sent = await bob.Oob.SendConnectionlessAsync(inv.Invitation, ping, expectResponse: true);
        var service = (JsonObject)sent.Json["~service"]!;
        var bobKey = Oob.Strings(service["recipientKeys"]).Single();
        Assert.That(bob.Agent.Wallet.Holds(bobKey), Is.True, "a key of Bob's for this exchange");
        Assert.That(sent.Thread!.Pthid, Is.EqualTo(inv.Id));

        var carried = await Courier.CarryOneAsync(bob, alice, inv.RecipientKey);
        Assert.That(carried.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(carried.Envelope.SenderVerkey, Is.EqualTo(bobKey), "authcrypted from the key in ~service");
        Assert.That(carried.Connection, Is.Null);

        // Alice's trust ping handler answers to the ~service (TrustPing/TrustPingProtocol.cs); Bob opens it with that key.
        var pong = await Courier.CarryOneAsync(alice, bob, bobKey);
        Assert.That(pong.Message.Type.Name, Is.EqualTo("ping_response"));
        Assert.That(pong.Message.Thread!.Thid, Is.EqualTo("ping-0000-0000-0005"));
        Assert.That(pong.Envelope.SenderVerkey, Is.EqualTo(inv.RecipientKey));
        Assert.That(bob.EventsOf(AgentEvent.TrustPingResponse).Single().ThreadId, Is.EqualTo("ping-0000-0000-0005"));
    }

    [Test]
    public async Task With_an_existing_connection_the_attached_request_is_answered_on_it_instead_of_a_reuse_message()
    {
        await using var alice = new Peer("Alice");
        await using var bob = new Peer("Bob");
        var first = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions());
        var (aliceConn, bobConn) = Handshake.ByHand(alice, bob, first);
        var second = await alice.Oob.CreateInvitationAsync(new OobInvitationOptions
        {
            RecipientKey = first.RecipientKey,
            Attachments = [Oob.Ping("ping-0000-0000-0006")],
        });

        // "If the receiver desires to reuse the existing connection and a requests~attach item is included in the
        // message, the receiver SHOULD respond to one of the attached messages using the existing connection."
        var result = await bob.Oob.ReceiveInvitationAsync(second.Invitation, new OobReceiveOptions { UseExistingConnection = true });
        Assert.That(result.Reused, Is.True);
        Assert.That(result.Connection!.Id, Is.EqualTo(bobConn.Id));
        Assert.That(result.State, Is.EqualTo("done"));
        Assert.That(Courier.Queued(bob, second.RecipientKey), Is.Zero, "nothing to the invitation's service");

        var response = await Courier.CarryOneAsync(bob, alice, aliceConn.MyVerkey!);
        Assert.That(response.Envelope.Mode, Is.EqualTo(EnvelopeMode.Authcrypt));
        Assert.That(response.Connection?.Id, Is.EqualTo(aliceConn.Id));
        Assert.That(response.Message.Type.Name, Is.EqualTo("ping_response"));
        Assert.That(response.Message.Thread!.Thid, Is.EqualTo("ping-0000-0000-0006"));
        Assert.That(response.Message.Thread.Pthid, Is.EqualTo(second.Id));
        Assert.That(bob.EventsOf(AgentEvent.MessageReceived).Single().ConnectionId, Is.EqualTo(bobConn.Id));
    }
}
