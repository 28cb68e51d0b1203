using System.Text.Json.Nodes;
using Conformance.Agent.OutOfBand;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Rfc0434;

[Suite("RFC0434", "Responses: the receiver", OutOfBands.Section + "#responses")]
public static class Rfc0434Receiver
{
    private static async Task<string?> ReceiveAndSeeWhichHandshake(CaseContext c, params string[] handshakes)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [.. handshakes], AutoAccept = true });
        await OutOfBands.AutReceivesAsync(c, rec.Invitation);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The receiver answers the invitation with a handshake request.");
        return Flows.OptStr(request, "@type");
    }

    [Case("RFC0434-RECEIVE-001",
        "The sender MUST put the array into their order of preference, and, as such, the receiver SHOULD prefer the entries in order.",
        Level = Level.SHOULD, Section = "the-services-item", Description = "Invitation offers [didexchange/1.1, connections/1.0].")]
    public static async Task Receiver_prefers_the_first_handshake_didexchange(CaseContext c)
    {
        var type = await ReceiveAndSeeWhichHandshake(c, DidExchanges.Protocol("1.1"), "https://didcomm.org/connections/1.0");
        c.Should("The receiver uses didexchange, the first entry.", type?.Contains("/didexchange/1.") == true, "didexchange/1.x/request", type);
    }

    [Case("RFC0434-RECEIVE-002",
        "The receiver SHOULD prefer the entries in order.", Level = Level.SHOULD, Section = "the-services-item",
        Description = "Invitation offers [connections/1.0, didexchange/1.1]; a receiver that supports both uses connections/1.0.")]
    public static async Task Receiver_prefers_the_first_handshake_connections(CaseContext c)
    {
        var type = await ReceiveAndSeeWhichHandshake(c, "https://didcomm.org/connections/1.0", DidExchanges.Protocol("1.1"));
        c.Should("The receiver uses connections/1.0, the first entry.", type?.Contains("/connections/1.0/") == true, "connections/1.0/request", type);
    }

    [Case("RFC0434-RECEIVE-003",
        "Uses the first supported protocol from handshake_protocols to make a new connection using the first supported services entry.",
        Section = "responses", Description = "Invitation offers an unknown protocol first, then didexchange/1.1.")]
    public static async Task Receiver_skips_an_unsupported_handshake(CaseContext c)
    {
        var type = await ReceiveAndSeeWhichHandshake(c, "https://didcomm.org/unknown-handshake/9.0", DidExchanges.Protocol("1.1"));
        c.Must("The receiver uses the first protocol it supports (didexchange).", type?.Contains("/didexchange/1.") == true, "didexchange/1.x/request", type);
    }

    [Case("RFC0434-RECEIVE-004",
        "The response to an out-of-band message MUST set its ~thread.pthid equal to the @id property of the out-of-band message.",
        Section = "correlating-responses-to-out-of-band-messages", Description = "With connections/1.0 as the handshake protocol.")]
    public static async Task Connections_request_carries_the_invitation_as_pthid(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = ["https://didcomm.org/connections/1.0"], AutoAccept = true });
        await OutOfBands.AutReceivesAsync(c, rec.Invitation);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The receiver answers with a connections/1.0 request.");
        c.Must("request ~thread.pthid equals the invitation @id.", Flows.ParentThreadId(request) == rec.Id, rec.Id, Flows.ParentThreadId(request) ?? "none");
    }

    [Case("RFC0434-RECEIVE-005",
        "There are two forms of entries in the services item array: a DID that is resolved to retrieve its DIDDoc service block, and an inline service block.",
        Section = "the-services-item", Description = "The invitation's only service is the reference peer's public DID (did:web over loopback).")]
    public static async Task Receiver_resolves_a_did_service(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        if (peer.Agent.PublicDid == null) throw CaseContext.Unsupported("the reference peer has no public DID");
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true, UsePublicDid = true });
        try { await OutOfBands.AutReceivesAsync(c, rec.Invitation); }
        catch (Harness.Drivers.BackchannelException e) { throw CaseContext.Unsupported($"the agent cannot resolve {peer.Agent.PublicDid.Did}: {e.Detail}"); }
        await Flows.ExpectFromAutAsync(c, "request", "The receiver resolves the DID, finds its DIDComm service, and sends the request there.");
    }

    [Case("RFC0434-RECEIVE-006",
        "handshake_protocols and requests~attach: No | No — Impossible. One or both of handshake_protocols and requests~attach MUST be included in the message.",
        Section = "responses", Description = "The receiver is handed an invitation with neither; it must refuse it (backchannel error) and send nothing.")]
    public static async Task Receiver_refuses_an_invitation_with_nothing_to_do(CaseContext c)
    {
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var rec = await peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true });
        var inv = Flows.Clone(rec.Invitation);
        inv.Remove("handshake_protocols");
        string outcome;
        try
        {
            var r = await c.Backchannel.OobReceiveInvitationAsync(inv, false);
            outcome = "accepted: " + r.ToJsonString();
        }
        catch (Harness.Drivers.BackchannelException e) when (e.Status != 0) { outcome = "refused: " + e.Detail; }
        await Task.Delay(300);
        c.Must("The receiver refuses the invitation.", outcome.StartsWith("refused"), "a backchannel error", outcome);
        c.Must("Nothing is sent to the sender.", c.Tap.Inbound.Count == 0, "no message", Flows.Received(c));
    }
}

