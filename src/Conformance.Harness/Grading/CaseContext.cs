using System.Diagnostics;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;
using Conformance.Harness.Tap;

namespace Conformance.Harness.Grading;

/// <summary>
/// What a case sees: the agent under test (through its backchannel), reference peers it can start (each taps into the
/// case's wire log), and the check recorder. <see cref="Must"/> records a MUST and stops the case when it does not
/// hold; <see cref="Should"/> records a SHOULD and carries on.
/// </summary>
public sealed class CaseContext : IAsyncDisposable
{
    private readonly List<ReferencePeer> _peers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public CaseContext(CaseInfo info, IAgentDriver aut, RunSettings settings)
    {
        Info = info;
        Aut = aut;
        Settings = settings;
        Tap = new WireTap(_clock);
    }

    public CaseInfo Info { get; }
    public IAgentDriver Aut { get; }
    public BackchannelClient Backchannel => Aut.Backchannel;
    public RunSettings Settings { get; }
    public WireTap Tap { get; }
    public List<Check> Checks { get; } = [];
    public List<string> Notes { get; } = [];
    public List<string> Attachments { get; } = [];
    public IReadOnlyList<ReferencePeer> Peers => _peers;

    /// <summary>How long to wait for the agent under test to act.</summary>
    public TimeSpan Timeout => Settings.MessageTimeout;

    /// <summary>
    /// Starts a reference peer (the counterpart). In deterministic runs its seed is derived from the case id and the
    /// peer name, so its messages are the same bytes every run.
    /// </summary>
    public async Task<ReferencePeer> PeerAsync(string name = "Bob", Action<AgentOptions>? configure = null, AgentHostOptions? host = null)
    {
        // A second peer of the same name in one case gets its own seed (and a "#2" suffix), never the same keys.
        var n = _peers.Count(p => p.Name == name || p.Name.StartsWith(name + "#"));
        var unique = n == 0 ? name : $"{name}#{n + 1}";
        var seed = Settings.Deterministic ? $"{Info.Id}/{unique}" : null;
        var peer = await ReferencePeer.StartAsync(unique, Tap, seed, configure, host);
        _peers.Add(peer);
        return peer;
    }

    public bool Must(string requirement, bool ok, string? expected = null, string? observed = null)
    {
        Checks.Add(new Check(requirement, Level.MUST, ok, expected, observed));
        if (!ok) throw new CaseFailedException(requirement);
        return ok;
    }

    public bool Should(string requirement, bool ok, string? expected = null, string? observed = null)
    {
        Checks.Add(new Check(requirement, Level.SHOULD, ok, expected, observed));
        return ok;
    }

    /// <summary>Requires a value the agent under test had to produce; FAILs the case when it is null.</summary>
    public T Require<T>(string requirement, T? value, string expected, string? observed = null) where T : class
    {
        Must(requirement, value != null, expected, value == null ? observed ?? "nothing" : null);
        return value!;
    }

    public void Note(string line) => Notes.Add(line);

    public void Attach(string path) => Attachments.Add(path);

    public static Exception Unsupported(string reason) => new UnsupportedException(reason);

    /// <summary>Polls <paramref name="probe"/> until it returns non-null or the timeout passes; null on timeout.</summary>
    public async Task<T?> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan? timeout = null) where T : class
    {
        var until = _clock.Elapsed + (timeout ?? Timeout);
        while (true)
        {
            var v = await probe();
            if (v != null || _clock.Elapsed > until) return v;
            await Task.Delay(25);
        }
    }

    /// <summary>Waits for the agent under test to send a message named <paramref name="name"/> to a reference peer.</summary>
    public Task<WireEvent?> ReceivedAsync(string name, Func<JsonObject, bool>? where = null, TimeSpan? timeout = null) =>
        Tap.WaitForInboundAsync(name, timeout ?? Timeout, where);

    public long ElapsedMs => _clock.ElapsedMilliseconds;

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _peers) await p.DisposeAsync();
        _peers.Clear();
    }
}

/// <summary>Settings of one run.</summary>
public sealed class RunSettings
{
    public bool Deterministic { get; set; } = true;
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public string SpecsRoot { get; set; } = "";
}
