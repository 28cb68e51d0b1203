using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Mediator;
using Conformance.Suites.Support;
using static Conformance.Suites.Support.V2Mediation;

namespace Conformance.Suites.Mediator;

// Counterparts of shared/specs/identus-mediator/ping.feature.
[Suite("PING2", "Trust Ping 2.0 (mediator)", "didcomm-v2/trustping.md#trust-ping-protocol-20", Target = CaseTarget.Mediator)]
public static class TrustPing2
{
    private const string Feature = "ping.feature: ";

    [Case("PING2-001",
        "ping-response: \"When the message arrives at the receiver, assuming that response_requested is not false, the receiver should reply as quickly as possible with a ping-response message\" whose thid is the ping's id — with return_route \"all\", on the same HTTP exchange.",
        Counterpart = Feature + "Recipient sends and receives trusted ping message with return_route \"all\"",
        Description = "The recipient has an endpoint of its own (in its DID); with return_route all the answer must come back synchronously and nothing asynchronously.")]
    public static async Task Ping_with_return_route_all_is_answered_synchronously(CaseContext c)
    {
        var recipient = await c.V2ClientAsync(inbox: true);
        var ping = recipient.NewMessage(MessageTypes.Ping, new JsonObject { ["response_requested"] = true }, returnRoute: "all");
        await ExpectAsync(c, "The ping is answered synchronously with a ping-response.", recipient, ping, MessageTypes.PingResponse);
        var late = await ReceiveAsync(recipient, TimeSpan.FromSeconds(1));
        c.Must("Nothing is sent to the recipient's own endpoint (\"Recipient receives no async message back\").", late is null, "nothing",
            late is null ? null : Describe(late.Message));
    }

    [Case("PING2-002",
        "With return_route \"none\" the ping-response is sent to the sender's DIDCommMessaging endpoint, not on the HTTP exchange (which is answered 202 with no body).",
        Level = Level.SHOULD,
        Counterpart = Feature + "Recipient sends and receives trusted ping message with return_route \"none\"",
        Description = "return_route is an extension (it is not in the DIDComm v2 spec text), so this case is SHOULD.")]
    public static async Task Ping_with_return_route_none_is_answered_asynchronously(CaseContext c)
    {
        var recipient = await c.V2ClientAsync(inbox: true);
        var ping = recipient.NewMessage(MessageTypes.Ping, new JsonObject { ["response_requested"] = true }, returnRoute: "none");
        var answer = await recipient.PostAsync(ping);
        c.Must("The mediator accepts the ping (HTTP 2xx).", answer.StatusCode is >= 200 and < 300, "HTTP 202", $"HTTP {answer.StatusCode}");
        c.Should("No message comes back synchronously (\"Recipient receives no sync message back\").", answer.Reply is null, "an empty body",
            answer.Reply is null ? null : Describe(answer.Reply.Message));
        var response = await ReceiveAsync(recipient, c.Timeout);
        c.Should("The ping-response arrives at the recipient's own endpoint, threaded to the ping.",
            response?.Message.Type == MessageTypes.PingResponse && response.Message.Thid == ping.Id, $"ping-response with thid {ping.Id}",
            response is null ? "nothing arrived" : Describe(response.Message));
    }

    [Case("PING2-003",
        "\"response_requested: default value is true. If false, the sender is not requesting a ping-response from the receiver.\"",
        Level = Level.SHOULD)]
    public static async Task Ping_without_response_requested_gets_no_response(CaseContext c)
    {
        var recipient = await c.V2ClientAsync(inbox: true);
        var ping = recipient.NewMessage(MessageTypes.Ping, new JsonObject { ["response_requested"] = false }, returnRoute: "all");
        var answer = await recipient.PostAsync(ping);
        c.Must("The mediator accepts the ping (HTTP 2xx).", answer.StatusCode is >= 200 and < 300, "HTTP 2xx", $"HTTP {answer.StatusCode}");
        var late = await ReceiveAsync(recipient, TimeSpan.FromSeconds(1));
        var response = answer.Reply?.Message ?? late?.Message;
        c.Should("No ping-response is sent.", response?.Type != MessageTypes.PingResponse, "nothing", response is null ? null : Describe(response));
    }

    private static async Task<V2Unpacked?> ReceiveAsync(V2Client client, TimeSpan timeout)
    {
        try { return await client.Inbox!.ReceiveAsync(timeout); }
        catch (TimeoutException) { return null; }
    }
}
