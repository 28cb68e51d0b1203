using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

// What the Identus feature files do not test: mail that must survive clients that come and go, replays, bursts,
// long-lived WebSockets and reconnects (Identus mediator issue #311), half-dead sockets.
[Suite("MEDIATOR", "Mediator robustness", "didcomm-v2-protocols/messagepickup-3.0.md#live-mode", Target = CaseTarget.Mediator)]
public static class MediatorRobustness
{
    [Case("MEDIATOR-QUEUE-001",
        "Every forward the mediator acknowledged is queued exactly once: \"Messages that arrive when Live Mode is off MUST be stored in the queue for retrieval\", and the status's message_count (REQUIRED) counts them.",
        Section = "live-mode",
        Description = "Twenty forwards sent back to back; the status counts twenty; delivery returns twenty distinct messages, each once; after messages-received nothing is left. (Concurrent load is the bench's job: here the wire log must be the same every run.)")]
    public static async Task Twenty_forwards_are_queued_exactly_once(CaseContext c)
    {
        const int n = 20;
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        var answers = new List<V2HttpResult>();
        for (var i = 1; i <= n; i++)
        {
            var w = WrapForward(sender, r.RecipientDid, $"burst {i:00} of {n}");
            answers.Add(await sender.PostEnvelopeAsync(w.Envelope, w.Forward));
        }
        c.Must("Every forward is accepted (HTTP 2xx).", answers.All(IsAccepted), "20 × HTTP 202",
            string.Join(", ", answers.GroupBy(a => a.StatusCode).Select(g => $"{g.Count()} × HTTP {g.Key}")));
        var status = await StatusAsync(c, r.Client);
        c.Must("The status counts every acknowledged forward once.", status.MessageCount == n, $"message_count {n}", $"message_count {status.MessageCount}");
        var delivery = await DeliveryRequestAsync(c, r.Client, 100);
        var texts = Open(c, r.Client, delivery.Messages);
        var expected = Enumerable.Range(1, n).Select(i => $"burst {i:00} of {n}").ToList();
        c.Must("Each forwarded message is delivered exactly once.", texts.Count == n && texts.ToHashSet().SetEquals(expected),
            $"{n} distinct messages", $"{texts.Count} delivered, {texts.Distinct().Count()} distinct, missing: {string.Join(", ", expected.Except(texts).Take(5))}");
        c.Must("Each delivered attachment has its own id.", delivery.Messages.Select(m => m.Id).Distinct().Count() == delivery.Messages.Count,
            "distinct attachment ids", string.Join(", ", delivery.Messages.Select(m => m.Id)));
        await MessagesReceivedAsync(c, r.Client, delivery.Messages.Select(m => m.Id));
        var after = await StatusAsync(c, r.Client);
        c.Should("After messages-received nothing is left.", after.MessageCount == 0, "message_count 0", $"message_count {after.MessageCount}");
    }

