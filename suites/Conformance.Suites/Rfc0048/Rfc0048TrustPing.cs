using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0048;

[Suite("RFC0048", "Trust Ping", "aries-rfcs/0048-trust-ping/README.md#messages")]
public static class Rfc0048TrustPing
{
    [Case("RFC0048-PING-001",
        "The ping message: response_requested is optional and defaults to true; the receiver answers with a ping_response whose ~thread.thid is the @id of the ping.",
        Aath = "T001-RFC0160 (trustping)")]
    public static async Task Agent_answers_a_ping(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var ping = x.Peer.Agent.NewMessage("https://didcomm.org/trust_ping/1.0/ping");
        await x.Peer.Agent.Outbound.SendAsync(ping, x.PeerConnection());
        var resp = await Flows.ExpectFromAutAsync(c, "ping_response", "A ping without response_requested (default true) is answered.", m => Flows.ThreadId(m) == ping.Id);
        var type = Flows.OptStr(resp, "@type");
        c.Must("The answer is trust_ping/1.0/ping_response.", MessageType.TryParse(type, out var t) && t!.Matches("trust_ping", 1, "ping_response"), "…/trust_ping/1.0/ping_response", type);
    }

    [Case("RFC0048-PING-002",
        "If response_requested is false, then the receiver MUST NOT respond.")]
    public static async Task Agent_does_not_answer_when_no_response_is_requested(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var pingId = await x.Peer.Agent.TrustPing.SendPingAsync(x.PeerConnection(), "no answer please", responseRequested: false);
        var resp = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == pingId, TimeSpan.FromSeconds(Math.Min(2, c.Timeout.TotalSeconds)));
        c.Must("No ping_response is sent.", resp == null, "no response", resp?.Plaintext?.ToJsonString());
    }

    [Case("RFC0048-PING-003",
        "The ping_response message: ~thread.thid is the @id of the ping (the responder's answer is threaded).",
        Description = "The agent under test sends the ping (backchannel send-ping); the reference side answers.")]
    public static async Task Agent_sends_a_well_formed_ping(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        await c.Backchannel.ConnectionSendPingAsync(x.AutConnectionId, "hello");
        var ping = await Flows.ExpectFromAutAsync(c, "ping", "The agent sends a trust ping when asked.");
        var type = Flows.OptStr(ping, "@type");
        c.Must("The ping is trust_ping/1.0/ping with an @id.", MessageType.TryParse(type, out var t) && t!.Matches("trust_ping", 1, "ping") && Flows.OptStr(ping, "@id") != null,
            "…/trust_ping/1.0/ping", type);
        var rr = ping["response_requested"];
        c.Must("response_requested, when present, is a boolean.", rr == null || rr.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
            "true/false", rr?.ToJsonString());
    }

    [Case("RFC0048-PING-004",
        "Trust ping messages use either type prefix: the legacy did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/trust_ping/1.0/ping is answered too.",
        Level = Level.SHOULD, Description = "The reference side sends a ping with the legacy prefix.")]
    public static async Task Agent_answers_a_legacy_prefixed_ping(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var ping = x.Peer.Agent.NewMessage(DocUris.LegacySov + "trust_ping/1.0/ping");
        await x.Peer.Agent.Outbound.SendAsync(ping, x.PeerConnection());
        var resp = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == ping.Id);
        c.Should("The legacy-prefixed ping is answered.", resp != null, "ping_response", Flows.Received(c));
    }
}
