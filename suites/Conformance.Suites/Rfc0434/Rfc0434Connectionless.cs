using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Rfc0434;

[Suite("RFC0434", "Connectionless: requests~attach", OutOfBands.Section + "#messages")]
public static class Rfc0434Connectionless
{
    private static JsonObject Ping(Harness.Drivers.ReferencePeer peer) => new()
    {
        ["@type"] = "https://didcomm.org/trust_ping/1.0/ping",
        ["@id"] = peer.Agent.NewId(),
        ["response_requested"] = true,
    };

    [Case("RFC0434-CONNECTIONLESS-001",
        "If only the requests~attach item is included, no new connection is expected to be created. The receiver responds to one of the messages in the requests~attach array ... using the first supported services entry. The response to an out-of-band message MUST set its ~thread.pthid equal to the @id property of the out-of-band message.",
        Section = "responses", Aath = "T001-T004-RFC0434 (connectionless out-of-band exchanges; AATH uses credentials, this case the same mechanics with a trust ping)")]
    public static async Task Receiver_answers_an_attached_request_without_a_connection(CaseContext c)
    {
        var peer = await c.PeerAsync("Faber", o => o.AutoAccept = true);
        var ping = Ping(peer);
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [], Attachments = [ping], AutoAccept = true });
        c.Must("The invitation carries only requests~attach.", rec.Invitation["handshake_protocols"] is null or JsonArray { Count: 0 } && rec.Invitation["requests~attach"] is JsonArray { Count: 1 },
            "requests~attach, no handshake_protocols", rec.Invitation.ToJsonString());
        await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(rec.Invitation), false);
        var answer = await Flows.ExpectFromAutAsync(c, "ping_response", "The receiver answers the attached ping over the invitation's service.");
        c.Must("The answer threads to the attached ping (~thread.thid).", Flows.ThreadId(answer) == ping["@id"]!.ToString(), ping["@id"]!.ToString(), Flows.ThreadId(answer));
        c.Must("The answer's ~thread.pthid is the invitation's @id.", Flows.ParentThreadId(answer) == rec.Id, rec.Id, Flows.ParentThreadId(answer) ?? "none");
        c.Should("No handshake is started.", c.Tap.Received("request").Count == 0, "no request", $"{c.Tap.Received("request").Count} request(s)");
    }

    [Case("RFC0434-CONNECTIONLESS-002",
        "requests~attach - an attachment decorator containing an array of request messages in order of preference ... One or both of handshake_protocols and requests~attach MUST be included in the message.",
        Section = "invitation-httpsdidcommorgout-of-bandverinvitation", Aath = "T001-RFC0434 (the sender's connectionless invitation)")]
    public static async Task Sender_attaches_requests(CaseContext c)
    {
        var attached = new JsonObject { ["@type"] = "https://didcomm.org/trust_ping/1.0/ping", ["@id"] = "6a7c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4", ["response_requested"] = true };
        var created = await c.Backchannel.OobSendInvitationMessageAsync(new JsonObject { ["attachments"] = new JsonArray(attached) });
        var inv = created["invitation"] as JsonObject;
        c.Must("The sender creates an invitation.", inv != null, "invitation", created.ToJsonString());
        var atts = inv!["requests~attach"] as JsonArray;
        c.Must("The invitation carries requests~attach.", atts is { Count: > 0 }, "requests~attach", inv.ToJsonString());
        var a = Wire.Messages.Attachment.FromJson((JsonObject)atts![0]!);
        var content = a.Json ?? (a.Base64 != null ? JsonNode.Parse(a.Bytes()) : null);
        c.Must("The attachment carries the requested message (data.json or data.base64, RFC 0017).",
            content?["@type"]?.ToString() == attached["@type"]!.ToString(), attached.ToJsonString(), atts[0]!.ToJsonString());
        c.Must("The invitation still names a service to answer to.", inv["services"] is JsonArray { Count: > 0 }, "services", inv.ToJsonString());
    }

    [Case("RFC0434-CONNECTIONLESS-003",
        "If both the handshake_protocols and requests~attach items are included in the message, the receiver should first establish a connection and then respond (using that connection) to one of the messages in the requests~attach message.",
        Level = Level.SHOULD, Section = "responses")]
    public static async Task Receiver_connects_first_then_answers_on_the_connection(CaseContext c)
    {
        var peer = await c.PeerAsync("Faber", o => o.AutoAccept = true);
        var ping = Ping(peer);
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], Attachments = [ping], AutoAccept = true });
        await OutOfBands.AutReceivesAsync(c, rec.Invitation);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The receiver starts the handshake first.");
        var answer = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == ping["@id"]!.ToString());
        c.Should("The receiver then answers the attached ping.", answer != null, "ping_response", Flows.Received(c));
        if (answer == null) return;
        var inbound = c.Tap.Inbound.First(e => e.Plaintext == answer.Plaintext);
        var pc = peer.Agent.Store.FindConnection(x => x.ThreadId == (Flows.ThreadId(request) ?? Flows.OptStr(request, "@id")));
        c.Should("The answer travels on the new connection (authcrypted from the connection's key to ours).", pc != null && inbound.RecipientVerkey == pc.MyVerkey,
            pc?.MyVerkey, inbound.RecipientVerkey);
    }
}
