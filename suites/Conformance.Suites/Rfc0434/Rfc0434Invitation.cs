using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0434;

[Suite("RFC0434", "Invitation", OutOfBands.Section + "#invitation-httpsdidcommorgout-of-bandverinvitation")]
public static class Rfc0434Invitation
{
    private static async Task<JsonObject> Invite(CaseContext c, params string[] handshakes)
    {
        var (_, inv) = await DidExchanges.AutInvitesAsync(c, "1.1",
            handshakes.Length == 0 ? null : new JsonObject { ["handshake_protocols"] = new JsonArray(handshakes.Select(h => (JsonNode)h).ToArray()) });
        return inv;
    }

    [Case("RFC0434-INVITATION-001",
        "@type - the DIDComm message type; @id - the unique ID of the message, used as the parent thread ID (pthid) for the response message.",
        Aath = "T001-RFC0023 (Bob sends an explicit invitation)")]
    public static async Task Invitation_has_type_and_id(CaseContext c)
    {
        var inv = await Invite(c);
        var type = Flows.OptStr(inv, "@type");
        c.Must("@type is out-of-band/1.x/invitation.", MessageType.TryParse(type, out var t) && t!.Matches("out-of-band", 1, "invitation"), "https://didcomm.org/out-of-band/1.1/invitation", type);
        c.Must("The invitation has an @id.", Flows.OptStr(inv, "@id") is { Length: > 0 }, "@id", inv.ToJsonString());
    }

    [Case("RFC0434-INVITATION-002",
        "One or both of handshake_protocols and requests~attach MUST be included in the message.")]
    public static async Task Invitation_has_handshake_or_requests(CaseContext c)
    {
        var inv = await Invite(c);
        c.Must("handshake_protocols or requests~attach is present and non-empty.",
            inv["handshake_protocols"] is JsonArray { Count: > 0 } || inv["requests~attach"] is JsonArray { Count: > 0 }, "one of them", inv.ToJsonString());
    }

    [Case("RFC0434-INVITATION-003",
        "services - an array of union types that the receiver uses when responding to the message. Each item is either a DIDComm service object or a DID.",
        Section = "the-services-item")]
    public static async Task Invitation_services_are_dids_or_service_blocks(CaseContext c)
    {
        var inv = await Invite(c);
        var services = inv["services"] as JsonArray;
        c.Must("services is a non-empty array.", services is { Count: > 0 }, "services: [...]", inv["services"]?.ToJsonString() ?? "none");
        var bad = services!.Where(s => !(s is JsonValue v && v.TryGetValue<string>(out var d) && d.StartsWith("did:")) &&
                                       !(s is JsonObject o && o["serviceEndpoint"] != null && o["recipientKeys"] is JsonArray)).ToList();
        c.Must("Each entry is a DID or a service block with recipientKeys and serviceEndpoint.", bad.Count == 0, "DID or service block",
            string.Join(", ", bad.Select(b => b?.ToJsonString())));
    }

    [Case("RFC0434-INVITATION-004",
        "The recipientKeys and routingKeys within the inline block decorator MUST be did:key references.", Section = "the-services-item")]
    public static async Task Inline_service_keys_are_did_keys(CaseContext c)
    {
        var inv = await Invite(c);
        var blocks = OutOfBands.InlineServices(inv).ToList();
        if (blocks.Count == 0) throw CaseContext.Unsupported("the invitation has no inline service block (it names a DID)");
        var keys = blocks.SelectMany(b => ((b["recipientKeys"] as JsonArray) ?? []).Concat((b["routingKeys"] as JsonArray) ?? [])).Select(k => k?.ToString() ?? "").ToList();
        var bad = keys.Where(k => !k.StartsWith("did:key:")).ToList();
        c.Must("Every recipient and routing key is a did:key.", bad.Count == 0, "did:key:z6Mk…", string.Join(", ", bad));
    }

    [Case("RFC0434-INVITATION-005",
        "handshake_protocols - an array of protocols in the order of preference of the sender ... The sender MUST put the array into their order of preference.",
        Section = "the-services-item")]
    public static async Task Invitation_keeps_the_handshake_order(CaseContext c)
    {
        string[] asked = ["https://didcomm.org/didexchange/1.1", "https://didcomm.org/connections/1.0"];
        var inv = await Invite(c, asked);
        var got = (inv["handshake_protocols"] as JsonArray)?.Select(x => x?.ToString()).ToList() ?? [];
        c.Must("The invitation lists the handshake protocols in the order asked.", got.SequenceEqual(asked), string.Join(", ", asked), string.Join(", ", got));
    }

