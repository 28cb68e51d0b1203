using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;

namespace Conformance.Suites.Rfc0023;

[Suite("RFC0023", "2. Exchange Response", DidExchanges.Section + "#2-exchange-response")]
public static class Rfc0023Response
{
    private static Task<Exchange> Responded(CaseContext c, string version = "1.1") => DidExchanges.AutAsResponderAsync(c, version, complete: true);

    [Case("RFC0023-RESPONSE-001",
        "The @type attribute is a required string value that denotes that the received message is an exchange response.",
        Section = "response-message-attributes", Aath = "T001-RFC0023 (Bob sends a response to Acme)")]
    public static async Task Response_has_the_response_type(CaseContext c)
    {
        var x = await Responded(c);
        var type = Flows.OptStr(x.Response, "@type");
        c.Must("The response's @type is didexchange/1.x/response.", MessageType.TryParse(type, out var t) && t!.Matches("didexchange", 1, "response"),
            "…/didexchange/1.x/response", type);
    }

    [Case("RFC0023-RESPONSE-002",
        "The ~thread decorator MUST be included. It contains a thid reference to the @id of the request message.", Section = "response-message-attributes")]
    public static async Task Response_threads_to_the_request(CaseContext c)
    {
        var x = await Responded(c);
        var requestThread = Flows.ThreadId(x.Request!) ?? Flows.OptStr(x.Request, "@id");
        c.Must("response ~thread.thid equals the request's thread (its @id).", Flows.ThreadId(x.Response!) == requestThread, requestThread, Flows.ThreadId(x.Response!) ?? "none");
    }

    [Case("RFC0023-RESPONSE-003",
        "The did attribute MUST be included. It denotes the DID in use by the responder.", Section = "response-message-attributes")]
    public static async Task Response_has_a_did(CaseContext c)
    {
        var x = await Responded(c);
        c.Must("The response includes did.", Flows.OptStr(x.Response, "did") is { Length: > 0 }, "did", x.Response!.ToJsonString());
    }

    [Case("RFC0023-RESPONSE-004",
        "The did_rotate~attach attribute is optional, but SHOULD be included if the did attribute is resolvable and the did_doc~attach is not included. The value is the Base64url encoded DID, and signed with the key used in the invitation.",
        Level = Level.SHOULD, Section = "response-message-attributes")]
    public static async Task Response_carries_a_signed_attachment(CaseContext c)
    {
        var x = await Responded(c);
        var hasRotate = x.Response!["did_rotate~attach"] != null;
        var hasDoc = x.Response!["did_doc~attach"] != null;
        c.Should("The response carries did_rotate~attach or did_doc~attach.", hasRotate || hasDoc, "did_rotate~attach", "neither");
    }

    [Case("RFC0023-RESPONSE-005",
        "After decryption validation, the signature on the did_doc~attach or did_rotate~attach MUST be validated, if present. The key used in the signature MUST match the key used in the invitation.",
        Section = "response-processing")]
    public static async Task Response_attachment_is_signed_by_the_invitation_key(CaseContext c)
    {
        var x = await Responded(c);
        var invitationKeys = (x.Invitation["services"] as JsonArray)?.OfType<JsonObject>()
            .SelectMany(s => (s["recipientKeys"] as JsonArray) ?? []).Select(k => Flows.Verkey(k?.ToString())).ToList() ?? [];
        if (invitationKeys.Count == 0) throw CaseContext.Unsupported("the invitation names a public DID rather than inline keys");
        var att = (x.Response!["did_rotate~attach"] ?? x.Response!["did_doc~attach"]) as JsonObject;
        if (att == null) throw CaseContext.Unsupported("the response carries no signed attachment (see RFC0023-RESPONSE-004)");
        var data = att["data"] as JsonObject;
        var jws = data?["jws"] as JsonObject;
        c.Must("The attachment is signed (data.jws).", jws != null, "data.jws", att.ToJsonString());
        string? signer = null, error = null;
        try { signer = AttachmentJws.Verify(jws!, Flows.OptStr(data, "base64") ?? ""); } catch (SignatureException e) { error = e.Message; }
        c.Must("The attachment signature verifies.", signer != null, "a valid EdDSA JWS", error);
        c.Must("The signing key is the invitation's key.", invitationKeys.Contains(signer!), string.Join(", ", invitationKeys), signer);
    }

