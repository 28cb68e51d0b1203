// The machinery of `conformance bench handshake` (BenchVerbs.cs): pairs of agents that can make one handshake on
// demand, and the timing loop around them.
//
// One handshake = RFC 0434 out-of-band invitation offering didexchange/1.1 → the invitee receives it → RFC 0023
// request → response → complete → RFC 0048 trust ping → ping_response. Two ways to drive it:
//   * InProcessPair: two reference agents hosted in this process, each on its own Kestrel port on loopback; every
//     message crosses real HTTP (or WebSocket) between them. Timed from creating the invitation to the invitee
//     receiving the ping_response. This is the agent's protocol speed.
//   * BackchannelPair: two agent processes (two `conformance agent`, or two Credo agents from agents/credo) driven
//     only through their AATH backchannels, in the AATH manual-accept style (send-invitation-message,
//     receive-invitation, send-request, send-response, polling did-exchange/{id}, send-ping). This adds the
//     backchannel round trips and polling; it is how the harness drives any agent, so it compares agents on equal
//     terms. The AATH API has no way to ask whether a ping_response arrived, so here a handshake ends when send-ping
//     has returned and both sides say "completed".
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;

namespace Conformance.Cli.Verbs;

/// <summary>Two agents that make one handshake per call.</summary>
internal interface IHandshakePair : IAsyncDisposable
{
    /// <summary>"in-process reference", "process reference", "process credo".</summary>
    string Name { get; }
    /// <summary>One full handshake; returns when it is done (throws with a one-line reason when it fails).</summary>
    Task HandshakeAsync(CancellationToken ct);
    /// <summary>The agent processes (empty in-process): for peak RSS.</summary>
    IReadOnlyList<int> Pids { get; }
    /// <summary>CPU time used so far by the agents (in-process: this whole process).</summary>
    TimeSpan CpuTime();
}

/// <summary>Timings of one pass of <c>count</c> handshakes with <c>concurrency</c> in flight.</summary>
internal sealed record PassResult(int Count, int Concurrency, TimeSpan Wall, double[] LatenciesMs, TimeSpan Cpu)
{
    public double PerSecond => Count / Wall.TotalSeconds;
    /// <summary>CPU milliseconds the agents spent per handshake: what the load of other work on the machine cannot change.</summary>
    public double CpuMsPerHandshake => Cpu.TotalMilliseconds / Count;
    public double P50 => HandshakeBench.Percentile(LatenciesMs, 0.50);
    public double P99 => HandshakeBench.Percentile(LatenciesMs, 0.99);
}

