using System.Text.Json.Nodes;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Envelopes;

namespace Conformance.Suites.Rfc0685;

/// <summary>The agent under test as mediator: a reference recipient whose endpoint goes offline once it is mediated, and a reference sender.</summary>
public static class MediatorUnderTest
{
    public sealed record Setup(Link Recipient, string RecipientKey, string OtherKey, ReferencePeer Sender, string RoutingKey, string Endpoint);

    /// <summary>
    /// "Acme requests mediation from Bob" with Bob = AUT; Acme registers a fresh key and then goes offline (its endpoint
    /// stops answering, so the mediator must hold its mail), and a sender (Faber) is ready to forward to it through the
    /// AUT. Acme still reaches the mediator and gets answers on return-route, like a mobile wallet.
    /// </summary>
    public static async Task<Setup> PrepareAsync(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        var acme = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var r = await acme.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var autId = await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        var pc = await Flows.PeerStateAsync(c, acme, r.Connection!.Id, "The recipient connects to the mediator.", "completed");
        await acme.Agent.Mediation.RequestMediationAsync(pc.Id);
        if (await Mediations.AutMediationStateAsync(c, autId) is not "granted")
        {
            try { await c.Backchannel.MediationSendGrantAsync(autId); }
            catch (BackchannelException e) when (e.Status == 400) { /* granted automatically meanwhile */ }
        }
        var record = await acme.Agent.Mediation.WaitForMediationAsync(pc.Id);
        c.Must("The mediator grants mediation (RFC 0211).", record.State == "granted", "granted", record.State);
        var key = acme.Agent.Wallet.CreateKey().Verkey;
        await acme.Agent.Mediation.RegisterKeyAsync(pc.Id, key);
        var other = acme.Agent.Wallet.CreateKey().Verkey;
        await acme.Agent.Mediation.RegisterKeyAsync(pc.Id, other);
        await acme.GoOfflineAsync();
        var faber = await c.PeerAsync("Faber", o => o.AutoAccept = true);
        return new Setup(new Link(acme, autId, pc.Id), key, other, faber, Flows.Verkey(record.RoutingKeys[0])!, record.Endpoint!);
    }

    /// <summary>Faber sends a plaintext message to the recipient key through the mediator; returns the inner envelope.</summary>
    public static async Task<string> ForwardAsync(CaseContext c, Setup s, string note)
    {
        var msg = s.Sender.Agent.NewMessage("https://didcomm.org/basicmessage/1.0/message");
        msg.Json["content"] = note;
        msg.Json["sent_time"] = "2024-01-01T00:00:00Z";
        var inner = Wire.Envelopes.Rfc0019.Pack(msg.Json.ToJsonString(), [s.RecipientKey], null, Wire.Crypto.Entropy.System);
        var wrapped = Rfc0094.Wrap(inner, s.RecipientKey, [s.RoutingKey], Wire.Crypto.Entropy.System);
        using var http = new HttpClient();
        using var content = Flows.EnvelopeContent(wrapped);
        if (!s.Endpoint.StartsWith("http")) throw CaseContext.Unsupported("the mediator's endpoint is not HTTP: " + s.Endpoint);
        using var resp = await http.PostAsync(s.Endpoint, content);
        c.Must("The mediator accepts the forward (HTTP 2xx).", resp.IsSuccessStatusCode, "HTTP 2xx", "HTTP " + (int)resp.StatusCode);
        return inner;
    }
}

[Suite("RFC0685", "Pickup Protocol 2.0", "aries-rfcs/0685-pickup-v2/README.md")]
public static class Rfc0685Pickup
{
    [Case("RFC0094-FORWARD-001",
        "The mediator accepts a forward whose `to` is a key registered by a recipient it mediates for, and holds the attached message for that recipient (RFC 0094 / RFC 0046: a mediator is a routing agent for its recipients).",
        Section = "basic-walkthrough", Aath = "T002-RFC0211 (Faber reaches Acme through Bob)")]
    public static async Task Mediator_holds_a_forward_for_its_recipient(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        var inner = await MediatorUnderTest.ForwardAsync(c, s, "hello through the mediator");
        var delivered = await s.Recipient.Peer.Agent.Mediation.PickupAsync(s.Recipient.PeerConnectionId, 10);
        c.Must("The recipient picks the message up from the mediator.", delivered >= 1, "≥ 1 message", delivered.ToString());
        var got = c.Tap.Events.Any(e => e.Direction == "in" && e.Type?.EndsWith("basicmessage/1.0/message") == true);
        c.Must("The delivered envelope is the one the sender forwarded (the recipient opens it).", got, "the basicmessage", Flows.Received(c));
    }

