using System.Text.Json.Nodes;
using Conformance.Agent.Misbehaviour;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Encoding;

namespace Conformance.Suites.Rfc0019;

[Suite("RFC0019", "Encryption Envelope", "aries-rfcs/0019-encryption-envelope/README.md")]
public static class Rfc0019Envelopes
{
    [Case("RFC0019-ENVELOPE-001",
        "The wire format is a JWE-like JSON object with protected, iv, ciphertext and tag; the protected header names enc, typ JWM/1.0, alg Authcrypt or Anoncrypt and the recipients.",
        Section = "authcrypt-mode-vs-anoncrypt-mode")]
    public static async Task Agent_sends_well_formed_envelopes(CaseContext c)
    {
        await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        foreach (var e in c.Tap.Inbound.Where(e => e.Envelope != null).Take(3))
        {
            var env = JsonNode.Parse(e.Envelope!) as JsonObject;
            c.Must("The envelope has protected, iv, ciphertext and tag.", env != null && new[] { "protected", "iv", "ciphertext", "tag" }.All(k => env[k] is JsonValue),
                "protected, iv, ciphertext, tag", e.Envelope![..Math.Min(120, e.Envelope!.Length)]);
            var header = JsonNode.Parse(Base64Url.Decode(env!["protected"]!.GetValue<string>())) as JsonObject;
            c.Must("The protected header has typ JWM/1.0 and alg Authcrypt or Anoncrypt.",
                header?["typ"]?.ToString() == "JWM/1.0" && header["alg"]?.ToString() is "Authcrypt" or "Anoncrypt", "typ JWM/1.0, alg Authcrypt|Anoncrypt", header?.ToJsonString());
            c.Must("Every recipient header names its kid.", header!["recipients"] is JsonArray { Count: > 0 } rs && rs.All(r => r?["header"]?["kid"] != null),
                "recipients[].header.kid", header.ToJsonString());
        }
    }

    [Case("RFC0019-ENVELOPE-002",
        "Authcrypt mode: the sender is authenticated to the recipient; agents use authcrypt for messages on a connection.",
        Level = Level.SHOULD, Section = "authcrypt-mode-vs-anoncrypt-mode")]
    public static async Task Agent_authcrypts_connection_messages(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var resp = c.Tap.Received("response").First();
        c.Should("The response on the new connection is authcrypted.", resp.SenderVerkey != null, "Authcrypt", "Anoncrypt");
    }

    [Case("RFC0019-ENVELOPE-003",
        "The tag (and the AAD: the protected header) authenticate the envelope: a message whose tag does not verify must not be processed.",
        Section = "unpack-message", Description = "The reference side sends a trust ping with a flipped bit in the tag; the agent must not answer it.")]
    public static async Task Agent_rejects_a_tampered_envelope(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var conn = x.PeerConnection();
        var ping = x.Peer.Agent.NewMessage("https://didcomm.org/trust_ping/1.0/ping");
        var packed = Wire.Envelopes.Rfc0019.Pack(ping.Json.ToJsonString(), conn.TheirService!.RecipientKeys, x.Peer.Agent.Wallet.Get(conn.MyVerkey!), Wire.Crypto.Entropy.System);
        var env = (JsonObject)JsonNode.Parse(packed)!;
        var tag = Base64Url.Decode(env["tag"]!.GetValue<string>());
        tag[0] ^= 1;
        env["tag"] = Base64Url.Encode(tag);
        using var http = new HttpClient();
        using var content = Flows.EnvelopeContent(env.ToJsonString());
        var endpoint = conn.TheirService.Endpoint;
        if (!endpoint.StartsWith("http")) throw CaseContext.Unsupported("the agent's endpoint is not HTTP: " + endpoint);
        using var r = await http.PostAsync(endpoint, content);
        c.Note($"tampered POST answered HTTP {(int)r.StatusCode}");
        var resp = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == ping.Id, TimeSpan.FromSeconds(Math.Min(2, c.Timeout.TotalSeconds)));
        c.Must("The tampered ping is not processed (no ping_response).", resp == null, "no ping_response", resp?.Plaintext?.ToJsonString());
        await Rfc0023.Rfc0023Complete.Completed_connection_answers_a_trust_ping_on(c, x);
    }

    [Case("RFC0019-ENVELOPE-004",
        "Anoncrypt mode: the sender is anonymous; an anoncrypted message to the agent's key is decrypted and processed.",
        Level = Level.SHOULD, Section = "authcrypt-mode-vs-anoncrypt-mode", Description = "The reference side sends an anoncrypted trust ping with a ~service decorator for the reply.")]
    public static async Task Agent_accepts_anoncrypt(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var conn = x.PeerConnection();
        var ping = x.Peer.Agent.NewMessage("https://didcomm.org/trust_ping/1.0/ping");
        ping.Json["~service"] = Agent.TrustPing.ServiceDecorator.For(conn.MyVerkey!, x.Peer.Agent.Endpoint, []);
        await x.Peer.Agent.Outbound.SendToServiceAsync(ping, conn.TheirService!, sender: null, conn.Id);
        var resp = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == ping.Id);
        c.Should("The anoncrypted ping is answered.", resp != null, "ping_response", Flows.Received(c));
    }

    [Case("RFC0019-ENVELOPE-005",
        "Base64URL fields of the envelope may be padded or not; the unpacker must accept both (the RFC 0019 examples are padded, current agents emit unpadded).",
        Section = "unpack-message", Description = "The reference side sends its messages with padded base64url throughout.")]
    public static async Task Agent_accepts_padded_envelopes(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1");
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        peer.Agent.Outbound.PackOptions = Wire.Envelopes.PackOptions.Default with { PaddedBase64 = true };
        var r = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var autId = await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await Flows.AutDidExchangeStateAsync(c, autId, "The responder decrypts the padded request.", "request-received");
    }
}
