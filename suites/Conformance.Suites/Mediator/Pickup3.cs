using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

// Counterparts of shared/specs/identus-mediator/pickup_message.feature, and the pickup 3.0 requirements it does not test.
// Background of every case: "Recipient sends a mediate request message to the mediator; Mediator responds to Recipient
// with mediate grant message; Recipient sends a keylist update message to the mediator with a new peer did" (EnrolAsync).
[Suite("PICKUP3", "Message Pickup 3.0", "didcomm-v2-protocols/messagepickup-3.0.md#message-reference", Target = CaseTarget.Mediator)]
public static class Pickup3
{
    private const string Feature = "pickup_message.feature: ";

    [Case("PICKUP3-STATUS-001",
        "Status: \"message_count is the only REQUIRED attribute\" — after one forward to the recipient, the status counts exactly that one queued message.",
        Section = "status", Counterpart = Feature + "Recipient sends a status-request message with one forward message available")]
    public static async Task Status_counts_one_forwarded_message(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "one message for Recipient");
        var status = await StatusAsync(c, r.Client);
        c.Must("The status reports message_count 1: the one forwarded message, queued once.", status.MessageCount == 1, "message_count 1", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-STATUS-002",
        "Status with nothing queued: message_count 0.",
        Section = "status", Counterpart = Feature + "Recipient sends a status-request message with no forward message available")]
    public static async Task Status_counts_nothing_when_nothing_was_forwarded(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var status = await StatusAsync(c, r.Client);
        c.Must("The status reports message_count 0.", status.MessageCount == 0, "message_count 0", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-STATUS-003",
        "\"recipient_did is optional. When specified, the mediator MUST only return status related to that recipient did\"; \"If a recipient_did was specified in the status-request message, the matching value MUST be specified in the recipient_did attribute of the status message.\"",
        Section = "status-request",
        Description = "The recipient registers two DIDs; one message is forwarded to the first, two to the second; status-request names the second.")]
    public static async Task Status_for_one_recipient_did_counts_only_its_messages(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var second = V2Identity.Create(r.Client.Entropy).Did;
        await AddKeyAsync(c, r.Client, second);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "to the first DID");
        await ForwardAsync(c, sender, second, "to the second DID (1)");
        await ForwardAsync(c, sender, second, "to the second DID (2)");
        var status = await StatusAsync(c, r.Client, second);
        c.Must("The status for the second DID counts only its two messages.", status.MessageCount == 2, "message_count 2", $"message_count {status.MessageCount}");
        c.Must("The status names the recipient_did that was asked about.", status.RecipientDid == second, Short(second), status.RecipientDid ?? "(none)");
    }

    [Case("PICKUP3-DELIVERY-001",
        "Delivery: \"Batch of messages delivered to the recipient as attachments\" — the one message the sender forwarded is delivered, and it is the sender's message (the recipient decrypts it to the same content).",
        Section = "message-delivery", Counterpart = Feature + "Recipient sends a delivery-request message with one forward message available")]
    public static async Task Delivery_request_delivers_the_forwarded_message(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "hello Recipient, from Sender");
        var delivery = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("The mediator delivers the one queued message, once.", delivery.Messages.Count == 1, "1 attachment", $"{delivery.Messages.Count} attachment(s)");
        var texts = Open(c, r.Client, delivery.Messages);
        c.Must("The delivered message is the sender's.", texts[0] == sent.Text, sent.Text, texts[0]);
    }

    [Case("PICKUP3-DELIVERY-002",
        "\"If no messages are available to be sent, a status message MUST be sent immediately.\"",
        Section = "delivery-request", Counterpart = Feature + "Recipient sends a delivery-request message with no available forward messages")]
    public static async Task Delivery_request_with_nothing_queued_gets_a_status(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var reply = await ExpectAsync(c, "A delivery-request with nothing queued is answered at once with a status message.",
            r.Client, r.Client.NewMessage(MessageTypes.DeliveryRequest, new() { ["limit"] = 10 }), MessageTypes.Status);
        var status = ParseStatus(c, reply);
        c.Must("The status reports message_count 0.", status.MessageCount == 0, "message_count 0", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-DELIVERY-003",
        "Messages Received: \"Upon receipt of this message, the mediator knows which messages have been received, and can remove them from the collection of queued messages with confidence. The mediator SHOULD send an updated status message reflecting the changes to the queue.\"",
        Level = Level.SHOULD, Section = "messages-received",
        Counterpart = Feature + "Recipient sends a delivery-request and confirms that messages were received",
        Description = "Deliver, acknowledge with messages-received, then status-request: the acknowledged message is gone (the Identus suite expects 0 queued). The protocol has no MUST here, so a mediator that keeps acknowledged mail is WARN.")]
    public static async Task Acknowledged_messages_leave_the_queue(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "please acknowledge me");
        var delivery = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("The forwarded message is delivered.", delivery.Messages.Count == 1, "1 attachment", $"{delivery.Messages.Count}");
        Open(c, r.Client, delivery.Messages);
        await MessagesReceivedAsync(c, r.Client, delivery.Messages.Select(m => m.Id));
        var status = await StatusAsync(c, r.Client);
        c.Should("After messages-received the status reports message_count 0.", status.MessageCount == 0, "message_count 0", $"message_count {status.MessageCount}");
    }

    [Case("PICKUP3-DELIVERY-004",
        "\"Delivered messages MUST NOT be deleted until delivery is acknowledged by a messages-received message.\"",
        Section = "delivery-request",
        Description = "Deliver without acknowledging, then ask again: the same message is still queued and is delivered again.")]
    public static async Task Unacknowledged_messages_stay_queued(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        var sent = await ForwardAsync(c, sender, r.RecipientDid, "not acknowledged yet");
        var first = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("The forwarded message is delivered.", first.Messages.Count == 1, "1 attachment", $"{first.Messages.Count}");
        var status = await StatusAsync(c, r.Client);
        c.Must("The delivered but unacknowledged message is still queued.", status.MessageCount == 1, "message_count 1", $"message_count {status.MessageCount}");
        var again = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("A second delivery-request delivers it again.", again.Messages.Count == 1, "1 attachment", $"{again.Messages.Count} attachment(s)");
        c.Must("It is the same message.", Open(c, r.Client, again.Messages)[0] == sent.Text, sent.Text, null);
    }

    [Case("PICKUP3-DELIVERY-005",
        "\"limit is a REQUIRED attribute, and after receipt of this message, the mediator SHOULD deliver up to the limit indicated.\"",
        Level = Level.SHOULD, Section = "delivery-request",
        Counterpart = Feature + "Recipient limits number of messages for delivery (Scenario Outline, commented out in the Identus suite)",
        Description = "Three messages queued: limit 2 delivers two; then limit 4 delivers the remaining one.")]
    public static async Task Delivery_respects_the_limit(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        for (var i = 1; i <= 3; i++) await ForwardAsync(c, sender, r.RecipientDid, $"message {i} of 3");
        var two = await DeliveryRequestAsync(c, r.Client, 2);
        c.Should("limit 2 with three queued delivers two.", two.Messages.Count == 2, "2 attachments", $"{two.Messages.Count}");
        await MessagesReceivedAsync(c, r.Client, two.Messages.Select(m => m.Id));
        var rest = await DeliveryRequestAsync(c, r.Client, 4);
        c.Should("limit 4 with one left delivers one.", rest.Messages.Count == 1, "1 attachment", $"{rest.Messages.Count}");
    }

    [Case("PICKUP3-DELIVERY-006",
        "\"recipient_did is optional. When specified, the mediator MUST only return messages sent to that recipient did.\"",
        Section = "delivery-request")]
    public static async Task Delivery_for_one_recipient_did_returns_only_its_messages(CaseContext c)
    {
        var r = await EnrolAsync(c);
        // A second DID of the recipient's, with keys the harness holds (so its mail can be opened too).
        var second = await c.V2ClientAsync("Recipient-second-did");
        await AddKeyAsync(c, r.Client, second.Did);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "for the first DID");
        var forSecond = await ForwardAsync(c, sender, second.Did, "for the second DID");
        var delivery = await DeliveryRequestAsync(c, r.Client, 10, second.Did);
        c.Must("Only the message sent to the named recipient_did is delivered.", delivery.Messages.Count == 1, "1 attachment", $"{delivery.Messages.Count}");
        c.Must("It is the message for that DID.", Open(c, second, delivery.Messages)[0] == forSecond.Text, forSecond.Text, null);
    }
}
