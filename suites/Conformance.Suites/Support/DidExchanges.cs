using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Suites.Support;

/// <summary>A didexchange between the agent under test and a reference peer, with the messages that made it.</summary>
public sealed record Exchange(ReferencePeer Peer, string AutConnectionId, string PeerConnectionId, JsonObject Invitation,
    JsonObject? Request, JsonObject? Response, JsonObject? Complete)
{
    public Agent.Core.ConnectionRecord PeerConnection() => Peer.Agent.Store.GetConnection(PeerConnectionId)!;
}

/// <summary>RFC 0023 flows (explicit OOB invitations), step by step as in AATH T001-RFC0023.</summary>
public static class DidExchanges
{
    public const string Section = "aries-rfcs/0023-did-exchange/README.md";
    public static string Protocol(string version) => $"https://didcomm.org/didexchange/{version}";

    /// <summary>"Bob sends an explicit invitation to Acme" with the AUT as Bob (the responder).</summary>
    public static async Task<(string? AutConnectionId, JsonObject Invitation)> AutInvitesAsync(CaseContext c, string version = "1.1", JsonObject? extra = null)
    {
        var data = extra ?? new JsonObject();
        data["handshake_protocols"] ??= new JsonArray(Protocol(version));
        var created = await c.Backchannel.OobSendInvitationMessageAsync(data);
        var inv = created["invitation"] as JsonObject;
        c.Must("The responder creates an out-of-band invitation (RFC 0434).", inv != null, "an invitation", created.ToJsonString());
        return (Flows.OptStr(created, "connection_id"), inv!);
    }

    /// <summary>The AUT's connection for a request that answered <paramref name="invitationId"/>.</summary>
    public static async Task<string> AutConnectionForInvitationAsync(CaseContext c, string invitationId, string? known)
    {
        if (known != null) return known;
        var id = await c.EventuallyAsync(async () =>
        {
            try { return Flows.OptStr(await c.Backchannel.DidExchangeByInvitationAsync(invitationId), "connection_id"); }
            catch (BackchannelException e) when (e.Status == 404) { return null; }
        });
        return c.Require("The responder has a connection for the request (GET /agent/response/did-exchange/{invitation_id}).", id, "a connection id");
    }

    /// <summary>AUT = responder: invitation (AUT) → request (peer) → response (AUT) → complete (peer).</summary>
    public static async Task<Exchange> AutAsResponderAsync(CaseContext c, string version = "1.1", Action<AgentOptions>? peerOptions = null, bool complete = true,
        JsonObject? invitationData = null)
    {
        var (known, inv) = await AutInvitesAsync(c, version, invitationData);
        var peer = await c.PeerAsync("Acme", o => { o.AutoAccept = complete; peerOptions?.Invoke(o); });
        var received = await peer.Agent.OutOfBand.ReceiveInvitationAsync(inv, new OobReceiveOptions { AutoAccept = true });
        var pc = received.Connection ?? throw new CaseFailedException("the reference requester made no connection from the invitation");
        var request = Flows.SentByPeer(c, "request");
        var autId = await AutConnectionForInvitationAsync(c, Flows.Str(inv, "@id"), known);
        await Flows.AutDidExchangeStateAsync(c, autId, "The responder records the request (state request-received).", "request-received");
        await c.Backchannel.DidExchangeSendResponseAsync(autId);
        var response = await Flows.ExpectFromAutAsync(c, "response", "The responder answers the request with a response (RFC 0023 §2).");
        JsonObject? completeMsg = null;
        if (complete)
        {
            await Flows.PeerStateAsync(c, peer, pc.Id, "The reference requester accepts the response and sends complete.", "completed");
            completeMsg = Flows.SentByPeer(c, "complete");
            await Flows.AutDidExchangeStateAsync(c, autId, "Receipt of the complete message puts the responder into the completed state (RFC 0023 §3).", "completed");
        }
        return new Exchange(peer, autId, pc.Id, inv, request, response, completeMsg);
    }

    /// <summary>AUT = requester: invitation (peer) → request (AUT) → response (peer) → complete (AUT).</summary>
    public static async Task<Exchange> AutAsRequesterAsync(CaseContext c, string version = "1.1", Action<AgentOptions>? peerOptions = null,
        Action<OobInvitationOptions>? invitation = null, bool complete = true)
    {
        var peer = await c.PeerAsync("Bob", o => { o.AutoAccept = true; peerOptions?.Invoke(o); });
        var options = new OobInvitationOptions { HandshakeProtocols = [Protocol(version)], AutoAccept = true };
        invitation?.Invoke(options);
        var record = await peer.Agent.OutOfBand.CreateInvitationAsync(options);
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(record.Invitation), useExistingConnection: false);
        var autId = Flows.Str(received, "connection_id");
        await Flows.AutDidExchangeStateAsync(c, autId, "The requester records the invitation (state invitation-received).", "invitation-received", "request-sent");
        if (Flows.OptStr(await c.Backchannel.DidExchangeAsync(autId), "state") == "invitation-received")
            await c.Backchannel.DidExchangeSendRequestAsync(autId);
        var request = await Flows.ExpectFromAutAsync(c, "request", "The requester sends a request (RFC 0023 §1).",
            m => Flows.ParentThreadId(m) == record.Id || Flows.ParentThreadId(m) == null);
        var response = Flows.SentByPeer(c, "response");
        JsonObject? completeMsg = null;
        if (complete)
        {
            completeMsg = await Flows.ExpectFromAutAsync(c, "complete", "The requester sends complete after the response (RFC 0023 §3: this message is required in the flow).");
            await Flows.AutDidExchangeStateAsync(c, autId, "After a complete message is sent, the requester is in the completed terminal state.", "completed");
        }
        var pc = peer.Agent.Store.FindConnection(x => x.ThreadId == (Flows.ThreadId(request) ?? Flows.OptStr(request, "@id")))
                 ?? throw new CaseFailedException("the reference responder has no connection for the request");
        response ??= Flows.SentByPeer(c, "response");
        return new Exchange(peer, autId, pc.Id, record.Invitation, request, response, completeMsg);
    }
}
