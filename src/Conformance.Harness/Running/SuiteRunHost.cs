using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Running;

/// <summary>
/// One run against one agent under test, however it is started (CLI or `dotnet test`): creates the driver, runs
/// cases, checks fixtures, and writes the reports at the end.
/// Environment for `dotnet test`: CONFORMANCE_AGENT (reference | URL | name), CONFORMANCE_RUNTIME (process | docker),
/// CONFORMANCE_REPORTS (output folder; default reports/&lt;run-id&gt; in the repository), CONFORMANCE_FIXTURES
/// (verify | accept | off; default verify).
/// </summary>
public sealed class SuiteRunHost : IAsyncDisposable
{
    private readonly List<CaseResult> _results = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;

    private SuiteRunHost(IAgentDriver driver, RunOptions options)
    {
        Driver = driver;
        Options = options;
    }

    public IAgentDriver Driver { get; }
    public RunOptions Options { get; }
    public IReadOnlyList<CaseResult> Results => _results;
    public string RunId { get; } = DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss") + "-" + Environment.ProcessId;

    public static async Task<SuiteRunHost> StartAsync(RunOptions options, CancellationToken ct = default)
    {
        var driver = Drivers.DriverFactory.Create(options);
        await driver.StartAsync(ct);
        return new SuiteRunHost(driver, options);
    }

    public static Task<SuiteRunHost> FromEnvironmentAsync() => StartAsync(RunOptions.FromEnvironment());

    public async Task<CaseResult> RunCaseAsync(CaseInfo info)
    {
        var result = await CaseRunner.RunAsync(info, Driver, Options.Settings);
        Fixtures?.Invoke(this, result);
        lock (_results) _results.Add(result);
        return result;
    }

    /// <summary>Fixture verification hook (set by the fixtures module): compares a case's wire against its golden files.</summary>
    public static Action<SuiteRunHost, CaseResult>? Fixtures { get; set; }

    /// <summary>Report writing hook (set by the reports module); returns the report folder.</summary>
    public static Func<SuiteRunHost, string?>? WriteReports { get; set; }

    public DateTimeOffset Started => _started;

    public async Task<string?> FinishAsync()
    {
        await Driver.DisposeAsync();
        return WriteReports?.Invoke(this);
    }

    public async ValueTask DisposeAsync() => await Driver.DisposeAsync();
}

/// <summary>What a run is asked to do.</summary>
public sealed class RunOptions
{
    /// <summary>"reference", a backchannel URL, or the name of an agent definition (e.g. "credo").</summary>
    public string Agent { get; set; } = "reference";
    /// <summary>"in-process" (reference default), "process" or "docker".</summary>
    public string? Runtime { get; set; }
    public string? Suites { get; set; }
    public string RepoRoot { get; set; } = FindRepoRoot();
    public string? ReportsDir { get; set; }
    /// <summary>"verify", "accept" or "off".</summary>
    public string FixtureMode { get; set; } = "verify";
    public RunSettings Settings { get; } = new();

    public static RunOptions FromEnvironment()
    {
        var o = new RunOptions();
        if (Environment.GetEnvironmentVariable("CONFORMANCE_AGENT") is { Length: > 0 } a) o.Agent = a;
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