internal static class HandshakeBench
{
    public const string DidExchange11 = "https://didcomm.org/didexchange/1.1";
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="count"/> handshakes, at most <paramref name="concurrency"/> at a time.</summary>
    public static async Task<PassResult> PassAsync(IHandshakePair pair, int count, int concurrency, CancellationToken ct)
    {
        var latencies = new double[count];
        var next = -1;
        var cpu = pair.CpuTime();
        var wall = Stopwatch.StartNew();
        async Task Worker()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                await pair.HandshakeAsync(ct);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, count)).Select(_ => Task.Run(Worker, ct)));
        wall.Stop();
        return new PassResult(count, concurrency, wall.Elapsed, latencies, pair.CpuTime() - cpu);
    }

    /// <summary>Nearest-rank percentile (q in 0..1) of unsorted values.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(q * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    // ------------------------------------------------------------------ /proc

    /// <summary>Peak resident set (VmHWM, bytes) of a process, or null when it cannot be read.</summary>
    public static long? PeakRss(int pid) => ReadStatusKb(pid, "VmHWM:") * 1024;

    /// <summary>Current resident set (VmRSS, bytes), or null.</summary>
    public static long? Rss(int pid) => ReadStatusKb(pid, "VmRSS:") * 1024;

    /// <summary>Where the resident set is now, in MB: anonymous (GC heap, JIT code, stacks), file (mapped DLLs), shmem (W^X double mapping).</summary>
    public static string RssBreakdown(int pid) =>
        $"anon {ReadStatusKb(pid, "RssAnon:") / 1024.0:0} MB, file {ReadStatusKb(pid, "RssFile:") / 1024.0:0} MB, shmem {ReadStatusKb(pid, "RssShmem:") / 1024.0:0} MB";

    private static long? ReadStatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith(field, StringComparison.Ordinal) &&
                    long.TryParse(line[field.Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                    return kb;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>
    /// Resets a process's peak RSS to its current RSS (Linux: writing 5 to /proc/PID/clear_refs), so that VmHWM read
    /// later is the peak of what happened in between. False when not possible (then VmHWM is the peak since start).
    /// </summary>
    public static bool ResetPeakRss(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>User + system CPU time of a process and its descendants (/proc/PID/stat), zero when gone.</summary>
    public static TimeSpan ProcessTreeCpu(int pid)
    {
        var total = 0L;
        foreach (var p in ProcessTree.Descendants(pid).Prepend(pid))
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{p}/stat");
                // After "pid (comm) ": state(0) ppid(1) … utime(11) stime(12), in clock ticks (USER_HZ, 100 on Linux).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        }
        return TimeSpan.FromMilliseconds(total * 10);
    }

    /// <summary>The 1-minute load average, or null.</summary>
    public static double? LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out var l) ? l : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    // ------------------------------------------------------------------ spawning `conformance agent`

    /// <summary>
    /// How to start this same program as <c>conformance agent</c>: the host (dotnet, or the apphost) and the leading
    /// arguments (the dll when run through dotnet).
    /// </summary>
    public static (string FileName, string[] Prefix) SelfCommand()
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var dll = typeof(HandshakeBench).Assembly.Location;
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? (host, [dll]) : (host, []);
    }

    /// <summary>
    /// Spawns <c>conformance agent</c> once and times it: from Process.Start to its JSON ready line (which it prints
    /// only once both ports listen and the backchannel has answered a request), then stops it with SIGTERM.
    /// Returns the wall time and the agent's own ready_ms (from its process start time).
    /// </summary>
    public static async Task<(double SpawnToReadyMs, double? AgentReadyMs, double CpuMs)> TimeStartupAsync(IReadOnlyDictionary<string, string> env, CancellationToken ct)
    {
        var (file, prefix) = SelfCommand();
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in prefix) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        psi.ArgumentList.Add("agent");
        psi.ArgumentList.Add("--label");
        psi.ArgumentList.Add("bench startup");
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new CliException("cannot start `conformance agent`");
        try
        {
            var read = p.StandardOutput.ReadLineAsync(ct).AsTask();
            if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60), ct)) != read || await read is not { } line)
                throw new CliException("`conformance agent` printed no ready line within 60 s: " + (p.HasExited ? OneLine(await p.StandardError.ReadToEndAsync(ct)) : "still running"));
            var elapsed = sw.Elapsed.TotalMilliseconds;
            var cpu = ProcessTreeCpu(p.Id).TotalMilliseconds;
            double? own = null;
            try { own = JsonNode.Parse(line)?["ready_ms"]?.GetValue<long>(); }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { }
            return (elapsed, own, cpu);
        }
        finally
        {
            await ProcessTree.StopAsync(p, TimeSpan.FromSeconds(5));
        }
    }

    public static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}

/// <summary>
/// Fires once per key: the event side calls <see cref="Set"/>, the waiting side <see cref="WaitAsync"/>, in either
/// order (with HTTP the whole handshake usually finishes before the call that started it returns).
/// </summary>
internal sealed class Signals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _map = new(StringComparer.Ordinal);

    private TaskCompletionSource For(string key) =>
        _map.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Set(string key) => For(key).TrySetResult();

    public async Task WaitAsync(string key, TimeSpan timeout, Func<string> what, CancellationToken ct)
    {
        try { await For(key).Task.WaitAsync(timeout, ct); }
        catch (TimeoutException) { throw new CliException($"handshake timed out after {timeout.TotalSeconds:0} s waiting for {what()}"); }
        finally { _map.TryRemove(key, out _); }
    }
}

/// <summary>Two reference agents in this process, each on its own loopback Kestrel port (HTTP or WebSocket).</summary>
internal sealed class InProcessPair : IHandshakePair
{
    private readonly AgentHost _inviter;
    private readonly AgentHost _invitee;
    private readonly Signals _signals = new();
    private volatile string? _firstError;

    private InProcessPair(AgentHost inviter, AgentHost invitee)
    {
        _inviter = inviter;
        _invitee = invitee;
        var agent = invitee.Agent;
        agent.Events += e =>
        {
            if (e.ConnectionId is null) return;
            if (e.Kind == AgentEvent.ConnectionState && agent.Store.GetConnection(e.ConnectionId)?.State is "completed" or "abandoned" or "error")
                _signals.Set(e.ConnectionId);
            else if (e.Kind == AgentEvent.TrustPingResponse && e.ThreadId is { } thid)
                _signals.Set("ping " + thid);
        };
    }

    public string Name => "in-process reference";
    public IReadOnlyList<int> Pids => [];
    public TimeSpan CpuTime() => Process.GetCurrentProcess().TotalProcessorTime;
    public ReferenceAgent Inviter => _inviter.Agent;
    public ReferenceAgent Invitee => _invitee.Agent;

