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
        var h = await AgentHost.StartAsync(agent, host ?? new AgentHostOptions(), ct);
        return new ReferencePeer(name, agent, h);
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Agent.DisposeAsync();
    }
}
