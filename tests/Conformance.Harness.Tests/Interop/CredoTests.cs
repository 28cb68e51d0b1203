using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Interop;

/// <summary>
/// Credo 0.6.3 as the agent under test, started as a real process (agents/credo): every case is graded (no ERROR from
/// the harness) and the grades equal the checked-in known results (known-results/credo-0.6.3.json), which list each
/// case that does not PASS with its RFC requirement and the observed evidence. A difference is a visible change: a
/// new FAIL, or a fixed case to take off the list. A case whose grade differs is run once more before it counts, so
/// that one slow moment on a loaded machine is not reported as a change in Credo.
/// </summary>
[TestFixture, Category("Credo"), NonParallelizable]
public class CredoTests
{
    public static string KnownResultsPath => Path.Combine(TestPaths.RepoRoot, "known-results", "credo-0.6.3.json");

    private static IReadOnlyList<CaseInfo> Catalog => CaseCatalog.Discover(SuitesAssembly.Assembly);

    internal static async Task<(List<CaseResult> Results, List<KnownResults.Change> Changes)> RunAgainstKnown(string runtime, string? suites = null)
    {
        var known = KnownResults.Load(KnownResultsPath);
        var options = new RunOptions
        {
            Agent = "credo", Runtime = runtime, Suites = suites, FixtureMode = "off", RepoRoot = TestPaths.RepoRoot,
            ReportsDir = Path.Combine(Path.GetTempPath(), $"conformance-credo-{runtime}-{Guid.NewGuid():N}"),
        };
        await using var host = await SuiteRunHost.StartAsync(options);
        var cases = host.Runnable(CaseCatalog.Filter(Catalog, suites)); // the agent suites (this run has no mediator)
        foreach (var c in cases) await host.RunCaseAsync(c);
        var results = host.Results.ToList();
        var changes = known.Compare(results).ToList();
        foreach (var change in changes.ToList())
        {
            var again = await host.RunCaseAsync(cases.Single(c => c.Id == change.CaseId));
            TestContext.Progress.WriteLine($"re-ran {change.CaseId}: {again.Grade} (first {change.Now}, known {change.Known})");
            if (again.Grade.ToString() == change.Known)
            {
                changes.Remove(change);
                results[results.FindIndex(r => r.Id == change.CaseId)] = again;
            }
        }
        var dir = await host.FinishAsync();
        TestContext.Progress.WriteLine($"credo ({runtime}) report: {dir}");
        return (results, changes);
    }

    [Test]
    public async Task Every_case_is_graded_and_the_grades_match_the_known_results()
    {
        var (results, changes) = await RunAgainstKnown("process");
        Assert.That(results, Has.Count.EqualTo(Catalog.Count(c => c.Target == CaseTarget.Agent)));
        Assert.That(results.Where(r => r.Grade == Grade.ERROR).Select(r => $"{r.Id}: {r.Reason}"), Is.Empty, "no ERROR from the harness itself");
        Assert.That(changes.Select(c => c.ToString()), Is.Empty,
            "Credo's grades changed against known-results/credo-0.6.3.json (regenerate with `conformance run --agent credo --write-known known-results/credo-0.6.3.json` after reviewing)");
    }
}
