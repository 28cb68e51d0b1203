// `conformance bench handshake`: how many handshakes per second two agents make over loopback, and how fast and
// small the reference agent is. `./run.sh bench handshake` builds Release first; a Debug build says so in its output.
//
// What it measures (HandshakeBench.cs has the details):
//   1. in-process: two reference agents in this process, real HTTP (or WebSocket) between their Kestrel ports; one
//      handshake = out-of-band invitation (didexchange/1.1) → request → response → complete → trust ping →
//      ping_response, timed from creating the invitation to the ping_response arriving. Sequential (one at a time:
//      p50, p99, handshakes/s) and with C in flight (handshakes/s). The median over K runs is the result.
//   2. process: two `conformance agent` processes driven through their AATH backchannels, as the harness drives any
//      agent; the same figures, plus the peak RSS of an agent process during the concurrent passes (/proc VmHWM).
//      `--vs credo` runs two Credo agents (agents/credo) the same way, alternating runs with the reference pair.
//   3. startup: `conformance agent` spawned S times; Process.Start → its JSON ready line, median.
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Conformance.Harness.Drivers;
using Conformance.Harness.Running;

namespace Conformance.Cli.Verbs;

public static class BenchVerbs
{
    /// <summary>The targets of the reference agent on the 2-core CI machine (README "Performance").</summary>
    public static class Targets
    {
        public const double ConcurrentPerSecond = 300;
        public const double SequentialP50Ms = 5;
        public const double ReadyMs = 300;
        public const double RssMb = 80;
    }

    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("bench handshake", "Measure handshakes/s between two agents over loopback (OOB + didexchange 1.1 + trust ping), startup time and RSS.", "", 0, 0,
        [
            new("--runs", "K", "measured runs; every figure is the median over them (default 5)"),
            new("--count", "N", "handshakes per pass in-process (default 200)"),
            new("--process-count", "N", "handshakes per pass between agent processes (default N/4, at least 20)"),
            new("--concurrency", "C", "handshakes in flight in the concurrent pass (default 8); a sequential pass always runs too"),
            new("--transport", "T", "http (default) or ws"),
            new("--mode", "M", "both (default), in-process or process"),
            new("--vs", "AGENT", "also run two agents of this definition (e.g. credo: agents/credo/agent.json) through their backchannels, side by side"),
            new("--startups", "S", "spawns of `conformance agent` for the ready time (default 5; 0 skips)"),
            new("--runtime-defaults", null, "start reference agent processes without the DOTNET_* settings of agents/reference/agent.json"),
            new("--json", null, "print the results as one JSON object (progress goes to stderr)"),
        ],
        RunAsync,
        """
        Figures are medians over the runs; the machine's load average is printed with them (other work on the
        machine slows everything down). Build Release for meaningful numbers: ./run.sh bench handshake.
        Targets of the reference agent: >= 300 handshakes/s with 8 in flight, sequential p50 <= 5 ms,
        ready <= 300 ms after spawn, RSS <= 80 MB.

        examples:
          ./run.sh bench handshake
          ./run.sh bench handshake --runs 3 --count 500 --transport ws
          ./run.sh bench handshake --vs credo --mode process
        """),
    ];

    private sealed record PairSummary(string Name, string Transport, List<(PassResult Sequential, PassResult Concurrent)> Runs)
    {
        public double? PeakRssMb { get; set; }
        public double? AllocatedKbPerHandshake { get; set; }
        public int ConnectionsHeld { get; set; }
        public double? RetainedKbPerHandshake { get; set; }
        public double? ReadyMs { get; set; }
        public double SeqP50 => HandshakeBench.Median(Runs.Select(r => r.Sequential.P50));
        public double SeqP99 => HandshakeBench.Median(Runs.Select(r => r.Sequential.P99));
        public double SeqPerSecond => HandshakeBench.Median(Runs.Select(r => r.Sequential.PerSecond));
        public double ConcPerSecond => HandshakeBench.Median(Runs.Select(r => r.Concurrent.PerSecond));
        public double ConcP50 => HandshakeBench.Median(Runs.Select(r => r.Concurrent.P50));
        public double CpuMsPerHandshake => HandshakeBench.Median(Runs.Select(r => r.Concurrent.CpuMsPerHandshake));
        /// <summary>Handshakes/s the CPU cost allows on this machine's cores if nothing else ran: cores / CPU per handshake.</summary>
        public double CpuBoundPerSecond => Environment.ProcessorCount * 1000.0 / CpuMsPerHandshake;
    }

    private static async Task<int> RunAsync(Invocation inv)
    {
        var runs = PositiveInt(inv, "--runs", 5, 1000);
        var count = PositiveInt(inv, "--count", 200, 1_000_000);
        var processCount = PositiveInt(inv, "--process-count", Math.Max(20, count / 4), 1_000_000);
        var concurrency = PositiveInt(inv, "--concurrency", 8, 1024);
        var startups = inv.Args.Value("--startups") is null ? 5 : PositiveInt(inv, "--startups", 5, 1000, allowZero: true);
        var transport = inv.Args.Value("--transport") ?? "http";
        if (transport is not ("http" or "ws")) throw inv.Usage($"--transport must be http or ws, not '{transport}'");
        var mode = inv.Args.Value("--mode") ?? "both";
        if (mode is not ("both" or "in-process" or "process")) throw inv.Usage($"--mode must be both, in-process or process, not '{mode}'");
        var vs = inv.Args.Value("--vs");
        if (vs != null && mode == "in-process") throw inv.Usage("--vs drives agent processes: drop --mode in-process");
        var json = inv.Args.Has("--json");
        var runtimeDefaults = inv.Args.Has("--runtime-defaults");
        var ct = inv.Cancellation;
        var repoRoot = RunOptions.FindRepoRoot();
        var agentEnv = BackchannelPair.ReferenceEnvironment(repoRoot, runtimeDefaults);
        var runtimeSettings = agentEnv.Where(e => BackchannelPair.IsRuntimeSetting(e.Key)).Select(e => $"{e.Key}={e.Value}").ToList();

        // Text mode: everything on stdout. JSON mode: progress on stderr, one object on stdout.
        var say = json ? inv.Stderr : inv.Stdout;
        void Say(string line)
        {
            say.WriteLine(line);
            say.Flush();
        }

        var configuration = typeof(BenchVerbs).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "?";
        var loadBefore = HandshakeBench.LoadAverage();
        Say($"bench handshake: {Environment.ProcessorCount} cores, load average {Fmt(loadBefore)}, {configuration} build, .NET {Environment.Version}; " +
            $"{runs} runs of {count} handshakes in-process / {processCount} between processes, concurrency {concurrency}, {transport}");
        if (!string.Equals(configuration, "Release", StringComparison.OrdinalIgnoreCase))
            Say("  note: this is not a Release build; use ./run.sh bench handshake for meaningful figures");

        var summaries = new List<PairSummary>();
        var loads = new List<double>();
        void NoteLoad() { if (HandshakeBench.LoadAverage() is { } l) loads.Add(l); }

        // ---------------------------------------------------------------- 1. in-process
        if (mode is "both" or "in-process")
        {
            Say($"== in-process: two reference agents in this process, {transport.ToUpperInvariant()} on loopback between their Kestrel ports");
            await using var pair = await InProcessPair.StartAsync(transport, ct);
            var warm = Math.Min(count, 50);
            await HandshakeBench.PassAsync(pair, warm, 1, ct);
            await HandshakeBench.PassAsync(pair, warm, concurrency, ct);
            var summary = new PairSummary(pair.Name, transport, []);
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            for (var r = 1; r <= runs; r++)
            {
                var seq = await HandshakeBench.PassAsync(pair, count, 1, ct);
                var conc = await HandshakeBench.PassAsync(pair, count, concurrency, ct);
                summary.Runs.Add((seq, conc));
                NoteLoad();
                Say($"run {r}/{runs}: {RunLine(seq, conc)}  (load {Fmt(HandshakeBench.LoadAverage())})");
            }
            var made = 2L * runs * count;
            summary.AllocatedKbPerHandshake = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1024.0 / made;
            summary.RetainedKbPerHandshake = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1024.0 / made;
            summaries.Add(summary);
            SayFigures(Say, summary, concurrency);
            Say($"memory: {summary.AllocatedKbPerHandshake:0} KB allocated per handshake (both agents and the driver); " +
                $"{summary.RetainedKbPerHandshake:0.0} KB kept per handshake (the two connection records, invitation, keys); " +
                $"{pair.Inviter.Store.Connections().Count} + {pair.Invitee.Store.Connections().Count} connections held");
        }

        // ---------------------------------------------------------------- 2. processes, through the backchannels
        if (mode is "both" or "process")
        {
            var definitions = new List<AgentDefinition> { BackchannelPair.ReferenceDefinition(repoRoot, runtimeDefaults) };
            if (vs != null) definitions.Add(FindDefinition(vs, repoRoot));
            var logs = Path.Combine(Path.GetTempPath(), "conformance-bench", "logs");
            Directory.CreateDirectory(logs);

            Say($"== processes: two agents of each kind, driven only through their AATH backchannels ({transport.ToUpperInvariant()} between the agents); " +
                "a handshake ends when send-ping has returned and both sides say completed");
            Say($"reference agent runtime settings (agents/reference/agent.json): {(runtimeSettings.Count == 0 ? "the runtime's defaults" : string.Join(" ", runtimeSettings))}");
            var pairs = new List<BackchannelPair>();
            try
            {
                foreach (var d in definitions)
                {
                    Say($"starting two '{d.Name}' agents ({d.Command} …)");
                    pairs.Add(await BackchannelPair.StartAsync(d, transport, logs, ct));
                }
                var results = pairs.Select(p => new PairSummary(p.Name, transport, [])).ToList();
                for (var i = 0; i < pairs.Count; i++) results[i].ReadyMs = pairs[i].ReadyMs;
                // Warm-up: enough handshakes for the agents' hot methods to reach their optimized tier (tiered JIT
                // needs 30 calls and a background compile); with fewer, the first runs measure the JIT.
                var warm = Math.Min(processCount, 50);
                foreach (var r in results) r.ConnectionsHeld = 2 * warm + 2 * runs * processCount;
                foreach (var p in pairs)
                {
                    await HandshakeBench.PassAsync(p, warm, 1, ct);
                    await HandshakeBench.PassAsync(p, warm, concurrency, ct);
                }
                var peaks = pairs.Select(_ => 0L).ToArray();
                var breakdown = pairs.Select(_ => "").ToArray();
                for (var r = 1; r <= runs; r++)
                {
                    // Alternate the kinds within each run, so that a change in machine load hits both alike.
                    for (var i = 0; i < pairs.Count; i++)
                    {
                        var p = pairs[i];
                        var seq = await HandshakeBench.PassAsync(p, processCount, 1, ct);
                        foreach (var pid in p.Pids) HandshakeBench.ResetPeakRss(pid);
                        var conc = await HandshakeBench.PassAsync(p, processCount, concurrency, ct);
                        foreach (var pid in p.Pids)
                            if (HandshakeBench.PeakRss(pid) is { } peak && peak > peaks[i])
                            {
                                peaks[i] = peak;
                                breakdown[i] = HandshakeBench.RssBreakdown(pid);
                            }
                        results[i].Runs.Add((seq, conc));
                        NoteLoad();
                        Say($"run {r}/{runs} {p.Name}: {RunLine(seq, conc)}  (load {Fmt(HandshakeBench.LoadAverage())})");
                    }
                }
                for (var i = 0; i < pairs.Count; i++)
                {
                    results[i].PeakRssMb = peaks[i] > 0 ? peaks[i] / (1024.0 * 1024.0) : null;
                    summaries.Add(results[i]);
                    Say($"-- {results[i].Name}");
                    SayFigures(Say, results[i], concurrency);
                    if (results[i].PeakRssMb is { } mb)
                        Say($"rss: {mb:0} MB (peak VmHWM of an agent process during the concurrent passes, holding about {results[i].ConnectionsHeld} connections; right after: {breakdown[i]})");
                }
            }
            finally
            {
                foreach (var p in pairs) await p.DisposeAsync();
            }
        }

        // ---------------------------------------------------------------- 3. startup
        var readySamples = new List<double>();
        var ownReady = new List<double>();
        var readyCpu = new List<double>();
        if (startups > 0)
        {
            Say($"== startup: `conformance agent` spawned {startups} times, Process.Start → its JSON ready line " +
                $"({(runtimeSettings.Count == 0 ? "runtime defaults" : string.Join(" ", runtimeSettings))})");
            for (var i = 0; i < startups; i++)
            {
                var (wall, own, cpu) = await HandshakeBench.TimeStartupAsync(agentEnv, ct);
                readySamples.Add(wall);
                readyCpu.Add(cpu);
                if (own is { } o) ownReady.Add(o);
            }
            Say($"ready: {HandshakeBench.Median(readySamples):0} ms (samples {string.Join(", ", readySamples.Select(s => s.ToString("0", CultureInfo.InvariantCulture)))} ms; " +
                $"CPU used by then {HandshakeBench.Median(readyCpu):0} ms; " +
                $"the agent's own ready_ms, from its process start: {Fmt(ownReady.Count > 0 ? HandshakeBench.Median(ownReady) : null, "0")} ms)");
        }

        var loadAfter = HandshakeBench.LoadAverage();
        var readyMedian = readySamples.Count > 0 ? HandshakeBench.Median(readySamples) : (double?)null;
        var reference = summaries.FirstOrDefault(s => s.Name == "in-process reference") ?? summaries.FirstOrDefault(s => s.Name == "process reference");
        var referenceRss = summaries.FirstOrDefault(s => s.Name == "process reference")?.PeakRssMb;

        Say($"== summary (reference agent against its targets; handshake figures: {reference?.Name ?? "none"})");
        if (reference != null)
        {
            Say($"sequential: p50 {reference.SeqP50:0.0} ms, p99 {reference.SeqP99:0.0} ms, {reference.SeqPerSecond:0} handshakes/s  " +
                Verdict(reference.SeqP50 <= Targets.SequentialP50Ms, $"p50 target <= {Targets.SequentialP50Ms} ms"));
            Say($"concurrency {concurrency}: {reference.ConcPerSecond:0} handshakes/s  " + (concurrency == 8
                ? Verdict(reference.ConcPerSecond >= Targets.ConcurrentPerSecond, $"target >= {Targets.ConcurrentPerSecond} with 8 in flight")
                : $"(the target, >= {Targets.ConcurrentPerSecond}/s, is for 8 in flight)"));
            Say($"cpu: {reference.CpuMsPerHandshake:0.00} ms per handshake, at most {reference.CpuBoundPerSecond:0} handshakes/s on {Environment.ProcessorCount} idle cores");
        }
        if (readyMedian is { } rm) Say($"ready: {rm:0} ms  " + Verdict(rm <= Targets.ReadyMs, $"target <= {Targets.ReadyMs} ms"));
        if (referenceRss is { } rss) Say($"rss: {rss:0} MB  " + Verdict(rss <= Targets.RssMb, $"target <= {Targets.RssMb} MB"));
        foreach (var s in summaries.Where(s => s != reference))
            Say($"{s.Name}: sequential p50 {s.SeqP50:0.0} ms, {s.SeqPerSecond:0} handshakes/s; concurrency {concurrency}: {s.ConcPerSecond:0} handshakes/s" +
                (s.PeakRssMb is { } m ? $"; rss {m:0} MB" : ""));
        Say($"load average: {Fmt(loadBefore)} before, {Fmt(loads.Count > 0 ? HandshakeBench.Median(loads) : null)} median during, {Fmt(loadAfter)} after ({Environment.ProcessorCount} cores)");

        if (json)
        {
            inv.WriteJson(new JsonObject
            {
                ["machine"] = new JsonObject
                {
                    ["cores"] = Environment.ProcessorCount,
                    ["load_before"] = loadBefore,
                    ["load_median_during"] = loads.Count > 0 ? HandshakeBench.Median(loads) : null,
                    ["load_after"] = loadAfter,
                    ["configuration"] = configuration,
                    ["dotnet"] = Environment.Version.ToString(),
                },
                ["settings"] = new JsonObject
                {
                    ["runs"] = runs,
                    ["count"] = count,
                    ["process_count"] = processCount,
                    ["concurrency"] = concurrency,
                    ["transport"] = transport,
                    ["mode"] = mode,
                    ["vs"] = vs,
                    ["reference_runtime_settings"] = new JsonArray(runtimeSettings.Select(x => (JsonNode)x).ToArray()),
                },
                ["pairs"] = new JsonArray(summaries.Select(s => (JsonNode)PairJson(s)).ToArray()),
                ["startup"] = new JsonObject
                {
                    ["samples_ms"] = new JsonArray(readySamples.Select(x => (JsonNode)Math.Round(x, 1)).ToArray()),
                    ["ready_ms"] = readyMedian is { } r ? Math.Round(r, 1) : null,
                    ["agent_ready_ms"] = ownReady.Count > 0 ? HandshakeBench.Median(ownReady) : null,
                    ["cpu_ms"] = readyCpu.Count > 0 ? HandshakeBench.Median(readyCpu) : null,
                },
                ["targets"] = new JsonObject
                {
                    ["concurrent_per_second"] = Targets.ConcurrentPerSecond,
                    ["sequential_p50_ms"] = Targets.SequentialP50Ms,
                    ["ready_ms"] = Targets.ReadyMs,
                    ["rss_mb"] = Targets.RssMb,
                },
            });
        }
        return Entry.ExitOk;
    }

    private static JsonObject PairJson(PairSummary s) => new()
    {
        ["name"] = s.Name,
        ["transport"] = s.Transport,
        ["sequential"] = new JsonObject
        {
            ["p50_ms"] = Math.Round(s.SeqP50, 2),
            ["p99_ms"] = Math.Round(s.SeqP99, 2),
            ["per_second"] = Math.Round(s.SeqPerSecond, 1),
        },
        ["concurrent"] = new JsonObject
        {
            ["per_second"] = Math.Round(s.ConcPerSecond, 1),
            ["p50_ms"] = Math.Round(s.ConcP50, 2),
        },
        ["cpu_ms_per_handshake"] = Math.Round(s.CpuMsPerHandshake, 3),
        ["cpu_bound_per_second"] = Math.Round(s.CpuBoundPerSecond, 0),
        ["allocated_kb_per_handshake"] = s.AllocatedKbPerHandshake is { } al ? Math.Round(al, 1) : null,
        ["retained_kb_per_handshake"] = s.RetainedKbPerHandshake is { } re ? Math.Round(re, 1) : null,
        ["peak_rss_mb"] = s.PeakRssMb is { } m ? Math.Round(m, 1) : null,
        ["connections_held"] = s.ConnectionsHeld > 0 ? s.ConnectionsHeld : null,
        ["ready_ms_health_probe"] = s.ReadyMs is { } r ? Math.Round(r, 0) : null,
        ["runs"] = new JsonArray(s.Runs.Select(r => (JsonNode)new JsonObject
        {
            ["sequential"] = new JsonObject
            {
                ["p50_ms"] = Math.Round(r.Sequential.P50, 2),
                ["p99_ms"] = Math.Round(r.Sequential.P99, 2),
                ["per_second"] = Math.Round(r.Sequential.PerSecond, 1),
            },
            ["concurrent"] = new JsonObject
            {
                ["per_second"] = Math.Round(r.Concurrent.PerSecond, 1),
                ["p50_ms"] = Math.Round(r.Concurrent.P50, 2),
                ["p99_ms"] = Math.Round(r.Concurrent.P99, 2),
                ["cpu_ms_per_handshake"] = Math.Round(r.Concurrent.CpuMsPerHandshake, 3),
            },
        }).ToArray()),
    };

    private static string RunLine(PassResult seq, PassResult conc) =>
        $"sequential p50 {seq.P50:0.0} ms p99 {seq.P99:0.0} ms {seq.PerSecond:0}/s | concurrency {conc.Concurrency}: {conc.PerSecond:0}/s (p50 {conc.P50:0.0} ms) | cpu {conc.CpuMsPerHandshake:0.00} ms/handshake";

    private static void SayFigures(Action<string> say, PairSummary s, int concurrency)
    {
        say($"sequential: p50 {s.SeqP50:0.0} ms, p99 {s.SeqP99:0.0} ms, {s.SeqPerSecond:0} handshakes/s");
        say($"concurrency {concurrency}: {s.ConcPerSecond:0} handshakes/s");
        say($"cpu: {s.CpuMsPerHandshake:0.00} ms of CPU per handshake (both agents) = at most {s.CpuBoundPerSecond:0} handshakes/s on {Environment.ProcessorCount} idle cores");
    }

    private static string Verdict(bool met, string target) => met ? $"(met; {target})" : $"(MISSED; {target})";

    private static string Fmt(double? v, string format = "0.00") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "?";

    private static int PositiveInt(Invocation inv, string option, int fallback, int max, bool allowZero = false)
    {
        if (inv.Args.Value(option) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > max || (n == 0 && !allowZero))
            throw inv.Usage($"{option} must be a whole number {(allowZero ? 0 : 1)}-{max}, not '{text}'");
        return n;
    }

    /// <summary>
    /// An agent definition by name (agents/NAME/agent.json), folder or file. A definition from another checkout keeps
    /// its own repository for {repo} (the nearest folder above it holding Conformance.sln).
    /// </summary>
    private static AgentDefinition FindDefinition(string nameOrPath, string repoRoot)
    {
        try
        {
            var d = AgentDefinition.Find(repoRoot, nameOrPath);
            var file = File.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : Path.Combine(d.Directory, AgentDefinition.FileName);
            var dir = new DirectoryInfo(d.Directory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
            var ownRoot = dir?.FullName ?? repoRoot;
            return ownRoot == d.RepoRoot ? d : AgentDefinition.Load(file, ownRoot);
        }
        catch (AgentDefinitionException e) { throw new CliException($"--vs {nameOrPath}: {e.Message}"); }
    }
}
