using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0160;

[Suite("RFC0160", "0. Invitation to Connect", Connections160.Section + "#0-invitation-to-connect")]
public static class Rfc0160Invitation
{
    [Case("RFC0160-INVITATION-001",
        "A connection invitation is an agent message with agent plaintext format: it has an @type of the connections/1.0 family naming `invitation`, and an @id.",
        Aath = "T001-RFC0160 (Acme generates a connection invitation)")]
    public static async Task Invitation_is_a_connections_invitation_message(CaseContext c)
    {
        var (_, inv) = await Connections160.AutCreatesInvitationAsync(c);
        var type = Flows.OptStr(inv, "@type");
        c.Must("The invitation's @type is connections/1.0/invitation (either prefix).",
            MessageType.TryParse(type, out var t) && t!.Matches("connections", 1, "invitation"), "…/connections/1.0/invitation", type ?? "no @type");
        c.Must("The invitation has an @id.", Flows.OptStr(inv, "@id") is { Length: > 0 }, "a non-empty @id", inv["@id"]?.ToJsonString() ?? "none");
    }

    [Case("RFC0160-INVITATION-002",
        "The necessary data that an invitation to connect must result in is: suggested label, publicly resolvable DID OR suggested label, recipientKeys, serviceEndpoint, routingKeys (optional).")]
    public static async Task Invitation_carries_label_and_either_a_did_or_keys_and_endpoint(CaseContext c)
    {
        var (_, inv) = await Connections160.AutCreatesInvitationAsync(c);
        c.Should("The invitation carries a suggested label.", Flows.OptStr(inv, "label") != null, "a label", inv.ToJsonString());
        var hasDid = Flows.OptStr(inv, "did") != null;
        var hasKeys = inv["recipientKeys"] is JsonArray { Count: > 0 } && Flows.OptStr(inv, "serviceEndpoint") != null;
        c.Must("The invitation carries a public DID, or recipientKeys and a serviceEndpoint.", hasDid || hasKeys,
            "did, or recipientKeys + serviceEndpoint", inv.ToJsonString());
    }

    [Case("RFC0160-INVITATION-003",
        "recipientKeys and routingKeys must be inline keys, not DID key references when contained in an invitation. As in the DID document with Ed25519VerificationKey2018 key types, the key must be base58 encoded.")]
    public static async Task Invitation_keys_are_inline_base58(CaseContext c)
    {
        var (_, inv) = await Connections160.AutCreatesInvitationAsync(c);
        if (inv["recipientKeys"] is not JsonArray keys) throw CaseContext.Unsupported("the agent's invitation uses a public DID, so it carries no keys");
        var all = keys.Concat(inv["routingKeys"] as JsonArray ?? []).Select(k => k?.ToString() ?? "").ToList();
        var bad = all.Where(k => !(Base58.TryDecode(k, out var b) && b.Length == 32)).ToList();
        c.Must("Every recipient and routing key is a base58-encoded 32-byte Ed25519 key, not a DID reference.", bad.Count == 0,
            "base58 verkeys", bad.Count == 0 ? "ok" : string.Join(", ", bad));
    }

    [Case("RFC0160-INVITATION-004",
        "The c_i query parameter is required and is reserved to contain the invitation string: an agent plaintext message that has been base64 url encoded.",
        Level = Level.SHOULD, Section = "standard-invitation-encoding")]
    public static async Task Invitation_url_carries_c_i_that_decodes_to_the_invitation(CaseContext c)
    {
        var created = await c.Backchannel.ConnectionCreateInvitationAsync();
        var url = Flows.OptStr(created, "invitation_url");
        if (url == null) throw CaseContext.Unsupported("the agent's backchannel does not return an invitation_url (AATH does not require it)");
        var decoded = Wire.Invitations.InvitationUrl.Decode(url);
        c.Must("The invitation URL has a c_i parameter.", decoded.Parameter == Wire.Invitations.InvitationParameter.ConnectionInvitation,
            "?c_i=…", url);
        c.Must("The c_i parameter decodes to the invitation the agent reported.",
            JsonNode.DeepEquals(decoded.Message, created["invitation"]), created["invitation"]?.ToJsonString(), decoded.Message.ToJsonString());
    }

    [Case("RFC0160-INVITATION-005",
        "In receiving the invitation, the base64url decode implementation used MUST correctly decode padded and unpadded base64URL encoded data.",
        Section = "invitation-processing", Aath = "(none: AATH passes invitations as JSON)")]
    public static Task Invitee_decodes_a_padded_invitation_url(CaseContext c) => ReceiveByUrl(c, padded: true);

