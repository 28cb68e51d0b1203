using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Core;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Suites.Support;

/// <summary>An RFC 0160 connection between the agent under test and a reference peer, with the messages that made it.</summary>
public sealed record Connection160(ReferencePeer Peer, string AutConnectionId, string PeerConnectionId, JsonObject Invitation, JsonObject? Request, JsonObject? Response);

/// <summary>RFC 0160 flows in both roles, step by step as in AATH T001-RFC0160.</summary>
public static class Connections160
{
    public const string Section = "aries-rfcs/0160-connection-protocol/README.md";

    /// <summary>"Acme generates a connection invitation" — the AUT is the inviter.</summary>
    public static async Task<(string AutConnectionId, JsonObject Invitation)> AutCreatesInvitationAsync(CaseContext c, JsonObject? data = null)
    {
        var created = await c.Backchannel.ConnectionCreateInvitationAsync(data);
        var invitation = created["invitation"] as JsonObject;
        c.Must("The inviter creates an invitation message (RFC 0160 §0).", invitation != null, "an invitation object", created.ToJsonString());
        return (Flows.Str(created, "connection_id"), invitation!);
    }

    /// <summary>The AUT is the inviter: invitation → request (peer) → response (AUT, after accept-request) → ack (peer ping).</summary>
    public static async Task<Connection160> AutAsInviterAsync(CaseContext c, Action<AgentOptions>? peerOptions = null, bool ack = true, string peerName = "Bob")
    {
        var (autId, invitation) = await AutCreatesInvitationAsync(c);
        var peer = await c.PeerAsync(peerName, o => { o.AutoAccept = true; peerOptions?.Invoke(o); });
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(invitation, autoAccept: true);
        var request = Flows.SentByPeer(c, "request");
        await Flows.AutConnectionStateAsync(c, autId, "The inviter records the received request (state requested).", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        var response = await Flows.ExpectFromAutAsync(c, "response", "The inviter answers the request with a connection response (RFC 0160 §2).");
        await Flows.PeerStateAsync(c, peer, pc.Id, "The response from the agent under test is accepted by the reference invitee.", "responded", "complete");
        if (ack)
        {
            await peer.Agent.TrustPing.SendPingAsync(peer.Agent.Store.GetConnection(pc.Id)!, "ack");
            await Flows.AutConnectionStateAsync(c, autId,
                "Receipt of a message puts the inviter into the complete state (RFC 0160 §3).", "active");
        }
        return new Connection160(peer, autId, pc.Id, invitation, request, response);
    }

    /// <summary>The AUT is the invitee: peer invitation → AUT request (after accept-invitation) → peer response → AUT ack.</summary>
    public static async Task<Connection160> AutAsInviteeAsync(CaseContext c, ConnectionsInvitationOptions? options = null, Action<AgentOptions>? peerOptions = null, bool ack = true)
    {
        var peer = await c.PeerAsync("Acme", o => { o.AutoAccept = true; peerOptions?.Invoke(o); });
        options ??= new ConnectionsInvitationOptions();
        options.AutoAccept ??= true;
        var (record, invitation, _) = await peer.Agent.Connections.CreateInvitationAsync(options);
        var viaPublicDid = options.Form != ConnectionsInvitationForm.InlineKeys;
        var receiving = c.Backchannel.ConnectionReceiveInvitationAsync(Flows.Clone(invitation));
        var received = viaPublicDid ? await Flows.NeedsOurPublicDidAsync(receiving, peer.Agent.PublicDid?.Did ?? "its public DID") : await receiving;
        var autId = Flows.Str(received, "connection_id");
        var accepting = c.Backchannel.ConnectionAcceptInvitationAsync(autId);
        if (viaPublicDid) await Flows.NeedsOurPublicDidAsync(accepting, peer.Agent.PublicDid?.Did ?? "its public DID");
        else await accepting;
        var request = await Flows.ExpectFromAutAsync(c, "request", "The invitee sends a connection request to the inviter (RFC 0160 §1).");
        await Flows.AutConnectionStateAsync(c, autId, "The invitee processes the connection response (RFC 0160 §2, Response Processing).", "response", "active");
        var peerConnectionId = record.ConnectionId ?? peer.Agent.Store.FindConnection(x => x.ThreadId == Flows.OptStr(request, "@id"))?.Id
            ?? throw new CaseFailedException("the reference inviter has no connection for the request");
        if (ack)
        {
            await c.Backchannel.ConnectionSendPingAsync(autId, "ack");
            await Flows.PeerStateAsync(c, peer, peerConnectionId,
                "The invitee SHOULD send a message to the inviter; any message confirms the connection (RFC 0160 §3).", "complete");
        }
        var response = Flows.SentByPeer(c, "response");
        return new Connection160(peer, autId, peerConnectionId, invitation, request, response);
    }
}
