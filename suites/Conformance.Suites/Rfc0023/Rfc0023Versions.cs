using System.Text.Json.Nodes;
using Conformance.Agent.Misbehaviour;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;
using Conformance.Wire.Messages;

namespace Conformance.Suites.Rfc0023;

[Suite("RFC0023", "Versions 1.0 and 1.1", DidExchanges.Section + "#version-change-log")]
public static class Rfc0023Versions
{
    [Case("RFC0023-VERSION-001",
        "Version 1.1 added the optional did_rotate~attach; a 1.x agent accepts messages of another minor version of the same major version (RFC 0003 semver: minor versions are backward compatible).",
        Description = "The AUT invites with didexchange/1.0; the reference requester answers in 1.1, as Credo does.")]
    public static async Task Responder_accepts_a_1_1_request_to_a_1_0_invitation(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.0");
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var received = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true, PreferredHandshake = DidExchanges.Protocol("1.1") });
        var req = Flows.SentByPeer(c, "request");
        c.Must("The reference request is a 1.1 message.", Flows.OptStr(req, "@type")?.Contains("didexchange/1.1/") == true, "didexchange/1.1/request", Flows.OptStr(req, "@type"));
        var autId = await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await Flows.AutDidExchangeStateAsync(c, autId, "The responder accepts the 1.1 request.", "request-received");
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        await Flows.ExpectFromAutAsync(c, "response", "The responder answers the 1.1 request with a response.");
        await Flows.AutDidExchangeStateAsync(c, autId, "The exchange completes across minor versions.", "completed");
    }

    [Case("RFC0023-VERSION-002",
        "A requester answering a didexchange/1.0 invitation uses a 1.x request (any minor version of major 1).",
        Section = "1-exchange-request")]
    public static async Task Requester_answers_a_1_0_invitation_with_major_version_1(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, "1.0", complete: true);
        var type = MessageType.Parse(Flows.OptStr(x.Request, "@type")!);
        c.Must("The request is didexchange major version 1.", type.Protocol == "didexchange" && type.Major == 1, "didexchange/1.x", type.ToString());
        c.Note($"the requester used didexchange/{type.Major}.{type.Minor} for a 1.0 invitation");
    }

    [Case("RFC0023-VERSION-003",
        "DID Exchange 1.0: the response carries the responder's DID document in did_doc~attach, signed (\"The signature data must be used to verify against the invitation's recipientKeys for continuity\").",
        Section = "2-exchange-response")]
    public static async Task Responder_in_1_0_signs_did_doc_attach(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.0", peerOptions: o => o.DidExchangeVersion = "1.0", complete: true);
        var type = Flows.OptStr(x.Response, "@type");
        var att = x.Response!["did_doc~attach"] ?? x.Response!["did_rotate~attach"];
        c.Must("The response carries a signed attachment.", att?["data"]?["jws"] != null, "did_doc~attach with data.jws", x.Response!.ToJsonString());
        c.Note("response type " + type);
    }

    [Case("RFC0023-VERSION-004",
        "The did_rotate~attach attribute is optional, but SHOULD be included if the did attribute is resolvable and the did_doc~attach is not included.",
        Level = Level.SHOULD, Section = "response-message-attributes")]
    public static async Task Responder_in_1_1_uses_did_rotate_for_a_resolvable_did(CaseContext c)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var hasDoc = x.Response!["did_doc~attach"] != null;
        if (hasDoc) throw CaseContext.Unsupported("the responder attached its DID document, so did_rotate~attach is not required");
        c.Should("did_rotate~attach is present.", x.Response!["did_rotate~attach"] != null, "did_rotate~attach", "absent");
        var b64 = Flows.OptStr(x.Response!["did_rotate~attach"]?["data"], "base64");
        var rotated = b64 == null ? null : System.Text.Encoding.UTF8.GetString(Wire.Encoding.Base64Url.Decode(b64));
        c.Should("Its value is the base64url-encoded DID of the response.", rotated == Flows.OptStr(x.Response, "did"), Flows.OptStr(x.Response, "did"), rotated);
    }
}

