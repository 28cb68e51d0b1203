using System.Diagnostics;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;
using Conformance.Harness.Tap;
using Conformance.Mediator;
using Conformance.Wire.Crypto;

namespace Conformance.Harness.Grading;

/// <summary>
/// What a case sees: the agent under test (through its backchannel), reference peers it can start (each taps into the
/// case's wire log), and the check recorder. <see cref="Must"/> records a MUST and stops the case when it does not
/// hold; <see cref="Should"/> records a SHOULD and carries on.
/// </summary>
public sealed class CaseContext : IAsyncDisposable
{
    private readonly List<ReferencePeer> _peers = [];
    private readonly List<V2Client> _v2Clients = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly IAgentDriver? _aut;

    public CaseContext(CaseInfo info, IAgentDriver? aut, RunSettings settings, IMediatorUnderTest? mediator = null)
    {
        Info = info;
        _aut = aut;
        Mediator = mediator;
        Settings = settings;
        Tap = new WireTap(_clock);
    }

    public CaseInfo Info { get; }
    public IAgentDriver Aut => _aut ?? throw new InvalidOperationException("this run has no agent under test");
    public BackchannelClient Backchannel => Aut.Backchannel;

    /// <summary>The DIDComm v2 mediator under test (mediator suites only).</summary>
    public IMediatorUnderTest? Mediator { get; }
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

    /// <summary>
    /// A DIDComm v2 client of the mediator under test (a recipient or a sender), with a did:peer:2 identity of its own
    /// — seeded from the case id and <paramref name="name"/> in deterministic runs. Everything it sends and receives, on
    /// any transport, goes into the case's wire log. With <paramref name="inbox"/> it has an HTTP endpoint of its own
    /// (in its DID) for messages the mediator sends without return_route.
    /// </summary>
    public async Task<V2Client> V2ClientAsync(string name = "Recipient", bool inbox = false)
    {
        var mediator = Mediator ?? throw new InvalidOperationException("this run has no mediator under test");
        // A second client of the same name gets its own seed (and a "#2" suffix), never the same keys.
        var unique = name;
        for (var k = 2; !_v2Names.Add(unique); k++) unique = $"{name}#{k}";
        var options = new V2ClientOptions
        {
            // Seeded only against a seeded mediator: a long-lived external one must not see the same ids twice.
            Entropy = mediator.IsDeterministic ? Entropy.Seeded($"{Info.Id}/{unique}") : Entropy.System,
            Timeout = Settings.MessageTimeout + TimeSpan.FromSeconds(5),
            Observer = t => Tap.Record(ToWireEvent(t), unique),
        };
        var client = inbox ? await V2Client.CreateWithInboxAsync(mediator.Did, options) : new V2Client(mediator.Did, options);
        _v2Clients.Add(client);
        return client;
    }

    private readonly HashSet<string> _v2Names = [];

    private static WireEvent ToWireEvent(V2Traffic t) =>
        new(DateTimeOffset.UtcNow, t.Direction, t.Message?.Type,
            t.Message is null ? null : System.Text.Json.Nodes.JsonNode.Parse(t.Message.ToJson()) as JsonObject,
            t.Envelope, t.Transport, t.Endpoint, null, null, null, t.Note);

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
        foreach (var v in _v2Clients) await v.DisposeAsync();
        _v2Clients.Clear();
    }
}

/// <summary>Settings of one run.</summary>
public sealed class RunSettings
{
    public bool Deterministic { get; set; } = true;
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How long the mediator suite keeps a WebSocket idle in its long-lived-connection case.</summary>
    public TimeSpan WebSocketIdle { get; set; } = TimeSpan.FromSeconds(5);
    public string SpecsRoot { get; set; } = "";
}