    [Case("RFC0160-INVITATION-006",
        "In receiving the invitation, the base64url decode implementation used MUST correctly decode padded and unpadded base64URL encoded data.",
        Section = "invitation-processing")]
    public static Task Invitee_decodes_an_unpadded_invitation_url(CaseContext c) => ReceiveByUrl(c, padded: false);

    private static async Task ReceiveByUrl(CaseContext c, bool padded)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        JsonObject invitation;
        // Find a label that makes the encoded JSON need padding, so the padded case really carries '='.
        var label = "Acme";
        string url;
        while (true)
        {
            var (_, inv, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { Label = label, AutoAccept = true });
            invitation = inv;
            url = Wire.Invitations.InvitationUrl.Encode(inv, peer.Host.HttpEndpoint.ToString(), Wire.Invitations.InvitationParameter.ConnectionInvitation, padded);
            if (!padded || url.EndsWith('=')) break;
            label += "x";
        }
        JsonObject received;
        try
        {
            received = await c.Backchannel.ConnectionReceiveInvitationAsync(new JsonObject { ["invitation_url"] = url });
        }
        catch (Harness.Drivers.BackchannelException e) when (e.Status is 400 or 422 && e.Detail.Contains("invitation_url"))
        {
            throw CaseContext.Unsupported("the agent's backchannel does not accept an invitation URL (extension field data.invitation_url)");
        }
        var autId = Flows.Str(received, "connection_id");
        await c.Backchannel.ConnectionAcceptInvitationAsync(autId);
        var request = await Flows.ExpectFromAutAsync(c, "request",
            $"The invitee decodes the {(padded ? "padded" : "unpadded")} c_i string and answers the invitation with a request.");
        c.Must("The request is addressed to the invitation that was decoded.", request["connection"] != null, "a connection request", request.ToJsonString());
    }

    [Case("RFC0160-INVITATION-007",
        "If routingKeys is present and non-empty, additional forwarding wrapping will be necessary for the request message.",
        Section = "routing-keys")]
    public static async Task Invitee_accepts_an_invitation_with_routing_keys(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var routing = peer.Agent.Wallet.CreateKey();
        var (_, inv, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true, RoutingKeys = [routing.Verkey] });
        var received = await c.Backchannel.ConnectionReceiveInvitationAsync(inv);
        var autId = Flows.Str(received, "connection_id");
        await c.Backchannel.ConnectionAcceptInvitationAsync(autId);
        var forward = await c.Tap.WaitAsync(e => e.Direction == "in" && Harness.Tap.WireTap.TypeNameIs(e, "forward"), c.Timeout);
        c.Must("The request is wrapped in a forward for the invitation's routing key.", forward != null, "a routing/1.0 forward", Flows.Received(c));
        await Flows.ExpectFromAutAsync(c, "request", "Inside the forward is the connection request.");
    }

    [Case("RFC0160-INVITATION-008",
        "Message types: agents use both the https://didcomm.org/ prefix and the legacy did:sov:BzCbsNYhMrjHiqZDTUASHg;spec/ prefix (RFC 0160 examples were written with the latter).",
        Section = "0-invitation-to-connect", Description = "The reference inviter speaks only the legacy prefix; the agent under test must still connect.")]
    public static async Task Invitee_accepts_legacy_did_sov_prefix(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, new() { LegacyPrefix = true });
        c.Must("The invitation carried the legacy prefix.", Flows.OptStr(conn.Invitation, "@type")!.StartsWith(DocUris.LegacySov), DocUris.LegacySov + "…", Flows.OptStr(conn.Invitation, "@type"));
    }

    [Case("RFC0160-INVITATION-009",
        "Invitation Message with Public Invitation DID: the necessary data is a suggested label and a publicly resolvable DID.",
        Section = "0-invitation-to-connect")]
    public static async Task Invitee_accepts_a_public_did_invitation(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, new() { Form = Agent.Connections.ConnectionsInvitationForm.PublicDid });
        c.Must("The invitation named a DID instead of keys.", Flows.OptStr(conn.Invitation, "did") != null, "did", conn.Invitation.ToJsonString());
    }

    [Case("RFC0160-INVITATION-010",
        "Invitation Message with Keys and DID Service Endpoint Reference: if the endpoint is not a URI but a DID itself, that DID refers to an Agency; its key is appended to the end of the list of routingKeys.",
        Section = "agency-endpoint")]
    public static async Task Invitee_accepts_a_did_service_endpoint_reference(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, new() { Form = Agent.Connections.ConnectionsInvitationForm.DidServiceEndpoint });
        var endpoint = Flows.OptStr(conn.Invitation, "serviceEndpoint");
        c.Must("The invitation's serviceEndpoint was a DID.", endpoint?.StartsWith("did:") == true, "did:…", endpoint);
    }
}