    [Case("RFC0023-RESPONSE-006",
        "The message should be packaged in the encrypted envelope format, using the keys from the request, and the new keys presented in the internal did doc.",
        Level = Level.SHOULD, Section = "response-transmission")]
    public static async Task Response_is_encrypted_to_the_requester(CaseContext c)
    {
        var x = await Responded(c);
        var e = c.Tap.Received("response").First();
        var peerConn = x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!;
        c.Should("The response is addressed to the requester's key.", e.RecipientVerkey == peerConn.MyVerkey, peerConn.MyVerkey, e.RecipientVerkey);
        c.Should("The response is authcrypted.", e.SenderVerkey != null, "authcrypt", "anoncrypt");
    }

    [Case("RFC0023-RESPONSE-007",
        "When the requester receives the response message ... the signature on the did_doc~attach or did_rotate~attach MUST be validated ... After attachment signature validation, they will update their wallet with the new information, and use that information in sending the complete message.",
        Section = "response-processing", Aath = "T001-RFC0023 (Acme receives the response)")]
    public static async Task Requester_accepts_a_valid_response(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        var e = c.Tap.Received("complete").First();
        var theirDid = x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!;
        c.Must("The complete is sent with the keys of the responder's new DID (its response), not the invitation key.",
            e.RecipientVerkey == theirDid.MyVerkey, theirDid.MyVerkey, e.RecipientVerkey);
    }
}

[Suite("RFC0023", "3. Exchange Complete", DidExchanges.Section + "#3-exchange-complete")]
public static class Rfc0023Complete
{
    [Case("RFC0023-COMPLETE-001",
        "The exchange complete message is used to confirm the exchange to the responder. This message is required in the flow, as it marks the exchange complete.",
        Aath = "T001-RFC0023 (Acme sends complete to Bob)")]
    public static async Task Requester_sends_complete(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        var type = Flows.OptStr(x.Complete, "@type");
        c.Must("The requester's complete has the complete type.", MessageType.TryParse(type, out var t) && t!.Matches("didexchange", 1, "complete"), "…/didexchange/1.x/complete", type);
    }

    [Case("RFC0023-COMPLETE-002",
        "The pthid is required in this message, and must be identical to the pthid used in the request message.")]
    public static async Task Complete_pthid_equals_the_request_pthid(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        var expected = Flows.ParentThreadId(x.Request!);
        c.Must("complete ~thread.pthid equals the request's pthid.", Flows.ParentThreadId(x.Complete!) == expected, expected, Flows.ParentThreadId(x.Complete!) ?? "none");
    }

    [Case("RFC0023-COMPLETE-003",
        "The ~thread thid is the Message ID (@id) of the first message in the thread (the request).")]
    public static async Task Complete_thid_is_the_request_thread(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, complete: true);
        var expected = Flows.ThreadId(x.Request!) ?? Flows.OptStr(x.Request, "@id");
        c.Must("complete ~thread.thid equals the request's thread id.", Flows.ThreadId(x.Complete!) == expected, expected, Flows.ThreadId(x.Complete!) ?? "none");
    }

    [Case("RFC0023-COMPLETE-004",
        "After a complete message is sent, the requester is in the completed terminal state. Receipt of the message puts the responder into the completed state.",
        Aath = "T001-RFC0023 (Acme and Bob have a connection)")]
    public static async Task Both_sides_complete(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, complete: true);
        var pc = x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!;
        c.Must("The reference requester is completed.", pc.State == "completed", "completed", pc.State);
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(x.AutConnectionId), "state");
        c.Must("The responder (agent under test) is completed.", state == "completed", "completed", state);
    }

    [Case("RFC0023-COMPLETE-005",
        "The connection is usable once completed: a trust ping over it is answered (RFC 0048).",
        Section = "next-steps")]
    public static async Task Completed_connection_answers_a_trust_ping(CaseContext c)
        => await Completed_connection_answers_a_trust_ping_on(c, await DidExchanges.AutAsResponderAsync(c, complete: true));

    /// <summary>Shared check: the connection still answers a trust ping (the state machine is unharmed).</summary>
    public static async Task Completed_connection_answers_a_trust_ping_on(CaseContext c, Exchange x)
    {
        var pingId = await x.Peer.Agent.TrustPing.SendPingAsync(x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!, "hello");
        var pong = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == pingId);
        c.Must("The responder answers a trust ping on the new connection.", pong != null, "ping_response", Flows.Received(c));
    }
}