    public static async Task<InProcessPair> StartAsync(string transport, CancellationToken ct)
    {
        async Task<AgentHost> Start(string label)
        {
            // In memory (no SQLite file), auto-accept, system randomness: the agent as a benchmark would run it.
            var agent = new ReferenceAgent(new AgentOptions { Label = label, AutoAccept = true });
            return await AgentHost.StartAsync(agent, new AgentHostOptions
            {
                AdvertiseHttp = transport == "http",
                AdvertiseWs = transport == "ws",
            }, ct);
        }
        var inviter = await Start("bench inviter");
        var invitee = await Start("bench invitee");
        var pair = new InProcessPair(inviter, invitee);
        inviter.Agent.DebugLog = pair.NoteError;
        invitee.Agent.DebugLog = pair.NoteError;
        return pair;
    }

    private void NoteError(string line) => _firstError ??= HandshakeBench.OneLine(line.Split('\n')[0]);

    public async Task HandshakeAsync(CancellationToken ct)
    {
        var record = await _inviter.Agent.OutOfBand.CreateInvitationAsync(new OobInvitationOptions
        {
            HandshakeProtocols = [HandshakeBench.DidExchange11],
            AutoAccept = true,
        }, ct);
        // Out of band = as text (a URL or QR code in real life): the invitee parses what the inviter wrote.
        var text = record.Invitation.ToJsonString();
        var received = await _invitee.Agent.OutOfBand.ReceiveInvitationAsync((JsonObject)JsonNode.Parse(text)!, new OobReceiveOptions { AutoAccept = true }, ct);
        var id = received.Connection?.Id ?? throw new CliException("the invitee started no connection from the invitation");
        if (_invitee.Agent.Store.GetConnection(id)?.State != "completed")
            await _signals.WaitAsync(id, HandshakeBench.HandshakeTimeout, () => $"the invitee's connection to complete (state '{_invitee.Agent.Store.GetConnection(id)?.State}'; {_firstError ?? "no error logged"})", ct);
        var connection = _invitee.Agent.Store.GetConnection(id)!;
        if (connection.State != "completed")
            throw new CliException($"the handshake ended in state '{connection.State}': {_firstError ?? connection.ProblemReport?.ToJsonString() ?? "no reason logged"}");
        var pingId = await _invitee.Agent.TrustPing.SendPingAsync(connection, ct: ct);
        await _signals.WaitAsync("ping " + pingId, HandshakeBench.HandshakeTimeout, () => $"the ping_response ({_firstError ?? "no error logged"})", ct);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in new[] { _invitee, _inviter })
        {
            await h.DisposeAsync();
            await h.Agent.DisposeAsync();
        }
    }
}

/// <summary>
/// Two agent processes driven through their AATH backchannels (the harness's <see cref="ProcessDriver"/>): two
/// `conformance agent` processes, or two processes of any agent definition (agents/credo).
/// </summary>
internal sealed class BackchannelPair : IHandshakePair
{
    private readonly ProcessDriver _inviter;
    private readonly ProcessDriver _invitee;

    private BackchannelPair(string name, ProcessDriver inviter, ProcessDriver invitee)
    {
        Name = name;
        _inviter = inviter;
        _invitee = invitee;
    }

