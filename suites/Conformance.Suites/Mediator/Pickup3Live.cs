using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

// Counterparts of shared/specs/identus-mediator/pickup_message_live_mode.feature, and the live-mode rules it does not test.
[Suite("PICKUP3", "Message Pickup 3.0: Live Mode", "didcomm-v2-protocols/messagepickup-3.0.md#live-mode", Target = CaseTarget.Mediator)]
public static class Pickup3Live
{
    private const string Feature = "pickup_message_live_mode.feature: ";

    /// <summary>"Recipient sends a live delivery change message with live_delivery to true" over a WebSocket: the
    /// mediator "MUST respond with a status message".</summary>
    public static async Task<V2PickupStatus> LiveOnAsync(CaseContext c, V2Socket socket)
    {
        var reply = await ExpectAsync(c, "\"Upon receiving the live_delivery_change message, the mediator MUST respond with a status message.\"",
            socket, socket.Client.NewMessage(MessageTypes.LiveDeliveryChange, new JsonObject { ["live_delivery"] = true }), MessageTypes.Status);
        var status = ParseStatus(c, reply);
        c.Should("\"live_delivery state is also indicated in the status message\": live_delivery true.", status.LiveDelivery, "live_delivery: true",
            reply.Body["live_delivery"]?.ToJsonString() ?? "(absent)");
        return status;
    }

    /// <summary>The next delivery pushed on the socket (not an answer to a request), or null.</summary>
    public static async Task<V2Delivery?> PushedAsync(CaseContext c, V2Socket socket)
    {
        try
        {
            while (true)
            {
                var u = await socket.ReceiveAsync(c.Timeout);
                if (u.Message.Type == MessageTypes.Delivery) return ParseDelivery(c, u.Message);
                c.Note($"also pushed on the socket: {Describe(u.Message)}");
            }
        }
        catch (TimeoutException) { return null; }
    }

