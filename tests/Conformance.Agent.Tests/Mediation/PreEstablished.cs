using Conformance.Agent.Core;
using Conformance.Agent.Transport;

namespace Conformance.Agent.Tests.Mediation;

/// <summary>
/// TEST-ONLY "pre-established connection": writes two matching <see cref="ConnectionRecord"/>s (state completed)
/// straight into both agents' stores from freshly created DIDs (<see cref="MyDids.Create"/>), as if a didexchange had
/// just finished. Mediation and pickup run over established connections; this lets their tests run before the
/// Connections/DidExchange protocols land, and keeps them independent of those protocols afterwards.
/// </summary>
internal static class PreEstablished
{
    /// <param name="aDid">A's DID for the relationship (e.g. one routed through a mediator); default a fresh peer:2 DID.</param>
    /// <param name="aReachableAt">Endpoint B uses to reach A instead of the one in A's DID (e.g. A's ws:// endpoint).</param>
    public static (ConnectionRecord AtoB, ConnectionRecord BtoA) Connect(ReferenceAgent a, ReferenceAgent b,
        MyDid? aDid = null, MyDid? bDid = null, string? aReachableAt = null, string? bReachableAt = null)
    {
        aDid ??= MyDids.Create(a, "peer:2");
        bDid ??= MyDids.Create(b, "peer:2");
        var atoB = Record(a, ConnectionRole.Inviter, aDid, bDid, b.Options.Label, bReachableAt);
        var btoA = Record(b, ConnectionRole.Invitee, bDid, aDid, a.Options.Label, aReachableAt);
        a.Store.Save(atoB);
        b.Store.Save(btoA);
        return (atoB, btoA);
    }

    /// <summary>Connects an agent to a hosted one, reaching the host at its ws:// endpoint when <paramref name="ws"/>.</summary>
    public static (ConnectionRecord HostSide, ConnectionRecord ClientSide) ConnectTo(AgentHost host, ReferenceAgent client, bool ws = false, MyDid? clientDid = null) =>
        Connect(host.Agent, client, bDid: clientDid, aReachableAt: (ws ? host.WsEndpoint : host.HttpEndpoint).ToString().TrimEnd('/'));

    private static ConnectionRecord Record(ReferenceAgent me, ConnectionRole role, MyDid mine, MyDid theirs, string theirLabel, string? theirEndpoint)
    {
        var now = me.Clock.Now();
        var c = new ConnectionRecord
        {
            Id = me.NewId(),
            Protocol = "didexchange/1.1",
            Role = role,
            MyDid = mine.Did,
            MyVerkey = mine.Key.Verkey,
            MyDidDoc = mine.Document,
            TheirDid = theirs.Did,
            TheirDidDoc = theirs.Document,
            TheirLabel = theirLabel,
            TheirService = new ServiceRecord
            {
                RecipientKeys = [.. theirs.Service.RecipientKeys],
                RoutingKeys = [.. theirs.Service.RoutingKeys],
                Endpoint = theirEndpoint ?? theirs.Service.Endpoint,
            },
            CreatedAt = now,
        };
        c.MoveTo("completed", now);
        return c;
    }
}