    [Case("RFC0685-STATUS-001",
        "Status Request: sent by the Recipient to the Mediator to request a status message; the Mediator answers with status, whose message_count is the number of messages waiting.",
        Section = "status-request")]
    public static async Task Mediator_reports_the_queue(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        await MediatorUnderTest.ForwardAsync(c, s, "one");
        await MediatorUnderTest.ForwardAsync(c, s, "two");
        var status = await s.Recipient.Peer.Agent.Mediation.StatusRequestAsync(s.Recipient.PeerConnectionId);
        var count = status["message_count"]?.GetValue<int>();
        c.Must("status.message_count counts the waiting messages.", count == 2, "2", count?.ToString() ?? status.ToJsonString());
    }

    [Case("RFC0685-STATUS-002",
        "recipient_key is optional. When specified, the Mediator MUST only return status related to that recipient key; the matching value MUST be specified in the status message.",
        Section = "status-request")]
    public static async Task Mediator_filters_status_by_recipient_key(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        await MediatorUnderTest.ForwardAsync(c, s, "for the first key");
        var other = s.OtherKey;
        var status = await s.Recipient.Peer.Agent.Mediation.StatusRequestAsync(s.Recipient.PeerConnectionId, other);
        c.Must("Only messages for the named key are counted.", status["message_count"]?.GetValue<int>() == 0, "0", status.ToJsonString());
        c.Must("The status names the recipient_key it counted.", Flows.Verkey(Flows.OptStr(status, "recipient_key")) == other, other, Flows.OptStr(status, "recipient_key"));
    }

