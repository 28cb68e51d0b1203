using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Dids;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0023;

[Suite("RFC0023", "1. Exchange Request", DidExchanges.Section + "#1-exchange-request")]
public static class Rfc0023Request
{
    private static async Task<Exchange> Requested(CaseContext c, string version = "1.1") => await DidExchanges.AutAsRequesterAsync(c, version, complete: false);

    [Case("RFC0023-REQUEST-001",
        "The @type attribute is a required string value that denotes that the received message is an exchange request.",
        Section = "request-message-attributes", Aath = "T001-RFC0023 (Acme sends the request to Bob)")]
    public static async Task Request_has_the_request_type(CaseContext c)
    {
        var x = await Requested(c);
        var type = Flows.OptStr(x.Request, "@type");
        c.Must("The request's @type is didexchange/1.x/request.", MessageType.TryParse(type, out var t) && t!.Matches("didexchange", 1, "request"),
            "https://didcomm.org/didexchange/1.x/request", type);
    }

    [Case("RFC0023-REQUEST-002",
        "The ~thread decorator MUST be included: it MUST include the ID of the parent thread (pthid) such that the request can be correlated to the corresponding (implicit or explicit) invitation.",
        Section = "request-message-attributes")]
    public static async Task Request_has_a_pthid(CaseContext c)
    {
        var x = await Requested(c);
        c.Must("The request includes ~thread.", x.Request!["~thread"] is JsonObject, "~thread", x.Request!.ToJsonString());
        c.Must("~thread includes pthid.", Flows.ParentThreadId(x.Request!) is { Length: > 0 }, "pthid", x.Request!["~thread"]!.ToJsonString());
    }

    [Case("RFC0023-REQUEST-003",
        "When a request responds to an explicit invitation, its ~thread.pthid MUST be equal to the @id property of the invitation.",
        Section = "correlating-requests-to-invitations")]
    public static async Task Request_pthid_is_the_invitation_id(CaseContext c)
    {
        var x = await Requested(c);
        var invId = Flows.OptStr(x.Invitation, "@id");
        c.Must("~thread.pthid equals the invitation @id.", Flows.ParentThreadId(x.Request!) == invId, invId, Flows.ParentThreadId(x.Request!));
    }

    [Case("RFC0023-REQUEST-004",
        "It MAY include the thid property ... if thid is not defined it is implicitly defined as the @id on the same request message. (RFC 0023 1.0 text: implementations MUST set its value to that of @id on the same request message.)",
        Section = "request-message-attributes")]
    public static async Task Request_thid_if_present_equals_its_id(CaseContext c)
    {
        var x = await Requested(c);
        var thid = Flows.ThreadId(x.Request!);
        c.Must("If ~thread.thid is present it equals the request's own @id.", thid == null || thid == Flows.OptStr(x.Request, "@id"),
            Flows.OptStr(x.Request, "@id"), thid);
    }

    [Case("RFC0023-REQUEST-005",
        "The did attribute MUST be included. It indicates the DID being exchanged.", Section = "request-message-attributes")]
    public static async Task Request_has_a_did(CaseContext c)
    {
        var x = await Requested(c);
        c.Must("The request includes did.", Flows.OptStr(x.Request, "did") is { Length: > 0 }, "did", x.Request!.ToJsonString());
    }

    [Case("RFC0023-REQUEST-006",
        "The label attribute provides a suggested label for the DID being exchanged (required by the RFC; an empty string or \"Unspecified\" may indicate a non-value).",
        Section = "request-message-attributes")]
    public static async Task Request_has_a_label(CaseContext c)
    {
        var x = await Requested(c);
        c.Must("The request includes a label (possibly empty).", x.Request!["label"] is JsonValue, "label", x.Request!.ToJsonString());
    }

    [Case("RFC0023-REQUEST-007",
        "If the did is resolvable (either an inline peer:did or a publicly resolvable DID), the did_doc~attach attribute should not be included; otherwise did_doc~attach contains the DIDDoc associated with the did.",
        Level = Level.SHOULD, Section = "request-message-attributes")]
    public static async Task Request_attaches_a_doc_only_when_needed(CaseContext c)
    {
        var x = await Requested(c);
        var did = Flows.OptStr(x.Request, "did")!;
        var selfResolving = did.StartsWith("did:peer:2") || did.StartsWith("did:peer:4") && did.Count(ch => ch == ':') >= 3 || did.StartsWith("did:key:") || did.StartsWith("did:peer:0");
        var attached = x.Request!["did_doc~attach"] != null;
        c.Must("A DID that is not self-resolving comes with did_doc~attach.", selfResolving || attached, "did_doc~attach for " + DidException.Abbrev(did), "none");
        c.Should("A self-resolving DID comes without did_doc~attach.", !selfResolving || !attached, "no did_doc~attach for " + DidException.Abbrev(did), "attached");
    }