[Suite("RFC0023", "Implicit and Explicit Invitations", DidExchanges.Section + "#implicit-and-explicit-invitations")]
public static class Rfc0023Implicit
{
    [Case("RFC0023-IMPLICIT-001",
        "When a request responds to an implicit invitation, its ~thread.pthid MUST contain a DID URL that resolves to the specific service on a DID document that contains the invitation.",
        Section = "correlating-requests-to-invitations", Aath = "T005-RFC0023 (Acme sends the request to Bob with the public DID)")]
    public static async Task Requester_to_a_public_did_uses_a_did_url_pthid(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var publicDid = peer.Agent.PublicDid ?? throw CaseContext.Unsupported("the reference peer has no public DID");
        var created = await Flows.NeedsOurPublicDidAsync(c.Backchannel.DidExchangeCreateRequestResolvableDidAsync(publicDid.Did, publicDid.Did), publicDid.Did);
        var autId = Flows.Str(created, "connection_id");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") is "invitation-received" or "start")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The requester sends a request to the public DID's DIDComm service.");
        var pthid = Flows.ParentThreadId(request);
        c.Must("pthid is a DID URL of the public DID's service.", pthid != null && pthid.StartsWith(publicDid.Did) && pthid.Contains('#'),
            publicDid.Did + "#<service id>", pthid);
        await Flows.ExpectFromAutAsync(c, "complete", "The implicit exchange completes (T005-RFC0023).");
    }

    [Case("RFC0023-IMPLICIT-002",
        "A public DID serves as an implicit invitation: the responder accepts a request whose pthid is a DID URL of its DIDComm service.",
        Aath = "T005-RFC0023 (Bob receives the request with their public DID)")]
    public static async Task Responder_accepts_a_request_to_its_public_did(CaseContext c)
    {
        JsonObject did;
        try { did = await c.Backchannel.PublicDidAsync(); }
        catch (Harness.Drivers.BackchannelException e) when (e.Status == 404) { throw CaseContext.Unsupported("the agent has no public DID (GET /agent/command/did: 404)"); }
        var theirDid = Flows.Str(did, "did");
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        Agent.Core.ConnectionRecord pc;
        try { pc = await peer.Agent.DidExchange.CreateRequestToPublicDidAsync(theirDid, autoAccept: true); }
        catch (Wire.Dids.DidException e) { throw CaseContext.Unsupported($"the reference peer cannot resolve {theirDid}: {e.Message}"); }
        var autId = await c.EventuallyAsync(async () =>
        {
            try { return Flows.OptStr(await c.Backchannel.DidExchangeByInvitationAsync(Flows.ParentThreadId(Flows.SentByPeer(c, "request")!)!), "connection_id"); }
            catch (Harness.Drivers.BackchannelException) { return null; }
        });
        var id = c.Require("The responder has a connection for the implicit request.", autId, "a connection id");
        await c.Backchannel.DidExchangeSendResponseAsync(id);
        await Flows.PeerStateAsync(c, peer, pc.Id, "The implicit exchange completes.", "completed");
    }

    [Case("RFC0023-EXPLICIT-001",
        "The responder gives provisional information to the requester using an explicit invitation message from the out-of-band protocol, which may name the responder's public DID as its service.",
        Section = "implicit-and-explicit-invitations", Aath = "T003-RFC0023 (explicit invitation with a public DID)")]
    public static async Task Exchange_over_an_explicit_invitation_with_a_public_did(CaseContext c)
    {
        var (known, inv) = await DidExchanges.AutInvitesAsync(c, "1.1", new JsonObject { ["use_public_did"] = true });
        var services = inv["services"] as JsonArray;
        c.Must("The invitation's service is a DID.", services?.FirstOrDefault() is JsonValue, "services: [\"did:…\"]", inv["services"]?.ToJsonString());
        var peer = await c.PeerAsync("Acme", o => o.AutoAccept = true);
        var r = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new() { AutoAccept = true });
        var autId = await DidExchanges.AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        await Flows.PeerStateAsync(c, peer, r.Connection!.Id, "The exchange over a public-DID invitation completes.", "completed");
    }
}