[Suite("RFC0434", "Reuse Messages", OutOfBands.Section + "#reuse-messages")]
public static class Rfc0434Reuse
{
    /// <summary>AUT = receiver. First a normal exchange, then a second invitation with the same key; the AUT is asked to reuse.</summary>
    private static async Task<(Exchange First, OobReceiveResult? Second, JsonObject Invitation2, string? AutReceived)> AutReuses(CaseContext c)
    {
        var first = await DidExchanges.AutAsRequesterAsync(c, "1.1", complete: true);
        var firstKey = OutOfBands.InlineServices(first.Invitation).First()["recipientKeys"]![0]!.ToString();
        var rec2 = await first.Peer.Agent.OutOfBand.CreateInvitationAsync(new() { HandshakeProtocols = [DidExchanges.Protocol("1.1")], AutoAccept = true,
            RecipientKey = Wire.Envelopes.Rfc0094.ToVerkey(firstKey) });
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(rec2.Invitation), useExistingConnection: true);
        return (first, null, rec2.Invitation, Flows.OptStr(received, "connection_id"));
    }

    [Case("RFC0434-REUSE-001",
        "If the receiver desires to reuse the existing connection and no requests~attach item is included in the message, the receiver SHOULD attempt to do so with the reuse and reuse-accepted messages.",
        Level = Level.SHOULD, Aath = "T012-RFC0023 @wip (connection reuse)")]
    public static async Task Receiver_sends_handshake_reuse(CaseContext c)
    {
        var (first, _, inv2, _) = await AutReuses(c);
        var reuse = await c.ReceivedAsync("handshake-reuse");
        c.Should("The receiver sends handshake-reuse on the existing connection.", reuse?.Plaintext != null, "handshake-reuse", Flows.Received(c));
        if (reuse?.Plaintext is not { } m) return;
        c.Must("handshake-reuse ~thread.pthid is the @id of the invitation.", Flows.ParentThreadId(m) == Flows.OptStr(inv2, "@id"), Flows.OptStr(inv2, "@id"), Flows.ParentThreadId(m));
        var thid = Flows.ThreadId(m);
        c.Must("handshake-reuse ~thread.thid, if present, is its own @id.", thid == null || thid == Flows.OptStr(m, "@id"), Flows.OptStr(m, "@id"), thid);
    }

    [Case("RFC0434-REUSE-002",
        "Both the handshake-reuse and handshake-reuse-accepted messages MUST be encrypted and transmitted as normal DIDComm messages.")]
    public static async Task Handshake_reuse_is_encrypted_on_the_connection(CaseContext c)
    {
        var (first, _, _, _) = await AutReuses(c);
        var reuse = await c.ReceivedAsync("handshake-reuse");
        if (reuse == null) throw CaseContext.Unsupported("the receiver did not send handshake-reuse (see RFC0434-REUSE-001)");
        var peerConn = first.Peer.Agent.Store.GetConnection(first.PeerConnectionId)!;
        c.Must("handshake-reuse arrives in an encrypted envelope.", reuse.Envelope != null && Wire.Envelopes.Rfc0019.LooksLikeEnvelope(reuse.Envelope), "an RFC 0019 envelope", reuse.Envelope);
        c.Must("It is addressed to the existing connection's key.", reuse.RecipientVerkey == peerConn.MyVerkey, peerConn.MyVerkey, reuse.RecipientVerkey);
    }

    [Case("RFC0434-REUSE-003",
        "When the inviter receives the handshake-reuse message, they MUST respond with a handshake-reuse-accepted message to notify that invitee that the request to reuse the existing connection is successful.")]
    public static async Task Sender_answers_handshake_reuse(CaseContext c)
    {
        // Reuse needs the second invitation to name the same inviter: the same public DID in services (or the same
        // key). Ask for public-DID invitations; an agent without a public DID falls back to inline services.
        JsonObject? viaPublicDid = new() { ["use_public_did"] = true };
        Exchange first;
        try { first = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true, invitationData: viaPublicDid); }
        catch (Harness.Drivers.BackchannelException e) when (e.Status is 400 or 404 or 500 or 501)
        {
            c.Note("no public-DID invitation: " + e.Detail);
            viaPublicDid = null;
            first = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        }
        var (known, inv2) = await DidExchanges.AutInvitesAsync(c, "1.1", viaPublicDid == null ? null : new JsonObject { ["use_public_did"] = true });
        var key2 = OutOfBands.InlineServices(inv2).FirstOrDefault()?["recipientKeys"]?[0]?.ToString();
        var key1 = OutOfBands.InlineServices(first.Invitation).FirstOrDefault()?["recipientKeys"]?[0]?.ToString();
        var result = await first.Peer.Agent.OutOfBand.ReceiveInvitationAsync(inv2, new() { UseExistingConnection = true, AutoAccept = true });
        var sameDid = viaPublicDid != null && inv2["services"]?.ToJsonString() == first.Invitation["services"]?.ToJsonString();
        if (!result.Reused && key1 != key2 && !sameDid)
            throw CaseContext.Unsupported("the sender's second invitation uses a new key and no public DID, so no receiver can recognise it as the same inviter");
        var reuse = Flows.SentByPeer(c, "handshake-reuse");
        c.Must("The reference receiver sent handshake-reuse.", reuse != null, "handshake-reuse", "none");
        var accepted = await Flows.ExpectFromAutAsync(c, "handshake-reuse-accepted", "The sender MUST respond with handshake-reuse-accepted.");
        c.Must("handshake-reuse-accepted ~thread.thid is the reuse message's @id.", Flows.ThreadId(accepted) == Flows.OptStr(reuse, "@id"), Flows.OptStr(reuse, "@id"), Flows.ThreadId(accepted));
        c.Must("handshake-reuse-accepted ~thread.pthid is the invitation's @id.", Flows.ParentThreadId(accepted) == Flows.OptStr(inv2, "@id"), Flows.OptStr(inv2, "@id"), Flows.ParentThreadId(accepted));
    }

    [Case("RFC0434-REUSE-004",
        "Sending or receiving this message does not change the state of the existing connection; the receiver reuses it instead of creating a redundant connection.",
        Level = Level.SHOULD)]
    public static async Task Reuse_creates_no_new_connection(CaseContext c)
    {
        var (first, _, _, autReceived) = await AutReuses(c);
        await c.ReceivedAsync("handshake-reuse");
        var requests = c.Tap.Received("request").Count;
        c.Should("No second handshake request is sent.", requests == 1, "1 request (the first exchange)", $"{requests} requests");
        var state = Flows.OptStr(await c.Backchannel.DidExchangeAsync(first.AutConnectionId), "state");
        c.Must("The existing connection is still completed.", state == "completed", "completed", state);
    }

    [Case("RFC0434-REUSE-005",
        "handshake-reuse-accepted: this message is a mechanism by which the invitee can detect a situation where the inviter no longer has a record (of the invitation or connection); a reuse naming an unknown invitation must not break the connection.",
        Level = Level.SHOULD, Description = "The reference receiver sends handshake-reuse with a pthid the sender never issued.")]
    public static async Task Unknown_invitation_in_reuse_leaves_the_connection_intact(CaseContext c)
    {
        var first = await DidExchanges.AutAsResponderAsync(c, "1.1", complete: true);
        var msg = first.Peer.Agent.NewMessage("https://didcomm.org/out-of-band/1.1/handshake-reuse");
        msg = msg.WithThread(msg.Id, "deadbeef-0000-4000-8000-000000000000");
        await first.Peer.Agent.Outbound.SendAsync(msg, first.Peer.Agent.Store.GetConnection(first.PeerConnectionId)!);
        var answer = await c.Tap.WaitAsync(e => e.Direction == "in" && e.Plaintext != null && !Harness.Tap.WireTap.TypeNameIs(e, "complete") && !Harness.Tap.WireTap.TypeNameIs(e, "request"), c.Timeout);
        c.Should("The sender does not accept a reuse for an invitation it never issued.", answer?.Type?.EndsWith("handshake-reuse-accepted") != true,
            "a problem report or nothing", answer?.Type ?? "nothing");
        await Rfc0023.Rfc0023Complete.Completed_connection_answers_a_trust_ping_on(c, first);
    }
}
