using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;

namespace Conformance.Suites.Rfc0160;

[Suite("RFC0160", "2. Connection Response", Connections160.Section + "#2-connection-response")]
public static class Rfc0160Response
{
    private static async Task<Connection160> Responded(CaseContext c) => await Connections160.AutAsInviterAsync(c, ack: false);

    [Case("RFC0160-RESPONSE-001",
        "The @type attribute is a required string value that denotes that the received message is a connection response.",
        Aath = "T001-RFC0160 (Acme sends a connection response to Bob)")]
    public static async Task Response_has_the_response_type(CaseContext c)
    {
        var conn = await Responded(c);
        var type = Flows.OptStr(conn.Response!, "@type");
        c.Must("The response's @type is connections/1.0/response.", MessageType.TryParse(type, out var t) && t!.Matches("connections", 1, "response"),
            "…/connections/1.0/response", type);
    }

    [Case("RFC0160-RESPONSE-002",
        "The ~thread block contains a thid reference to the @id of the request message.", Section = "attributes")]
    public static async Task Response_threads_to_the_request(CaseContext c)
    {
        var conn = await Responded(c);
        var requestId = Flows.OptStr(conn.Request, "@id");
        c.Must("response ~thread.thid equals the request @id.", Flows.ThreadId(conn.Response!) == requestId, requestId, Flows.ThreadId(conn.Response!) ?? "no ~thread.thid");
    }

    [Case("RFC0160-RESPONSE-003",
        "The above message is required to be signed as described in RFC 0234 Signature Decorator. The connection attribute will be base64URL encoded and included as part of the sig_data attribute of the signed field.")]
    public static async Task Response_connection_is_signed(CaseContext c)
    {
        var conn = await Responded(c);
        var sig = conn.Response!["connection~sig"] as JsonObject;
        c.Must("The response carries connection~sig.", sig != null, "connection~sig", string.Join(", ", conn.Response!.Select(p => p.Key)));
        var type = Flows.OptStr(sig, "@type");
        c.Must("connection~sig is an ed25519Sha512_single signature.", type?.EndsWith("signature/1.0/ed25519Sha512_single") == true,
            "…/signature/1.0/ed25519Sha512_single", type);
    }

    [Case("RFC0160-RESPONSE-004",
        "Upon receipt, the signed attribute will be automatically unpacked and the signature verified.")]
    public static async Task Response_signature_verifies(CaseContext c)
    {
        var conn = await Responded(c);
        var sig = conn.Response!["connection~sig"] as JsonObject ?? throw new CaseFailedException("no connection~sig");
        SignatureVerification? v = null;
        string error = "";
        try { v = SignatureDecorator.Verify(sig); } catch (SignatureException e) { error = e.Message; }
        c.Must("The connection~sig signature verifies over sig_data with the signer key.", v != null, "a valid Ed25519 signature", error);
    }

    [Case("RFC0160-RESPONSE-005",
        "The signature data must be used to verify against the invitation's recipientKeys for continuity.")]
    public static async Task Response_is_signed_by_the_invitation_key(CaseContext c)
    {
        var conn = await Responded(c);
        var signer = Flows.OptStr(conn.Response!["connection~sig"], "signer");
        var keys = (conn.Invitation["recipientKeys"] as JsonArray)?.Select(k => k!.ToString()).ToList();
        if (keys == null)
        {
            var did = Flows.OptStr(conn.Invitation, "did");
            throw CaseContext.Unsupported($"the invitation names a public DID ({did}); its key continuity needs that DID's resolver");
        }
        c.Must("connection~sig.signer is one of the invitation's recipientKeys.", signer != null && keys.Contains(signer), string.Join(", ", keys), signer);
    }

    [Case("RFC0160-RESPONSE-006",
        "The connection attribute contains the DID and DIDDoc attributes ... The DID attribute is a required string value and denotes DID in use by the inviter.",
        Section = "attributes")]
    public static async Task Signed_connection_contains_DID_and_DIDDoc(CaseContext c)
    {
        var conn = await Responded(c);
        var v = SignatureDecorator.Verify(conn.Response!["connection~sig"] as JsonObject ?? throw new CaseFailedException("no connection~sig"));
        var connection = v.Value as JsonObject;
        c.Must("The signed value is the connection object.", connection != null, "{DID, DIDDoc}", v.Value.ToJsonString());
        c.Must("It has a DID.", Flows.OptStr(connection, "DID") is { Length: > 0 }, "DID", connection!.ToJsonString());
        var doc = connection["DIDDoc"] as JsonObject;
        c.Must("It has a DIDDoc with a usable DIDComm service.", doc != null && DidDocument.FromJson(doc).DidCommServices().Any(s => s.RecipientKeys.Count > 0),
            "DIDDoc with a service", connection.ToJsonString());
    }

    [Case("RFC0160-RESPONSE-007",
        "The message should be packaged in the wire level format, using the keys from the request, and the new keys presented in the internal DID document.",
        Level = Level.SHOULD, Section = "response-transmission")]
    public static async Task Response_is_encrypted_to_the_request_key(CaseContext c)
    {
        var conn = await Responded(c);
        var doc = conn.Request!["connection"]?["DIDDoc"] as JsonObject;
        var keys = doc == null ? [] : DidDocument.FromJson(doc).DidCommServices().SelectMany(s => s.RecipientKeys).ToList();
        var e = c.Tap.Received("response").First();
        c.Should("The response is addressed to a key from the request's DIDDoc.", keys.Contains(e.RecipientVerkey ?? ""), string.Join(", ", keys), e.RecipientVerkey);
        var signedDoc = SignatureDecorator.Verify((JsonObject)conn.Response!["connection~sig"]!).Value["DIDDoc"] as JsonObject;
        var newKeys = signedDoc == null ? [] : DidDocument.FromJson(signedDoc).DidCommServices().SelectMany(s => s.RecipientKeys).ToList();
        c.Should("The response is authcrypted with a key of the inviter's new DID document.", e.SenderVerkey != null && newKeys.Contains(e.SenderVerkey),
            string.Join(", ", newKeys), e.SenderVerkey ?? "anoncrypt");
    }

    [Case("RFC0160-RESPONSE-008",
        "The connection attribute has been removed and its contents combined with the timestamp and encoded into the sig_data field of the new connection~sig attribute.",
        Level = Level.SHOULD)]
    public static async Task Response_has_no_unsigned_connection(CaseContext c)
    {
        var conn = await Responded(c);
        c.Should("No unsigned connection attribute travels next to connection~sig.", conn.Response!["connection"] == null, "only connection~sig",
            conn.Response!["connection"]?.ToJsonString());
    }

    [Case("RFC0160-RESPONSE-009",
        "When the invitee receives the response message, they will verify the sig_data provided. After validation, they will update their wallet with the new connection information.",
        Section = "response-processing", Aath = "T001-RFC0160 (Bob receives the connection response)")]
    public static async Task Invitee_processes_a_valid_response(CaseContext c)
    {
        var conn = await Connections160.AutAsInviteeAsync(c, ack: false);
        var r = await c.Backchannel.ConnectionAsync(conn.AutConnectionId);
        c.Must("The invitee's connection is in the response (or active) state.", Flows.OptStr(r, "state") is "response" or "active", "response", Flows.OptStr(r, "state"));
    }
}
