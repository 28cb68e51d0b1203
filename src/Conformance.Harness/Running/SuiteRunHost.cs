using Conformance.Harness.Drivers;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;

namespace Conformance.Harness.Running;

/// <summary>
/// One run against one agent under test, however it is started (CLI or `dotnet test`): creates the driver, runs
/// cases, checks fixtures, and writes the reports at the end.
/// Environment for `dotnet test`: CONFORMANCE_AGENT (reference | URL | name), CONFORMANCE_RUNTIME (process | docker),
/// CONFORMANCE_REPORTS (output folder; default reports/&lt;run-id&gt; in the repository), CONFORMANCE_FIXTURES
/// (verify | accept | off; default verify), CONFORMANCE_MEDIATOR (embedded | DID | URL; the default is the embedded
/// mediator unless CONFORMANCE_AGENT names another agent, see <see cref="RunOptions.Resolve"/>).
/// </summary>
public sealed class SuiteRunHost : IAsyncDisposable
{
    private readonly List<CaseResult> _results = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    private SuiteRunHost(IAgentDriver? driver, IMediatorUnderTest? mediator, RunOptions options)
    {
        Driver = driver;
        Mediator = mediator;
        Options = options;
    }

    /// <summary>The agent under test (null in a mediator-only run).</summary>
    public IAgentDriver? Driver { get; }

    /// <summary>The DIDComm v2 mediator under test (null when the run has none).</summary>
    public IMediatorUnderTest? Mediator { get; }

    /// <summary>"'reference' (in-process) and mediator 'reference-mediator' (in-process)".</summary>
    public string Describe() => string.Join(" and ", new[]
    {
        Driver is null ? null : $"'{Driver.Name}' ({Driver.Runtime})",
        Mediator is null ? null : $"mediator '{Mediator.Name}' ({Mediator.Runtime})",
    }.Where(x => x != null));

    /// <summary>Keeps the cases this run has a target for (agent cases need an agent, mediator cases a mediator).</summary>
    public IReadOnlyList<CaseInfo> Runnable(IReadOnlyList<CaseInfo> cases) =>
        cases.Where(c => c.Target == CaseTarget.Mediator ? Mediator != null : Driver != null).ToList();
    public RunOptions Options { get; }
    public IReadOnlyList<CaseResult> Results => _results;
    public string RunId { get; } = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss") + "-" + Environment.ProcessId;

    public static async Task<SuiteRunHost> StartAsync(RunOptions options, CancellationToken ct = default)
    {
        IAgentDriver? driver = null;
        IMediatorUnderTest? mediator = null;
        try
        {
            if (options.Agent != null)
            {
                driver = Drivers.DriverFactory.Create(options);
                await driver.StartAsync(ct);
            }
            if (options.Mediator != null)
            {
                mediator = MediatorTargets.Create(options.Mediator);
                await mediator.StartAsync(ct);
            }
        }
        catch
        {
            if (driver != null) await driver.DisposeAsync();
            if (mediator != null) await mediator.DisposeAsync();
            throw;
        }
        // Seeded peers only against a seeded agent under test: a long-lived external agent must not see the same
        // invitation ids and keys again on the next run. (The mediator suites' clients follow the mediator's own flag.)
        options.Settings.Deterministic = driver?.IsDeterministic ?? false;
        return new SuiteRunHost(driver, mediator, options);
    }

    public static Task<SuiteRunHost> FromEnvironmentAsync() => StartAsync(RunOptions.FromEnvironment());

    public async Task<CaseResult> RunCaseAsync(CaseInfo info)
    {
        var result = await CaseRunner.RunAsync(info, Driver, Mediator, Options.Settings);
        VerifyFixtures(result, info.Target == CaseTarget.Mediator
            ? (Mediator?.IsDeterministic == true ? ScrubPolicy.SeededMediator : ScrubPolicy.Default)
            : (Driver?.IsDeterministic == true ? ScrubPolicy.SeededAgent : ScrubPolicy.Default));
        lock (_results) _results.Add(result);
        return result;
    }