    [Case("RFC0434-INVITATION-006",
        "handshake_protocols are not arbitrary protocols but rather protocols that result in the establishment of a connection (protocol URIs without a message name).")]
    public static async Task Handshake_entries_are_protocol_uris(CaseContext c)
    {
        var inv = await Invite(c);
        var entries = (inv["handshake_protocols"] as JsonArray)?.Select(x => x?.ToString() ?? "").ToList() ?? [];
        var bad = entries.Where(e => !System.Text.RegularExpressions.Regex.IsMatch(e, @"^(https://didcomm\.org/|did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/)(didexchange|connections)/1\.\d+$")).ToList();
        c.Must("Each entry is a didexchange/1.x or connections/1.0 protocol URI.", bad.Count == 0, "https://didcomm.org/didexchange/1.x", string.Join(", ", bad));
    }

    [Case("RFC0434-INVITATION-007",
        "An invitation offering connections/1.0 as handshake protocol leads to an RFC 0160 connection whose request carries ~thread.pthid = the invitation @id.",
        Section = "correlating-responses-to-out-of-band-messages")]
    public static async Task Invitation_with_connections_handshake_connects(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1", new JsonObject { ["handshake_protocols"] = new JsonArray("https://didcomm.org/connections/1.0") });
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var r = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var autId = known ?? await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), null);
        await Flows.AutConnectionStateAsync(c, autId, "The sender records the connections/1.0 request.", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        var response = await Flows.ExpectFromAutAsync(c, "response", "The sender answers with a connections/1.0 response.");
        c.Must("The response is a connections/1.0 response.", Flows.OptStr(response, "@type")?.Contains("connections/1.0/response") == true, "connections/1.0/response", Flows.OptStr(response, "@type"));
        await Flows.PeerStateAsync(c, peer, r.Connection!.Id, "The connection completes on the reference side.", "responded", "complete");
    }
}

[Suite("RFC0434", "Standard Out-of-Band Message Encoding", OutOfBands.Section + "#standard-out-of-band-message-encoding")]
public static class Rfc0434Encoding
{
    private static async Task ReceiveByUrl(CaseContext c, bool padded)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        string url;
        var label = "Bob";
        while (true)
        {
            var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true, Label = label });
            url = Wire.Invitations.InvitationUrl.Encode(rec.Invitation, peer.Host.HttpEndpoint.ToString(), Wire.Invitations.InvitationParameter.OutOfBand, padded);
            if (!padded || url.EndsWith('=')) break;
            label += "x";
        }
        JsonObject received;
        try { received = await c.Backchannel.OobReceiveInvitationAsync(new JsonObject { ["invitation_url"] = url }, false); }
        catch (Harness.Drivers.BackchannelException e) when (e.Status is 400 or 422 && e.Detail.Contains("invitation_url"))
        {
            throw CaseContext.Unsupported("the agent's backchannel does not accept an invitation URL (extension field data.invitation_url)");
        }
        var autId = Flows.Str(received, "connection_id");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") == "invitation-received")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        await Flows.ExpectFromAutAsync(c, "request", $"The receiver decodes the {(padded ? "padded" : "unpadded")} oob parameter and answers the invitation.");
    }

    [Case("RFC0434-URL-001",
        "The Base64URL encoded JSON object SHOULD NOT use padding, but the decoding implementation used MUST correctly decode padded and unpadded Base64URL encoded data.")]
    public static Task Receiver_decodes_an_unpadded_oob_url(CaseContext c) => ReceiveByUrl(c, padded: false);

    [Case("RFC0434-URL-002",
        "The decoding implementation used MUST correctly decode padded and unpadded Base64URL encoded data.")]
    public static Task Receiver_decodes_a_padded_oob_url(CaseContext c) => ReceiveByUrl(c, padded: true);

    [Case("RFC0434-URL-003",
        "The oob query parameter is required and is reserved to contain the out-of-band message string. The Base64URL encoded JSON object SHOULD NOT use padding; whitespace SHOULD be eliminated.",
        Level = Level.SHOULD)]
    public static async Task Sender_url_uses_oob_without_padding(CaseContext c)
    {
        var created = await c.Backchannel.OobSendInvitationMessageAsync(new JsonObject { ["handshake_protocols"] = new JsonArray(DidExchanges.Protocol("1.1")) });
        var url = Flows.OptStr(created, "invitation_url");
        if (url == null) throw CaseContext.Unsupported("the backchannel returns no invitation_url (AATH does not require it)");
        var decoded = Wire.Invitations.InvitationUrl.Decode(url);
        c.Must("The URL carries the invitation in the oob parameter.", decoded.Parameter == Wire.Invitations.InvitationParameter.OutOfBand, "?oob=…", url);
        c.Must("It decodes to the invitation the agent reported.", JsonNode.DeepEquals(decoded.Message, created["invitation"]), created["invitation"]?.ToJsonString(), decoded.Message.ToJsonString());
        c.Should("It is not padded.", !decoded.WasPadded, "no '='", url);
    }
}