    public string Name { get; }
    public IReadOnlyList<int> Pids => [.. new[] { _inviter.Pid, _invitee.Pid }.OfType<int>()];
    public TimeSpan CpuTime() => Pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + HandshakeBench.ProcessTreeCpu(pid));

    /// <summary>The slower of the two agents' start → first health answer (the driver's probe; indicative only).</summary>
    public double? ReadyMs => _inviter.TimeToReady is { } a && _invitee.TimeToReady is { } b ? Math.Max(a.TotalMilliseconds, b.TotalMilliseconds) : null;

    /// <summary>
    /// The reference agent as this same program (<c>conformance agent</c> from this build, so a Release bench runs
    /// Release agents), as a definition the process driver can start, with the environment of
    /// agents/reference/agent.json (the runtime settings the harness runs it with) — or, with
    /// <paramref name="runtimeDefaults"/>, without its DOTNET_* runtime settings.
    /// </summary>
    public static AgentDefinition ReferenceDefinition(string repoRoot, bool runtimeDefaults)
    {
        var (file, prefix) = HandshakeBench.SelfCommand();
        return new AgentDefinition
        {
            Name = "reference",
            Directory = repoRoot,
            RepoRoot = repoRoot,
            Command = file,
            Args = [.. prefix, "agent", "--port", "{port}", "--backchannel-port", "{backchannel_port}", "--label", "bench ({name})"],
            Env = ReferenceEnvironment(repoRoot, runtimeDefaults),
            StartupTimeout = TimeSpan.FromSeconds(60),
        };
    }

    /// <summary>The "env" of agents/reference/agent.json (without its DOTNET_* runtime settings when <paramref name="runtimeDefaults"/>).</summary>
    public static IReadOnlyDictionary<string, string> ReferenceEnvironment(string repoRoot, bool runtimeDefaults)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };
        try
        {
            foreach (var (k, v) in AgentDefinition.Find(repoRoot, "reference").Env)
                if (!runtimeDefaults || !IsRuntimeSetting(k)) env[k] = v;
        }
        catch (AgentDefinitionException) { /* no agents/reference here: the runtime's defaults */ }
        return env;
    }

    /// <summary>A DOTNET_ variable that changes how the runtime runs (GC, JIT, W^X), not just the CLI's chatter.</summary>
    public static bool IsRuntimeSetting(string name) =>
        name.StartsWith("DOTNET_", StringComparison.Ordinal) && name is not ("DOTNET_CLI_TELEMETRY_OPTOUT" or "DOTNET_NOLOGO");

    public static async Task<BackchannelPair> StartAsync(AgentDefinition definition, string transport, string logDirectory, CancellationToken ct)
    {
        var runId = LaunchOptions.NewRunId();
        var inviter = new ProcessDriver(definition, new LaunchOptions { LogDirectory = logDirectory, RunId = runId + "-inviter" });
        var invitee = new ProcessDriver(definition, new LaunchOptions { LogDirectory = logDirectory, RunId = runId + "-invitee" });
        try
        {
            await Task.WhenAll(inviter.StartAsync(ct), invitee.StartAsync(ct));
            foreach (var d in new[] { inviter, invitee })
                await d.Backchannel.StartAsync(new JsonObject { ["inbound_transports"] = new JsonArray(transport) }, ct);
        }
        catch (Exception e) when (e is AgentStartException or AgentDefinitionException or BackchannelException)
        {
            await inviter.DisposeAsync();
            await invitee.DisposeAsync();
            throw new CliException($"cannot start two '{definition.Name}' agents: {e.Message}");
        }
        catch
        {
            await inviter.DisposeAsync();
            await invitee.DisposeAsync();
            throw;
        }
        return new BackchannelPair("process " + definition.Name, inviter, invitee);
    }

    public async Task HandshakeAsync(CancellationToken ct)
    {
        var a = _inviter.Backchannel;
        var b = _invitee.Backchannel;
        try
        {
            var sent = await a.OobSendInvitationMessageAsync(new JsonObject { ["handshake_protocols"] = new JsonArray(HandshakeBench.DidExchange11) }, ct);
            var invitation = sent["invitation"] as JsonObject ?? throw new CliException($"{Name}: send-invitation-message returned no invitation");
            var invitationId = Str(invitation, "@id") ?? throw new CliException($"{Name}: the invitation has no @id");
            var received = await b.OobReceiveInvitationAsync(invitation, useExistingConnection: false, ct);
            var bId = Str(received, "connection_id") ?? throw new CliException($"{Name}: receive-invitation returned no connection_id");
            var request = await b.DidExchangeSendRequestAsync(bId, ct);
            bId = Str(request, "connection_id") ?? bId;
            // The inviter's connection exists once the request has arrived.
            var aId = await PollAsync(async () =>
            {
                try { return Str(await a.DidExchangeByInvitationAsync(invitationId, ct), "connection_id"); }
                catch (BackchannelException e) when (e.Status == 404) { return null; }
            }, () => "the inviter to receive the request", ct);
            await a.DidExchangeSendResponseAsync(aId, ct);
            await WaitStateAsync(b, bId, "the invitee", ct);
            await b.ConnectionSendPingAsync(bId, "bench", ct);
            await WaitStateAsync(a, aId, "the inviter", ct);
        }
        catch (BackchannelException e)
        {
            throw new CliException($"{Name}: {e.Message}");
        }
    }

    private async Task WaitStateAsync(BackchannelClient bc, string id, string who, CancellationToken ct)
    {
        string? last = null;
        await PollAsync(async () =>
        {
            last = Str(await bc.DidExchangeAsync(id, ct), "state");
            if (last is "abandoned" or "error") throw new CliException($"{Name}: {who}'s connection {id} was abandoned");
            return last == "completed" ? last : null;
        }, () => $"{who}'s connection {id} to complete (last state '{last}')", ct);
    }

    /// <summary>Polls (1 ms, doubling to 20 ms) until <paramref name="probe"/> gives a value.</summary>
    private async Task<string> PollAsync(Func<Task<string?>> probe, Func<string> what, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var delay = 1;
        while (true)
        {
            if (await probe() is { } v) return v;
            if (sw.Elapsed > HandshakeBench.HandshakeTimeout)
                throw new CliException($"{Name}: timed out after {HandshakeBench.HandshakeTimeout.TotalSeconds:0} s waiting for {what()}");
            await Task.Delay(delay, ct);
            delay = Math.Min(delay * 2, 20);
        }
    }

    private static string? Str(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_inviter.DisposeAsync().AsTask(), _invitee.DisposeAsync().AsTask());
    }
}
