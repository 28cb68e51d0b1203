using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Suites.Support;

/// <summary>A connection between the AUT and a peer, made with either handshake (AATH examples: didexchange and 0160).</summary>
public sealed record Link(ReferencePeer Peer, string AutConnectionId, string PeerConnectionId)
{
    public ConnectionRecord PeerConnection => Peer.Agent.Store.GetConnection(PeerConnectionId)!;
}

public static class Mediations
{
    public const string Section = "aries-rfcs/0211-route-coordination/README.md";

    /// <summary>"Bob and Acme create a new connection" with the given handshake ("didexchange" or "0160"); the AUT invites.</summary>
    public static async Task<Link> ConnectAsync(CaseContext c, string handshake, Action<AgentOptions>? peerOptions = null)
    {
        if (handshake == "0160")
        {
            var x = await Connections160.AutAsInviterAsync(c, peerOptions, ack: true, peerName: "Peer");
            return new Link(x.Peer, x.AutConnectionId, x.PeerConnectionId);
        }
        var d = await DidExchanges.AutAsResponderAsync(c, "1.1", peerOptions, complete: true);
        return new Link(d.Peer, d.AutConnectionId, d.PeerConnectionId);
    }

    /// <summary>The AUT's mediation record state as its backchannel reports it.</summary>
    public static async Task<string?> AutMediationStateAsync(CaseContext c, string autConnectionId)
    {
        try { return Flows.OptStr(await c.Backchannel.MediationAsync(autConnectionId), "state"); }
        catch (BackchannelException e) when (e.Status == 404) { return null; }
    }

    public static async Task AutMediationReachesAsync(CaseContext c, string autConnectionId, string requirement, params string[] states)
    {
        string? last = null;
        var ok = await c.EventuallyAsync(async () => (last = await AutMediationStateAsync(c, autConnectionId)) is { } s && states.Contains(s) ? s : null);
        c.Must(requirement, ok != null, string.Join(" or ", states), last ?? "no mediation record");
    }
}
