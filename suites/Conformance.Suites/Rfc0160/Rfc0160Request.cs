using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0160;

[Suite("RFC0160", "1. Connection Request", Connections160.Section + "#1-connection-request")]
public static class Rfc0160Request
{
    private static async Task<(Connection160 Conn, JsonObject Request)> RequestFromAut(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, ack: false);
        return (conn, conn.Request!);
    }

    [Case("RFC0160-REQUEST-001",
        "The @type attribute is a required string value that denotes that the received message is a connection request.",
        Aath = "T001-RFC0160 (Bob sends a connection request to Acme)")]
    public static async Task Request_has_the_request_type_and_an_id(CaseContext c)
    {
        var (_, req) = await RequestFromAut(c);
        var type = Flows.OptStr(req, "@type");
        c.Must("The request's @type is connections/1.0/request.", MessageType.TryParse(type, out var t) && t!.Matches("connections", 1, "request"),
            "…/connections/1.0/request", type);
        c.Must("The request has an @id (RFC 0008).", Flows.OptStr(req, "@id") is { Length: > 0 }, "an @id", req["@id"]?.ToJsonString() ?? "none");
    }

    [Case("RFC0160-REQUEST-002",
        "The label attribute provides a suggested label for the connection. This allows the user to tell multiple connection offers apart.",
        Level = Level.SHOULD, Section = "attributes")]
    public static async Task Request_carries_a_label(CaseContext c)
    {
        var (_, req) = await RequestFromAut(c);
        c.Should("The request carries a label.", Flows.OptStr(req, "label") is { Length: > 0 }, "a label", req["label"]?.ToJsonString() ?? "none");
    }

    [Case("RFC0160-REQUEST-003",
        "The connection attribute contains the DID and DIDDoc attributes. The DID indicates the DID of the user requesting the connection. The DIDDoc contains the DID document for the requesting user.",
        Section = "attributes")]
    public static async Task Request_carries_connection_DID_and_DIDDoc(CaseContext c)
    {
        var (_, req) = await RequestFromAut(c);
        var connection = req["connection"] as JsonObject;
        c.Must("The request has a connection attribute.", connection != null, "connection: {DID, DIDDoc}", req.ToJsonString());
        c.Must("connection.DID is present.", Flows.OptStr(connection, "DID") is { Length: > 0 }, "a DID", connection!.ToJsonString());
        var did = Flows.OptStr(connection, "DID")!;
        var isLedgerDid = did.StartsWith("did:") && !did.StartsWith("did:peer:") && !did.StartsWith("did:sov:") && !did.StartsWith("did:key:");
        c.Must("connection.DIDDoc is present (it is optional only for a ledger-resolvable, non-peer DID).", connection["DIDDoc"] is JsonObject || isLedgerDid,
            "a DIDDoc object", connection["DIDDoc"]?.ToJsonString() ?? "none");
    }

    [Case("RFC0160-REQUEST-004",
        "The DIDDoc contains the DID document for the requesting user: the inviter must be able to read from it the keys and endpoint to answer (RFC 0067 DIDComm service conventions).",
        Section = "diddoc-example")]
    public static async Task Request_DIDDoc_has_a_usable_DIDComm_service(CaseContext c)
    {
        var (_, req) = await RequestFromAut(c);
        var doc = req["connection"]?["DIDDoc"] as JsonObject;
        if (doc == null) throw CaseContext.Unsupported("no DIDDoc in the request (ledger DID)");
        IReadOnlyList<DidCommService> services;
        try { services = DidDocument.FromJson(doc).DidCommServices(); }
        catch (DidException e) { c.Must("The DIDDoc is a valid DID document.", false, "a parseable DID document", e.Message); return; }
        c.Must("The DIDDoc has a DIDComm service with recipient keys.", services.Any(s => s.RecipientKeys.Count > 0),
            "a service with recipientKeys", doc.ToJsonString());
        c.Must("The service has an endpoint.", services.Any(s => s.Endpoint.Length > 0), "a serviceEndpoint", doc.ToJsonString());
    }

    [Case("RFC0160-REQUEST-005",
        "The Request message is encoded according to the standards of the Agent Wire Level Protocol, using the recipientKeys present in the invitation.",
        Section = "request-transmission")]
    public static async Task Request_is_encrypted_to_the_invitation_key(CaseContext c)
    {
        var (conn, _) = await RequestFromAut(c);
        var e = c.Tap.Received("request").First();
        var invitationKey = (conn.Invitation["recipientKeys"] as JsonArray)?[0]?.ToString();
        c.Must("The envelope carrying the request is addressed to the invitation's recipient key.", e.RecipientVerkey == invitationKey,
            invitationKey, e.RecipientVerkey);
        c.Must("It is an RFC 0019 envelope (protected, iv, ciphertext, tag).", e.Envelope != null && Wire.Envelopes.Rfc0019.LooksLikeEnvelope(e.Envelope),
            "an encrypted envelope", e.Envelope?[..Math.Min(80, e.Envelope.Length)]);
    }

    [Case("RFC0160-REQUEST-006",
        "The inviter should check the information presented with the keys used in the wire-level message transmission to ensure they match.",
        Level = Level.SHOULD, Section = "request-processing",
        Description = "Checks the invitee's side of that promise: the request is authcrypted with a key of the DIDDoc it presents, so the inviter can match them.")]
    public static async Task Request_sender_key_matches_the_presented_DIDDoc(CaseContext c)
    {
        var (_, req) = await RequestFromAut(c);
        var e = c.Tap.Received("request").First();
        var doc = req["connection"]?["DIDDoc"] as JsonObject;
        if (doc == null) throw CaseContext.Unsupported("no DIDDoc in the request");
        var keys = DidDocument.FromJson(doc).DidCommServices().SelectMany(s => s.RecipientKeys).ToList();
        c.Should("The request is authcrypted (the sender key is known).", e.SenderVerkey != null, "authcrypt", "anoncrypt");
        c.Should("The sender key is a recipient key of the presented DIDDoc.", e.SenderVerkey != null && keys.Contains(e.SenderVerkey),
            string.Join(", ", keys), e.SenderVerkey);
    }

    [Case("RFC0160-REQUEST-007",
        "If the routingKeys attribute was present and non-empty in the invitation, each key must be used to wrap the message in a forward request ... in order of the keys in the list, with the last key in the list being the one for which the serviceEndpoint possesses the private key.",
        Section = "request-transmission")]
    public static async Task Request_is_wrapped_for_each_routing_key_in_order(CaseContext c)
    {
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var r1 = peer.Agent.Wallet.CreateKey();
        var r2 = peer.Agent.Wallet.CreateKey();
        var (_, inv, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true, RoutingKeys = [r1.Verkey, r2.Verkey] });
        var received = await c.Backchannel.ConnectionReceiveInvitationAsync(inv);
        await c.Backchannel.ConnectionAcceptInvitationAsync(Flows.Str(received, "connection_id"));
        await Flows.ExpectFromAutAsync(c, "request", "The request arrives through the routing keys.");
        var layers = c.Tap.Inbound.Where(e => e.Plaintext != null).Select(e => (e.Type, e.RecipientVerkey)).ToList();
        var forwards = layers.Where(l => l.Type?.EndsWith("/forward") == true).ToList();
        c.Must("The outermost envelope is addressed to the last routing key (the endpoint's).", forwards.Count >= 1 && forwards[0].RecipientVerkey == r2.Verkey,
            r2.Verkey, forwards.Count == 0 ? "no forward" : forwards[0].RecipientVerkey);
        c.Must("The next layer is addressed to the first routing key.", forwards.Count >= 2 && forwards[1].RecipientVerkey == r1.Verkey,
            r1.Verkey, forwards.Count < 2 ? "only " + forwards.Count + " forward layer(s)" : forwards[1].RecipientVerkey);
    }

    [Case("RFC0160-REQUEST-008",
        "After receiving the connection request, the inviter evaluates the provided DID and DID document ... We are now in the requested state.",
        Section = "request-processing", Aath = "T001-RFC0160 (Acme receives the connection request)")]
    public static async Task Inviter_records_the_request(CaseContext c)
    {
        var (autId, inv) = await Connections160.AutCreatesInvitationAsync(c);
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        await peer.Agent.Connections.ReceiveInvitationAsync(inv, autoAccept: true);
        await Flows.AutConnectionStateAsync(c, autId, "The inviter moves to the requested state on a valid request.", "request");
    }
}
