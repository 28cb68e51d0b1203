using System.Collections.Concurrent;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;

namespace Conformance.Agent.Tests.Support;

/// <summary>
/// Starts reference agents with real Kestrel endpoints on loopback for a test, records their events, and disposes them.
/// <code>
/// await using var agents = new TestAgents();
/// var alice = await agents.StartAsync("Alice");
/// var bob = await agents.StartAsync("Bob", o => o.AutoAccept = false);
/// </code>
/// </summary>
public sealed class TestAgents : IAsyncDisposable
{
    private readonly List<AgentHost> _hosts = [];

    public ConcurrentQueue<(string Agent, WireEvent Event)> Wire { get; } = new();
    public ConcurrentQueue<(string Agent, AgentEvent Event)> Events { get; } = new();

    public async Task<AgentHost> StartAsync(string label, Action<AgentOptions>? configure = null, AgentHostOptions? host = null)
    {
        var options = new AgentOptions { Label = label };
        configure?.Invoke(options);
        var agent = new ReferenceAgent(options);
        agent.Wire += e => Wire.Enqueue((label, e));
        agent.Events += e => Events.Enqueue((label, e));
        agent.DebugLog = line => TestContext.Progress.WriteLine($"[{label}] {line}");
        var h = await AgentHost.StartAsync(agent, host ?? new AgentHostOptions());
        _hosts.Add(h);
        return h;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > until) Assert.Fail($"timed out after {timeoutMs} ms waiting for: {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the connection reaches <paramref name="state"/>.</summary>
    public static Task<ConnectionRecord> WaitForStateAsync(ReferenceAgent agent, string connectionId, string state, int timeoutMs = 5000) =>
        WaitForAsync(() => agent.Store.GetConnection(connectionId) is { } c && c.State == state ? c : null,
            $"{agent.Options.Label} connection {connectionId} to reach '{state}' (now '{agent.Store.GetConnection(connectionId)?.State}')", timeoutMs);

    public static async Task<T> WaitForAsync<T>(Func<T?> probe, string what, int timeoutMs = 5000) where T : class
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (true)
        {
            if (probe() is { } v) return v;
            if (Environment.TickCount64 > until) Assert.Fail($"timed out after {timeoutMs} ms waiting for: {what}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in _hosts)
        {
            await h.DisposeAsync();
            await h.Agent.DisposeAsync();
        }
    }
}
