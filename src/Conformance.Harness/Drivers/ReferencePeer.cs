using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Harness.Tap;

namespace Conformance.Harness.Drivers;

/// <summary>
/// A reference agent on the harness's side of a case: the counterpart of the agent under test. It runs in-process
/// with its own DIDComm endpoint; everything it sends and receives goes to the case's <see cref="WireTap"/>; the case
/// drives it through its C# API (richer than a backchannel: it can misbehave on purpose).
/// </summary>
public sealed class ReferencePeer : IAsyncDisposable
{
    private ReferencePeer(string name, ReferenceAgent agent, AgentHost host)
    {
        Name = name;
        Agent = agent;
        Host = host;
    }

    public string Name { get; }
    public ReferenceAgent Agent { get; }
    public AgentHost Host { get; }

    public static async Task<ReferencePeer> StartAsync(string name, WireTap? tap, string? seed, Action<AgentOptions>? configure = null,
        AgentHostOptions? host = null, CancellationToken ct = default)
    {
        var options = new AgentOptions { Label = name, Seed = seed };
        configure?.Invoke(options);
        var agent = new ReferenceAgent(options);
        tap?.Attach(agent, name);
        var h = await AgentHost.StartAsync(agent, host ?? new AgentHostOptions { PublicDid = true }, ct);
        return new ReferencePeer(name, agent, h);
    }

    /// <summary>True once <see cref="GoOfflineAsync"/> stopped the peer's inbound endpoint.</summary>
    public bool IsOffline { get; private set; }

    /// <summary>
    /// Stops listening (the endpoint in the peer's DID docs becomes unreachable) while the agent keeps working:
    /// it can still send, and receive replies on return-route. This is a recipient that went offline and must pick
    /// its mail up from a mediator.
    /// </summary>
    public async Task GoOfflineAsync()
    {
        if (IsOffline) return;
        IsOffline = true;
        await Host.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!IsOffline) await Host.DisposeAsync();
        await Agent.DisposeAsync();
    }
}