    [Case("RFC0685-DELIVERY-001",
        "Delivery Request: the Mediator SHOULD deliver up to the limit indicated; messages are delivered as attachments whose @id is the message id and whose data is the message.",
        Section = "delivery-request")]
    public static async Task Mediator_delivers_queued_messages_as_attachments(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        var inner = await MediatorUnderTest.ForwardAsync(c, s, "deliver me");
        await s.Recipient.Peer.Agent.Mediation.PickupAsync(s.Recipient.PeerConnectionId, 1);
        var delivery = await Flows.ExpectFromAutAsync(c, "delivery", "The mediator answers delivery-request with delivery.");
        var atts = delivery["~attach"] as JsonArray;
        c.Must("delivery carries the messages in ~attach.", atts is { Count: 1 }, "1 attachment (limit 1)", delivery.ToJsonString());
        var att = Wire.Messages.Attachment.FromJson((JsonObject)atts![0]!);
        c.Must("Each attachment has an @id (the message id used in messages-received).", att.Id is { Length: > 0 }, "@id", atts[0]!.ToJsonString());
        var bytes = att.Json != null ? System.Text.Encoding.UTF8.GetBytes(att.Json.ToJsonString()) : att.Bytes();
        c.Must("The attachment is the envelope the sender forwarded, unchanged.",
            JsonNode.DeepEquals(JsonNode.Parse(bytes), JsonNode.Parse(inner)), "the forwarded envelope", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Case("RFC0685-DELIVERY-002",
        "If no messages are available to be sent, a status message MUST be sent immediately.", Section = "delivery-request")]
    public static async Task Mediator_answers_an_empty_delivery_request_with_status(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        var n = await s.Recipient.Peer.Agent.Mediation.PickupAsync(s.Recipient.PeerConnectionId, 10);
        var status = await c.ReceivedAsync("status");
        c.Must("An empty queue answers delivery-request with status.", status != null && n == 0, "status with message_count 0", Flows.Received(c));
    }

    [Case("RFC0685-DELIVERY-003",
        "Delivered messages MUST NOT be deleted until delivery is acknowledged by a messages-received message.", Section = "delivery-request")]
    public static async Task Mediator_keeps_messages_until_acknowledged(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        await MediatorUnderTest.ForwardAsync(c, s, "keep me");
        var recipient = s.Recipient.Peer.Agent;
        var conn = s.Recipient.PeerConnection;
        // A recipient that does not acknowledge: its messages-received is replaced by a ping that asks for nothing.
        recipient.Misbehaviour.Add(new Agent.Misbehaviour.MisbehaviourRule("messages-received", "the recipient never acknowledges delivery")
        {
            Once = false,
            Mutate = m => new JsonObject { ["@type"] = "https://didcomm.org/trust_ping/1.0/ping", ["@id"] = m["@id"]!.DeepClone(), ["response_requested"] = false },
        });
        var req = recipient.NewMessage("https://didcomm.org/messagepickup/2.0/delivery-request");
        req.Json["limit"] = 10;
        req.Json["~transport"] = new JsonObject { ["return_route"] = "all" };
        await recipient.Outbound.SendAsync(req, conn);
        await Flows.ExpectFromAutAsync(c, "delivery", "The mediator delivers.");
        c.Must("The recipient did not acknowledge.", Flows.SentByPeer(c, "messages-received") == null, "no messages-received", "sent");
        var status = await recipient.Mediation.StatusRequestAsync(conn.Id);
        c.Must("The unacknowledged message is still queued.", status["message_count"]?.GetValue<int>() == 1, "1", status.ToJsonString());
    }

    [Case("RFC0685-RECEIVED-001",
        "Messages Received: upon receipt of this message, the Mediator knows which messages have been received, and can remove them from the collection of queued messages.",
        Section = "messages-received")]
    public static async Task Mediator_removes_acknowledged_messages(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        await MediatorUnderTest.ForwardAsync(c, s, "ack me");
        var n = await s.Recipient.Peer.Agent.Mediation.PickupAsync(s.Recipient.PeerConnectionId, 10);
        c.Must("The message is delivered.", n == 1, "1", n.ToString());
        c.Must("The recipient acknowledged it with messages-received.", Flows.SentByPeer(c, "messages-received") != null, "messages-received", "none");
        var status = await s.Recipient.Peer.Agent.Mediation.StatusRequestAsync(s.Recipient.PeerConnectionId);
        c.Must("The queue is empty after messages-received.", status["message_count"]?.GetValue<int>() == 0, "0", status.ToJsonString());
    }

    [Case("RFC0685-LIVE-001",
        "Live Mode MUST only be enabled when a persistent transport is used, such as WebSockets. If sent with live_delivery set to true on a connection incapable of live delivery, a problem_report SHOULD be sent.",
        Level = Level.SHOULD, Section = "live-mode")]
    public static async Task Mediator_refuses_live_mode_over_http(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        try { await s.Recipient.Peer.Agent.Mediation.SetLiveModeAsync(s.Recipient.PeerConnectionId, true); }
        catch (Exception e) when (e is not CaseFailedException) { c.Note("live-delivery-change: " + e.Message); }
        var report = await c.ReceivedAsync("problem-report") ?? await c.ReceivedAsync("problem_report");
        c.Should("The mediator answers live mode over HTTP with a problem report.", report != null, "problem-report (e.m.live-mode-not-supported)", Flows.Received(c));
    }

    [Case("RFC0685-LIVE-002",
        "Upon receiving the live_delivery_change message, the Mediator MUST respond with a status message; in live mode newly arriving messages are delivered directly to the connected Recipient.",
        Level = Level.MUST, Section = "live-mode", Description = "The recipient opens a WebSocket to the mediator and turns live mode on.")]
    public static async Task Mediator_delivers_live_over_websocket(CaseContext c)
    {
        var s = await MediatorUnderTest.PrepareAsync(c);
        var recipient = s.Recipient.Peer.Agent;
        var conn = s.Recipient.PeerConnection;
        var ws = conn.TheirService!.Endpoint.Replace("http://", "ws://");
        if (!s.Endpoint.StartsWith("http")) throw CaseContext.Unsupported("the mediator has no HTTP endpoint to derive a WebSocket from");
        conn.TheirService.Endpoint = ws;
        recipient.Store.Save(conn);
        JsonObject status;
        try { status = await recipient.Mediation.SetLiveModeAsync(conn.Id, true); }
        catch (Exception e) when (e is not CaseFailedException) { throw CaseContext.Unsupported($"the mediator does not accept WebSocket connections at {ws}: {e.Message}"); }
        c.Must("The mediator answers live-delivery-change with status.", status["live_delivery"] != null || status["message_count"] != null, "status", status.ToJsonString());
        await MediatorUnderTest.ForwardAsync(c, s, "live!");
        var got = await c.Tap.WaitAsync(e => e.Direction == "in" && e.Type?.EndsWith("basicmessage/1.0/message") == true, c.Timeout);
        c.Must("The forwarded message arrives without a delivery-request.", got != null, "the basicmessage pushed over the socket", Flows.Received(c));
    }
}