    /// <summary>
    /// How many cases run side by side. Against an external agent the suites are mostly waiting (for an answer, or
    /// out the timeout for one that must not come), so by default <see cref="DefaultParallelism"/> cases share it, each
    /// with its own peers, ports and wire log; <see cref="RunOptions.Parallel"/> overrides that (1 = one after another).
    /// The embedded reference agent and the mediator suites always run one case at a time: each of their cases starts
    /// from a fresh seeded instance, which is what makes their fixtures byte-identical (so does any seeded agent).
    /// </summary>
    public int Parallelism => Driver is null || Driver.IsDeterministic || Driver.FreshAgentPerCase ? 1 : Math.Max(1, Options.Parallel ?? DefaultParallelism);

    public const int DefaultParallelism = 4;

    /// <summary>
    /// Runs <paramref name="cases"/> (<see cref="Parallelism"/> at a time, a <see cref="CaseInfo.RunsAlone"/> case or a
    /// mediator case alone) and returns their results in the order of the list; <paramref name="completed"/> hears of
    /// each result as it comes, one at a time.
    /// </summary>
    public async Task<IReadOnlyList<CaseResult>> RunAllAsync(IReadOnlyList<CaseInfo> cases, Action<CaseResult>? completed = null, CancellationToken ct = default)
    {
        var results = await CaseSchedule.RunAsync(cases, Parallelism, RunCaseAsync, completed, ct);
        var order = cases.Select((c, i) => (c.Id, i)).ToDictionary(x => x.Id, x => x.i);
        lock (_results)
        {
            var sorted = _results.OrderBy(r => order.GetValueOrDefault(r.Id, -1)).ToList(); // stable: earlier results first
            _results.Clear();
            _results.AddRange(sorted);
        }
        return results;
    }

    /// <summary>Fixture verdicts of this run, by case id ("match", "new", "changed", "accepted", or why none).</summary>
    public Dictionary<string, FixtureVerification> Fixtures { get; } = [];

    /// <summary>
    /// Compares the case's wire transcript with its golden files (fixtures/&lt;agent&gt;/&lt;case&gt;/). Only cases
    /// that completed (PASS/WARN) have a transcript worth keeping. Ephemeral ports make endpoints, the DIDs that embed
    /// them and the signatures over them differ between runs, so those are always scrubbed; with a deterministic
    /// (seeded) agent ids and keys stay raw, so the fixtures show real example messages.
    /// </summary>
    private void VerifyFixtures(CaseResult result, ScrubPolicy policy)
    {
        if (Options.FixtureMode == "off") return;
        if (result.Grade is not (Grade.PASS or Grade.WARN))
        {
            result.FixtureStatus = $"not compared ({result.Grade})";
            return;
        }
        var store = new FixtureStore(Path.Combine(Options.RepoRoot, "fixtures"), policy);
        try
        {
            var v = store.Verify(result, accept: Options.FixtureMode == "accept");
            result.FixtureStatus = v.Status;
            if (v.Diff != null) result.FixtureDiff = v.Diff;
            lock (Fixtures) Fixtures[result.Id] = v;
        }
        catch (PrivateKeyException e)
        {
            result.FixtureStatus = "refused: " + e.Message;
        }
    }

    public DateTimeOffset Started => _started;