[Suite("RFC0793", "Unqualified DIDs transition: did:peer in DID Exchange", "aries-rfcs/0793-unqualfied-dids-transition/README.md")]
public static class Rfc0793PeerDids
{
    private static async Task ResponderAcceptsPeerMethod(CaseContext c, string method)
    {
        var x = await DidExchanges.AutAsResponderAsync(c, "1.1", o => o.DidExchangeDidMethod = method, complete: true);
        var did = Flows.OptStr(x.Request, "did")!;
        c.Must($"The reference requester presented a {method} DID.", method == "unqualified" ? !did.StartsWith("did:peer:") : did.StartsWith("did:" + method.Replace(":", ":")),
            method, did);
    }

    private static async Task RequesterAcceptsPeerMethod(CaseContext c, string method)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, "1.1", o => o.DidExchangeDidMethod = method, complete: true);
        var did = Flows.OptStr(x.Response, "did")!;
        c.Must($"The reference responder presented a {method} DID.", method == "unqualified" ? !did.StartsWith("did:peer:") : did.StartsWith("did:" + method),
            method, did);
    }

    [Case("RFC0793-PEER-001", "Agents MUST accept did:peer:2 DIDs in DID Exchange (responder side).", Aath = "T001-RFC0793 (requester sends did:peer:2)")]
    public static Task Responder_accepts_did_peer_2(CaseContext c) => ResponderAcceptsPeerMethod(c, "peer:2");

    [Case("RFC0793-PEER-002", "Agents MUST accept did:peer:4 DIDs in DID Exchange (responder side).", Aath = "T003-RFC0793 (responder set to a different peer DID method)")]
    public static Task Responder_accepts_did_peer_4(CaseContext c) => ResponderAcceptsPeerMethod(c, "peer:4");

    [Case("RFC0793-PEER-003", "A did:peer:1 DID is not self-resolving: its DID document travels in did_doc~attach and is accepted (responder side).", Level = Level.SHOULD)]
    public static Task Responder_accepts_did_peer_1(CaseContext c) => ResponderAcceptsPeerMethod(c, "peer:1");

    [Case("RFC0793-PEER-004", "During the transition, unqualified DIDs with an attached DID document are still accepted (responder side).", Level = Level.SHOULD,
        Aath = "T002-RFC0793 (responder not set to send qualified peer DIDs)")]
    public static Task Responder_accepts_unqualified(CaseContext c) => ResponderAcceptsPeerMethod(c, "unqualified");

    [Case("RFC0793-PEER-005", "Agents MUST accept did:peer:2 DIDs in DID Exchange (requester side).", Aath = "T001-RFC0793")]
    public static Task Requester_accepts_did_peer_2(CaseContext c) => RequesterAcceptsPeerMethod(c, "peer:2");

    [Case("RFC0793-PEER-006", "Agents MUST accept did:peer:4 DIDs in DID Exchange (requester side).", Aath = "T003-RFC0793")]
    public static Task Requester_accepts_did_peer_4(CaseContext c) => RequesterAcceptsPeerMethod(c, "peer:4");

    [Case("RFC0793-PEER-007", "A did:peer:1 DID with its document attached is accepted (requester side).", Level = Level.SHOULD)]
    public static Task Requester_accepts_did_peer_1(CaseContext c) => RequesterAcceptsPeerMethod(c, "peer:1");

    [Case("RFC0793-PEER-008", "Unqualified DIDs with an attached DID document are still accepted (requester side).", Level = Level.SHOULD, Aath = "T002-RFC0793")]
    public static Task Requester_accepts_unqualified(CaseContext c) => RequesterAcceptsPeerMethod(c, "unqualified");

    [Case("RFC0793-PEER-009", "The agent's own DID in a DID Exchange is a qualified DID (did:peer:2 or did:peer:4 are the methods RFC 0793 moves to).",
        Level = Level.SHOULD)]
    public static async Task Agent_uses_a_qualified_did(CaseContext c)
    {
        var x = await DidExchanges.AutAsRequesterAsync(c, "1.1", complete: false);
        var did = Flows.OptStr(x.Request, "did")!;
        c.Should("The requester's DID is qualified (did:…).", did.StartsWith("did:"), "did:peer:2 / did:peer:4", did);
    }
}