    [Case("PICKUP3-LIVE-001",
        "\"When Live Mode is enabled, messages that arrive when an existing connection exists are delivered over the connection immediately\" (§Basic Walkthrough); \"Live Mode is the practice of delivering newly arriving messages directly to a connected recipient.\" With live mode on over a WebSocket, a message forwarded to the recipient reaches it on that socket without being asked for.",
        Section = "basic-walkthrough",
        Counterpart = Feature + "Recipient sends a delivery-request message with one forward message available",
        Description = "The Identus scenario then sends a delivery-request over the socket; this case requires the live push itself, which is what live mode promises once the mediator's status says live_delivery is on.")]
    public static async Task Live_mode_delivers_new_messages_on_the_socket(CaseContext c)
    {
        var r = await EnrolAsync(c);
        await using var socket = await ConnectAsync(c, r.Client);
        await LiveOnAsync(c, socket);
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "live, please");
        var pushed = await PushedAsync(c, socket);
        c.Must("The forwarded message is pushed to the live recipient as a delivery on its WebSocket.", pushed is { Messages.Count: > 0 },
            "a delivery pushed within the timeout", pushed is null ? "nothing pushed" : $"{pushed.Messages.Count} attachment(s)");
        c.Must("The pushed message is the sender's.", Open(c, r.Client, pushed!.Messages).Contains(sent.Text), sent.Text, null);
    }

    [Case("PICKUP3-LIVE-002",
        "\"If no messages are available to be sent, a status message MUST be sent immediately\" — also over a live-mode WebSocket.",
        Section = "delivery-request",
        Counterpart = Feature + "Recipient sends a delivery-request message with no available forward messages")]
    public static async Task Live_delivery_request_with_nothing_queued_gets_a_status(CaseContext c)
    {
        var r = await EnrolAsync(c);
        await using var socket = await ConnectAsync(c, r.Client);
        await LiveOnAsync(c, socket);
        var reply = await ExpectAsync(c, "A delivery-request with nothing queued is answered at once with a status message.",
            socket, r.Client.NewMessage(MessageTypes.DeliveryRequest, new JsonObject { ["limit"] = 10 }), MessageTypes.Status);
        var status = ParseStatus(c, reply);
        c.Must("The status reports message_count 0.", status.MessageCount == 0, "message_count 0", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-LIVE-003",
        "Messages delivered live are acknowledged like any other: after messages-received \"the mediator ... can remove them from the collection of queued messages with confidence. The mediator SHOULD send an updated status message\".",
        Level = Level.SHOULD, Section = "messages-received",
        Counterpart = Feature + "Recipient sends a delivery-request and confirms that messages were received")]
    public static async Task Live_messages_are_acknowledged(CaseContext c)
    {
        var r = await EnrolAsync(c);
        await using var socket = await ConnectAsync(c, r.Client);
        await LiveOnAsync(c, socket);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "live, then acknowledged");
        var got = await PushedAsync(c, socket);
        if (got is null || got.Messages.Count == 0)
        {
            c.Note("nothing was pushed; asking with delivery-request over the socket");
            got = await DeliveryRequestAsync(c, socket, 10);
        }
        c.Must("The forwarded message reaches the live recipient.", got.Messages.Count == 1, "1 message", $"{got.Messages.Count}");
        Open(c, r.Client, got.Messages);
        await MessagesReceivedAsync(c, socket, got.Messages.Select(m => m.Id));
        var status = await StatusAsync(c, socket);
        c.Should("After messages-received the status reports message_count 0.", status.MessageCount == 0, "message_count 0", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-LIVE-004",
        "\"Live Mode MUST only be enabled when a persistent transport is used, such as WebSockets.\" \"If sent with live_delivery set to true on a connection incapable of live delivery, a problem_report SHOULD be sent\" with code e.m.live-mode-not-supported.",
        Section = "live-mode-change",
        Description = "live-delivery-change with live_delivery true over HTTP POST (return_route all). A status claiming live_delivery true FAILs; anything but the problem report is WARN.")]
    public static async Task Live_mode_is_refused_over_http(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var request = r.Client.NewMessage(MessageTypes.LiveDeliveryChange, new JsonObject { ["live_delivery"] = true });
        var answer = await r.Client.PostAsync(request);
        var reply = answer.Reply?.Message;
        c.Must("Live mode is not enabled over HTTP: no status claims live_delivery true.",
            !(reply?.Type == MessageTypes.Status && reply.Body["live_delivery"] is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.True),
            "no live_delivery: true", reply is null ? $"HTTP {answer.StatusCode}" : Describe(reply));
        var problem = reply is null ? null : V2Problem.From(reply);
        c.Should("A problem report e.m.live-mode-not-supported is sent.", problem?.Code == ProblemCodes.LiveModeNotSupported,
            ProblemCodes.LiveModeNotSupported, problem?.Code ?? (reply is null ? $"HTTP {answer.StatusCode}" : Describe(reply)));
        if (problem is not null) RequireProblem(c, "The refusal is a problem report.", reply, ProblemCodes.LiveModeNotSupported, request.Id);
    }

    [Case("PICKUP3-LIVE-005",
        "\"Messages that arrive when Live Mode is off MUST be stored in the queue for retrieval as described above.\"",
        Description = "A recipient connected by WebSocket with live mode off: a forwarded message is queued (status counts it) and delivered on request.")]
    public static async Task Messages_are_queued_while_live_mode_is_off(CaseContext c)
    {
        var r = await EnrolAsync(c);
        await using var socket = await ConnectAsync(c, r.Client);
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "stored, not pushed");
        var status = await StatusAsync(c, socket);
        c.Must("The message is in the queue.", status.MessageCount == 1, "message_count 1", $"message_count {status.MessageCount}");
        var delivery = await DeliveryRequestAsync(c, socket, 10);
        c.Must("delivery-request returns it.", delivery.Messages.Count == 1 && Open(c, r.Client, delivery.Messages)[0] == sent.Text, sent.Text, $"{delivery.Messages.Count} attachment(s)");
    }
}