    /// <summary>Stops the agent and writes the reports; returns the report folder.</summary>
    public async Task<string?> FinishAsync()
    {
        await DisposeAsync();
        var dir = Options.ReportsDir ?? Path.Combine(Options.RepoRoot, "reports", RunId);
        var report = new RunReport
        {
            RunId = RunId,
            Started = _started,
            Finished = DateTimeOffset.UtcNow,
            Agents = [.. new[] { Driver?.Name, Mediator?.Name }.OfType<string>()],
            Runtime = string.Join(", ", new[] { Driver?.Runtime, Mediator?.Runtime }.OfType<string>().Distinct()),
            Cases = [.. _results],
            Settings = new Dictionary<string, string>
            {
                ["agent"] = Options.Agent ?? "none",
                ["mediator"] = Options.Mediator ?? "none",
                ["suites"] = Options.Suites ?? "all",
                ["fixtures"] = Options.FixtureMode,
                ["message_timeout_s"] = Options.Settings.MessageTimeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["parallel"] = Parallelism.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["deterministic"] = (Driver?.IsDeterministic ?? Mediator?.IsDeterministic ?? false).ToString().ToLowerInvariant(),
            },
            Pairings = Pairings,
        };
        var specs = Path.GetFullPath(Path.Combine(Options.RepoRoot, "..", "shared", "specs"));
        ReportWriter.Write(report, dir, new ReportOptions { SpecsRoot = Directory.Exists(specs) ? specs : null });
        return dir;
    }

    /// <summary>Interop pairings to show in the report's matrix (filled by interop runs).</summary>
    public List<Pairing> Pairings { get; } = [];

    public async ValueTask DisposeAsync()
    {
        if (Driver != null) await Driver.DisposeAsync();
        if (Mediator != null) await Mediator.DisposeAsync();
    }
}

/// <summary>What a run is asked to do.</summary>
public sealed class RunOptions
{
    /// <summary>"reference", a backchannel URL, or the name of an agent definition (e.g. "credo"); null = no agent
    /// under test (a mediator-only run).</summary>
    public string? Agent { get; set; } = "reference";

    /// <summary>The DIDComm v2 mediator under test: "embedded", "embedded:FAULTS" (the fault-injected double), a DID
    /// or a URL; null = none (the mediator suites are not run).</summary>
    public string? Mediator { get; set; }

    /// <summary>
    /// The targets of a run from what the user named: nothing named = the embedded reference agent AND the embedded
    /// mediator (every suite); only an agent = that agent's suites; only a mediator = the mediator suites; both = both.
    /// "none" for either leaves it out.
    /// </summary>
    public void Resolve(string? agent, string? mediator)
    {
        static string? None(string? v) => v is null or "none" ? null : v;
        if (agent is null && mediator is null) { Agent = "reference"; Mediator = "embedded"; return; }
        Agent = None(agent);
        Mediator = None(mediator);
    }
    /// <summary>"in-process" (reference default), "process" or "docker".</summary>
    public string? Runtime { get; set; }
    public string? Suites { get; set; }
    public string RepoRoot { get; set; } = FindRepoRoot();
    public string? ReportsDir { get; set; }
    /// <summary>"verify", "accept" or "off".</summary>
    public string FixtureMode { get; set; } = "verify";
    /// <summary>Cases run side by side against an external agent; null = <see cref="SuiteRunHost.DefaultParallelism"/>
    /// (see <see cref="SuiteRunHost.Parallelism"/>).</summary>
    public int? Parallel { get; set; }
    public RunSettings Settings { get; } = new();

    public static RunOptions FromEnvironment()
    {
        var o = new RunOptions();
        o.Resolve(Environment.GetEnvironmentVariable("CONFORMANCE_AGENT") is { Length: > 0 } a ? a : null,
                  Environment.GetEnvironmentVariable("CONFORMANCE_MEDIATOR") is { Length: > 0 } m ? m : null);
        if (Environment.GetEnvironmentVariable("CONFORMANCE_RUNTIME") is { Length: > 0 } r) o.Runtime = r;
        if (Environment.GetEnvironmentVariable("CONFORMANCE_REPORTS") is { Length: > 0 } d) o.ReportsDir = d;
        if (Environment.GetEnvironmentVariable("CONFORMANCE_FIXTURES") is { Length: > 0 } f) o.FixtureMode = f;
        return o;
    }

    /// <summary>The folder holding Conformance.sln, from the current directory or the program's location.</summary>
    public static string FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var dir = new DirectoryInfo(start);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
            if (dir != null) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