    [Case("RFC0023-REQUEST-008",
        "The request's DID document gives the responder keys and an endpoint to answer (the DID doc is resolved per its DID method spec; did_doc~attach when included is a valid DID document).",
        Section = "request-processing")]
    public static async Task Request_did_resolves_to_a_usable_service(CaseContext c)
    {
        var x = await Requested(c);
        var peerConn = x.Peer.Agent.Store.GetConnection(x.PeerConnectionId)!;
        c.Must("The reference responder could resolve the requester's DID to a DID document.", peerConn.TheirDidDoc != null, "their DID doc", "none");
        var services = DidDocument.FromJson(peerConn.TheirDidDoc!).DidCommServices();
        c.Must("The requester's DID document has a DIDComm service with a recipient key and an endpoint.",
            services.Any(s => s.RecipientKeys.Count > 0 && s.Endpoint.Length > 0), "a usable service", peerConn.TheirDidDoc!.ToJsonString());
    }

    [Case("RFC0023-REQUEST-009",
        "The request message is encoded according to the standards of the Encryption Envelope, using the recipientKeys present in the invitation.",
        Section = "request-transmission")]
    public static async Task Request_is_encrypted_to_the_invitation_key(CaseContext c)
    {
        var x = await Requested(c);
        var e = c.Tap.Received("request").First();
        var keys = (x.Invitation["services"] as JsonArray)?.OfType<JsonObject>().SelectMany(s => (s["recipientKeys"] as JsonArray) ?? [])
            .Select(k => Flows.Verkey(k?.ToString())).ToList() ?? [];
        c.Must("The envelope carrying the request is addressed to the invitation's recipient key.", keys.Contains(e.RecipientVerkey ?? ""),
            string.Join(", ", keys), e.RecipientVerkey);
    }

    [Case("RFC0023-REQUEST-010",
        "If the routingKeys attribute was present and non-empty in the invitation, each key must be used to wrap the message in a forward request ... with the last key in the list being the one for which the serviceEndpoint possesses the private key.",
        Section = "request-transmission")]
    public static async Task Request_is_wrapped_for_each_routing_key(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var r1 = peer.Agent.Wallet.CreateKey();
        var r2 = peer.Agent.Wallet.CreateKey();
        var record = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true });
        // Route the inline service through two routing keys the reference peer holds.
        var svc = (JsonObject)((JsonArray)record.Invitation["services"]!)[0]!;
        svc["routingKeys"] = new JsonArray(Wire.Dids.DidKey.FromVerkey(r1.Verkey), Wire.Dids.DidKey.FromVerkey(r2.Verkey));
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(record.Invitation), false);
        var autId = Flows.Str(received, "connection_id");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") == "invitation-received")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        await Flows.ExpectFromAutAsync(c, "request", "The request arrives through the routing keys.");
        var forwards = c.Tap.Inbound.Where(e => Harness.Tap.WireTap.TypeNameIs(e, "forward")).ToList();
        c.Must("The outermost envelope is addressed to the last routing key.", forwards.Count >= 1 && forwards[0].RecipientVerkey == r2.Verkey, r2.Verkey,
            forwards.Count == 0 ? "no forward" : forwards[0].RecipientVerkey);
        c.Must("The next layer is addressed to the first routing key.", forwards.Count >= 2 && forwards[1].RecipientVerkey == r1.Verkey, r1.Verkey,
            forwards.Count < 2 ? $"{forwards.Count} forward layer(s)" : forwards[1].RecipientVerkey);
    }

    [Case("RFC0023-REQUEST-011",
        "After receiving the exchange request, the responder evaluates the provided DID and DID Doc according to the DID Method Spec (state request-received).",
        Section = "request-processing", Aath = "T001-RFC0023 (Bob receives the request)")]
    public static async Task Responder_records_the_request(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, complete: false);
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(x.AutConnectionId), "state");
        c.Must("The responder's exchange moved on from request-received after sending the response.", state is "response-sent" or "completed", "response-sent", state);
    }
}
