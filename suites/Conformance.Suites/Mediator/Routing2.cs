using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using Conformance.Wire.DidComm2;
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
        var message = new V2Message
        {
            Id = sender.Entropy.NewUuid(), Type = MessageTypes.BasicMessageMessage, To = [r.RecipientDid],
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Body = new JsonObject { ["content"] = "attached as base64" },
        };
        var inner = Encoding.UTF8.GetBytes(sender.PackFor(message, r.RecipientDid));
        var forward = V2Routing.Forward(r.RecipientDid, inner, sender.Entropy, attachAsJson: false, to: [sender.MediatorDid]);
        var answer = await sender.PostEnvelopeAsync(V2Packer.Anoncrypt(forward, sender.MediatorDid, sender.Entropy, ContentAlg.XC20P), forward);
        c.Should("The forward with a base64 attachment is accepted (HTTP 2xx).", answer.StatusCode is >= 200 and < 300 && answer.Problem is null, "HTTP 202",
            $"HTTP {answer.StatusCode} {answer.Problem}");
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
        var message = new V2Message
        {
            Id = sender.Entropy.NewUuid(), Type = MessageTypes.BasicMessageMessage, To = [r.RecipientDid],
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Body = new JsonObject { ["content"] = "please_ack on the forward" },
        };
        var inner = Encoding.UTF8.GetBytes(sender.PackFor(message, r.RecipientDid));
        var plain = V2Routing.Forward(r.RecipientDid, inner, sender.Entropy, to: [sender.MediatorDid]);
        var headers = new JsonObject { ["please_ack"] = new JsonArray(plain.Id), ["return_route"] = "all" };
        var forward = new V2Message { Id = plain.Id, Type = plain.Type, To = plain.To, Body = plain.Body, Attachments = plain.Attachments, Headers = headers };
        var answer = await sender.PostEnvelopeAsync(V2Packer.Anoncrypt(forward, sender.MediatorDid, sender.Entropy, ContentAlg.XC20P), forward);
        c.Must("The forward is accepted (HTTP 2xx).", answer.StatusCode is >= 200 and < 300 && answer.Problem is null, "HTTP 202", $"HTTP {answer.StatusCode} {answer.Problem}");
        var acked = answer.Reply?.Message is { } m && m.Headers["ack"] is JsonArray ack && ack.Any(x => x?.ToString() == forward.Id);
        c.Must("No ack of the forward is sent.", !acked, "no message with ack: [forward id]", answer.Reply is null ? null : Describe(answer.Reply.Message));
        var delivery = await DeliveryRequestAsync(c, r.Client, 10);
        c.Must("The message is still forwarded to the recipient.", Open(c, r.Client, delivery.Messages).Contains("please_ack on the forward"), "delivered", $"{delivery.Messages.Count}");
    }
}
