using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;

namespace Conformance.Harness.Drivers;

/// <summary>
/// The embedded default agent under test: our own reference agent, in-process, driven through its real AATH
/// backchannel over loopback HTTP (the same path an external agent is driven through). Each case gets a fresh agent
/// seeded from the case id, so every message it sends is the same bytes on every run (fixtures depend on it).
/// Like the AATH backchannels it runs in manual-accept mode.
/// <see cref="Configure"/> lets a test build a deliberately broken agent (a test double) from the same code.
/// </summary>
public sealed class ReferenceDriver(string name = "reference", Action<ReferenceAgent>? configure = null, AgentHostOptions? hostOptions = null,
    Action<AgentOptions>? configureOptions = null) : IAgentDriver
{
    private AgentHost? _host;
    private BackchannelClient? _backchannel;

    public string Name { get; } = name;
    public string Runtime => "in-process";
    public bool IsDeterministic { get; set; } = true;
    public bool FreshAgentPerCase => true;
    public Action<ReferenceAgent>? Configure { get; } = configure;

    /// <summary>The agent of the current case (null between cases).</summary>
    public ReferenceAgent? Agent => _host?.Agent;

    public BackchannelClient Backchannel => _backchannel ?? throw new InvalidOperationException("no case is running");

    public Task StartAsync(CancellationToken ct = default) => Task.CompletedTask;

    public async Task BeginCaseAsync(string caseId, CancellationToken ct = default)
    {
        await EndCaseAsync(ct);
        var options = new AgentOptions
        {
            Label = "Agent Under Test",
            AutoAccept = false,
            Seed = IsDeterministic ? "aut/" + caseId : null,
        };
        configureOptions?.Invoke(options);
        var agent = new ReferenceAgent(options);
        Configure?.Invoke(agent);
        var ho = hostOptions ?? new AgentHostOptions();
        _host = await AgentHost.StartAsync(agent, new AgentHostOptions
        {
            Port = ho.Port, Bind = ho.Bind, AdvertiseHttp = ho.AdvertiseHttp, AdvertiseWs = ho.AdvertiseWs, NoInbound = ho.NoInbound,
            BackchannelPort = 0, PublicDid = true,
        }, ct);
        _backchannel = new BackchannelClient(_host.BackchannelUrl!);
    }

    public async Task EndCaseAsync(CancellationToken ct = default)
    {
        _backchannel?.Dispose();
        _backchannel = null;
        if (_host != null)
        {
            await _host.DisposeAsync();
            await _host.Agent.DisposeAsync();
            _host = null;
        }
    }

    public async ValueTask DisposeAsync() => await EndCaseAsync();
}

/// <summary>An agent already running somewhere, reached at its backchannel URL (<c>--agent http://127.0.0.1:9020</c>).</summary>
public sealed class UrlDriver(Uri backchannel, string? name = null) : IAgentDriver
{
    public string Name { get; } = name ?? $"url-{backchannel.Host}-{backchannel.Port}";
    public string Runtime => "url";
    public bool IsDeterministic => false;
    public BackchannelClient Backchannel { get; } = new(backchannel);

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (!await Backchannel.IsActiveAsync(ct))
            throw new InvalidOperationException($"no agent backchannel answers at {backchannel} (GET agent/command/status)");
    }

    public Task BeginCaseAsync(string caseId, CancellationToken ct = default) => Task.CompletedTask;
    public Task EndCaseAsync(CancellationToken ct = default) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Backchannel.Dispose();
        return ValueTask.CompletedTask;
    }
}
