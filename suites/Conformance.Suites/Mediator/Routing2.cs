using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

[Suite("ROUTING2", "Routing 2.0 (forward)", "didcomm-v2/routing.md#routing-protocol-20", Target = CaseTarget.Mediator)]
public static class Routing2
{
    [Case("ROUTING2-001",
        "Attachments carry their data \"base64\" or \"json\" (DIDComm v2 §Attachments): a forward whose encrypted message is attached as base64 is accepted and delivered like one attached as JSON.",
        Level = Level.SHOULD, Section = "messages",
        Description = "The same kind of message forwarded twice: attachment data as json, then as base64. Both must come out at the recipient.")]
    public static async Task Forward_attachments_as_json_or_base64_are_delivered(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        await ForwardAsync(c, sender, r.RecipientDid, "attached as json");
        var answer = (await ForwardAsync(c, sender, r.RecipientDid, "attached as base64", mustAccept: false, attachAsJson: false)).Answer;
        c.Should("The forward with a base64 attachment is accepted (HTTP 2xx).", IsAccepted(answer), "HTTP 202", $"HTTP {answer.StatusCode} {answer.Problem}");
        var delivery = await DeliveryRequestAsync(c, r.Client, 10);
        var texts = Open(c, r.Client, delivery.Messages);
        c.Must("The json-attached message is delivered.", texts.Contains("attached as json"), "attached as json", string.Join(" | ", texts));
        c.Should("The base64-attached message is delivered.", texts.Contains("attached as base64"), "attached as base64", string.Join(" | ", texts));
    }

    [Case("ROUTING2-002",
        "\"The please_ack header SHOULD NOT be included on forward messages, and MUST NOT be honored by mediators.\"",
        Section = "messages",
        Description = "A forward carrying please_ack (and return_route all): the mediator must send no ack — the answer is 202 with nothing, or at most something that is not an ack of the forward.")]
    public static async Task Forward_with_please_ack_is_not_acked(CaseContext c)
    {
        var r = await EnrolAsync(c);
        var sender = await c.V2ClientAsync("Sender");
        var (forward, envelope) = WrapForward(sender, r.RecipientDid, "please_ack on the forward",
            headersFor: id => new JsonObject { ["please_ack"] = new JsonArray(id), ["return_route"] = "all" });
        var answer = await sender.PostEnvelopeAsync(envelope, forward);
        c.Must("The forward is accepted (HTTP 2xx).", IsAccepted(answer), "HTTP 202", $"HTTP {answer.StatusCode} {answer.Problem}");
        var acked = answer.Reply?.Message is { } m && m.Headers["ack"] is JsonArray ack && ack.Any(x => x?.ToString() == forward.Id);
        c.Must("No ack of the forward is sent.", !acked, "no message with ack: [forward id]", answer.Reply is null ? null : Describe(answer.Reply.Message));
        var delivery = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("The message is still forwarded to the recipient.", Open(c, r.Client, delivery.Messages).Contains("please_ack on the forward"), "delivered", $"{delivery.Messages.Count}");
    }
}
