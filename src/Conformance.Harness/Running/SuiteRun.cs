using System.Diagnostics;
using System.Reflection;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Running;

/// <summary>
/// Runs a list of cases against one agent under test, one after another, and collects the results. Progress is
/// reported per case so the CLI can draw a live line.
/// </summary>
public sealed class SuiteRun(IAgentDriver aut, RunSettings settings)
{
    public List<CaseResult> Results { get; } = [];
    public TimeSpan Elapsed { get; private set; }

    public async Task<IReadOnlyList<CaseResult>> RunAsync(IReadOnlyList<CaseInfo> cases, Action<int, int, CaseResult>? progress = null, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        await aut.StartAsync(ct);
        int i = 0;
        foreach (var c in cases)
        {
            ct.ThrowIfCancellationRequested();
            var r = await CaseRunner.RunAsync(c, aut, settings);
            Results.Add(r);
            progress?.Invoke(++i, cases.Count, r);
        }
        Elapsed = sw.Elapsed;
        return Results;
    }

    /// <summary>The exit code the CLI and CI use: 0 when no case is FAIL or ERROR, 1 otherwise.</summary>
    public static int ExitCode(IEnumerable<CaseResult> results) => results.Any(r => r.Grade is Grade.FAIL or Grade.ERROR) ? 1 : 0;

    /// <summary>The suites assembly (suites/Conformance.Suites) found next to the running program.</summary>
    public static Assembly LoadSuites()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Conformance.Suites.dll");
        return File.Exists(path) ? Assembly.LoadFrom(path) : throw new FileNotFoundException("Conformance.Suites.dll not found next to the program", path);
    }
}