    [Case("MEDIATOR-QUEUE-002",
        "Queued messages are handed out in the order they arrived. (Pickup 3.0 states no order; a recipient processing a conversation expects it — SHOULD.)",
        Level = Level.SHOULD, Section = "live-mode",
        Description = "Three forwards sent one after another; delivery-request with limit 1, three times, acknowledging each.")]
    public static async Task Messages_are_delivered_in_arrival_order(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        for (var i = 1; i <= 3; i++) await ForwardAsync(c, sender, r.RecipientDid, $"message {i}");
        var order = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var d = await DeliveryRequestAsync(c, r.Client, 1);
            if (d.Messages.Count == 0) break;
            order.AddRange(Open(c, r.Client, d.Messages));
            await MessagesReceivedAsync(c, r.Client, d.Messages.Select(m => m.Id));
        }
        c.Must("All three messages are delivered.", order.Distinct().Count() == 3, "3 messages", string.Join(" | ", order));
        c.Should("They come out in the order they were forwarded.", order.SequenceEqual(["message 1", "message 2", "message 3"]),
            "message 1 | message 2 | message 3", string.Join(" | ", order));
    }

    [Case("MEDIATOR-REPLAY-001",
        "A forward received twice (the same envelope: a replay or a sender's retry) is queued once. (DIDComm v2: \"id ... MUST be unique to the sender\"; the Identus mediator answers the repeat with e.p.crypto.message.dejavu.)",
        Level = Level.SHOULD, Section = "live-mode",
        Description = "The same forward envelope POSTed twice; status must count one message.")]
    public static async Task A_replayed_forward_is_queued_once(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        var (forward, envelope) = WrapForward(sender, r.RecipientDid, "sent twice");
        var first = await sender.PostEnvelopeAsync(envelope, forward);
        c.Must("The forward is accepted (HTTP 2xx).", IsAccepted(first), "HTTP 202", $"HTTP {first.StatusCode} {first.Problem}");
        var second = await sender.PostEnvelopeAsync(envelope, forward);
        c.Must("The replay is answered without a server error.", second.StatusCode < 500, "HTTP 2xx/4xx", $"HTTP {second.StatusCode}");
        var status = await StatusAsync(c, r.Client);
        c.Should("The replayed forward is queued once.", status.MessageCount == 1, "message_count 1", $"message_count {status.MessageCount}");
        c.Should("The replay is answered with e.p.crypto.message.dejavu.", second.Problem?.Code == ProblemCodes.Dejavu, ProblemCodes.Dejavu,
            second.Problem?.ToString() ?? $"HTTP {second.StatusCode} {second.Body}");
    }

    [Case("MEDIATOR-WS-001",
        "A long-lived WebSocket stays usable: after the connection has been idle, live mode still delivers new messages on it and requests on it are still answered. (Transports: \"WebSockets\" — a persistent connection.)",
        Section = "live-mode",
        Description = "Live mode on, the socket left idle for --ws-idle seconds (default 5), then a forward: it must be pushed on the same socket, and a status-request on it answered.")]
    public static async Task A_long_lived_socket_keeps_delivering(CaseContext c)
    {
        var r = await EnrolAsync(c);
        await using var socket = await ConnectAsync(c, r.Client);
        await Pickup3Live.LiveOnAsync(c, socket);
        c.Note($"idle for {c.Settings.WebSocketIdle.TotalSeconds:0.#} s");
        await Task.Delay(c.Settings.WebSocketIdle);
        c.Must("The socket is still open after the idle time.", socket.IsOpen, "open", "closed");
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "after a quiet while");
        var pushed = await Pickup3Live.PushedAsync(c, socket);
        c.Must("The message is pushed on the long-lived socket.", pushed is { Messages.Count: > 0 } && Open(c, r.Client, pushed.Messages).Contains(sent.Text),
            "a delivery with the message", pushed is null ? "nothing" : $"{pushed.Messages.Count} attachment(s)");
        await ExpectAsync(c, "A request on the long-lived socket is still answered: a trust ping gets its ping-response.",
            socket, r.Client.NewMessage(MessageTypes.Ping, new JsonObject { ["response_requested"] = true }), MessageTypes.PingResponse);
    }

    [Case("MEDIATOR-WS-002",
        "\"If Live Mode is active, and the connection is broken, a new inbound connection starts with Live Mode disabled.\" Mail that arrives while the recipient is away is queued, and a reconnected recipient gets it and live delivery again (Identus mediator #311: WebSocket reconnects).",
        Section = "live-mode",
        Description = "Socket A with live mode on is dropped without a close handshake; a message is forwarded; socket B: status shows live_delivery false and the message queued; live mode on B; a second message is pushed on B.")]
    public static async Task A_reconnected_recipient_gets_its_mail_and_live_mode_back(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var a = await ConnectAsync(c, r.Client);
        await Pickup3Live.LiveOnAsync(c, a);
        a.Abort(); // the network breaks: no close handshake
        await a.DisposeAsync();
        var sender = await c.V2ClientAsync("Sender");
        var whileAway = await ForwardAsync(c, sender, r.RecipientDid, "while you were away");
        await using var b = await ConnectAsync(c, r.Client);
        var status = await StatusAsync(c, b);
        c.Must("The new connection starts with live mode disabled.", !status.LiveDelivery, "live_delivery false",
            status.Message.Body["live_delivery"]?.ToJsonString() ?? "(absent)");
        c.Must("The message forwarded while the recipient was away is queued.", status.MessageCount == 1, "message_count 1", $"message_count {status.MessageCount}");
        var queued = await DeliveryRequestAsync(c, b, 10);
        c.Must("delivery-request on the new socket returns it.", Open(c, r.Client, queued.Messages).Contains(whileAway.Text), whileAway.Text, $"{queued.Messages.Count}");
        await MessagesReceivedAsync(c, b, queued.Messages.Select(m => m.Id));
        await Pickup3Live.LiveOnAsync(c, b);
        var next = await ForwardAsync(c, sender, r.RecipientDid, "welcome back");
        var pushed = await Pickup3Live.PushedAsync(c, b);
        c.Must("Live delivery works on the new socket.", pushed is { Messages.Count: > 0 } && Open(c, r.Client, pushed.Messages).Contains(next.Text),
            next.Text, pushed is null ? "nothing pushed" : $"{pushed.Messages.Count} attachment(s)");
    }

    [Case("MEDIATOR-WS-003",
        "\"Delivered messages MUST NOT be deleted until delivery is acknowledged by a messages-received message\" — also when the client vanishes right after a delivery reached it (a half-dead socket: no close, no acknowledgement).",
        Section = "live-mode",
        Description = "Three messages queued; the recipient asks for them over a WebSocket, receives the delivery, and its socket is aborted before messages-received. A new connection gets all three, each once.")]
    public static async Task Mail_survives_a_client_that_vanishes_mid_delivery(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        for (var i = 1; i <= 3; i++) await ForwardAsync(c, sender, r.RecipientDid, $"message {i} of 3");
        var a = await ConnectAsync(c, r.Client);
        var first = await DeliveryRequestAsync(c, a, 10);
        c.Must("The three messages are delivered over the socket.", first.Messages.Count == 3, "3 attachments", $"{first.Messages.Count}");
        a.Abort();
        await a.DisposeAsync();
        var again = await DeliveryRequestAsync(c, r.Client, 10);
        var texts = Open(c, r.Client, again.Messages);
        c.Must("After the client vanished, all three unacknowledged messages are still delivered, each once.",
            texts.Count == 3 && texts.Distinct().Count() == 3, "3 distinct messages", $"{texts.Count} delivered: {string.Join(" | ", texts)}");
    }

    [Case("MEDIATOR-WS-004",
        "A message pushed in live mode is not lost when the recipient's socket dies before it acknowledged it. Pickup 3.0 pulls two ways here — live messages \"are delivered over the connection immediately, rather than being pushed to the queue\", yet \"Delivered messages MUST NOT be deleted until delivery is acknowledged by a messages-received message\" — so this is a SHOULD.",
        Level = Level.SHOULD, Section = "live-mode",
        Description = "Live mode on; a message is forwarded and pushed; the socket is aborted without messages-received; a delivery-request on a new connection still returns it.")]
    public static async Task Live_mail_survives_a_client_that_vanishes(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var a = await ConnectAsync(c, r.Client);
        await Pickup3Live.LiveOnAsync(c, a);
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "pushed, never acknowledged");
        var pushed = await Pickup3Live.PushedAsync(c, a);
        if (pushed is null) c.Note("nothing was pushed before the socket was cut");
        a.Abort();
        await a.DisposeAsync();
        var again = await DeliveryRequestAsync(c, r.Client, 10);
        c.Should("The unacknowledged message is still delivered on the next connection.", Open(c, r.Client, again.Messages).Contains(sent.Text),
            sent.Text, $"{again.Messages.Count} attachment(s)");
    }
}
