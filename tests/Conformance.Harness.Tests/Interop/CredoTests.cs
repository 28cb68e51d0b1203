using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Interop;

/// <summary>
/// Credo 0.6.3 as the agent under test, started as a real process (agents/credo) and then in a container (the same
/// agent, image conformance/credo:dev built offline by docker/build-credo.sh): every case is graded (no ERROR from
/// the harness) and the grades of each runtime equal the checked-in known results (known-results/credo-0.6.3.json),
/// which list each case that does not PASS with its RFC requirement and the observed evidence — so the container
/// runtime grades exactly as the process runtime does. A difference is a visible change: a new FAIL, or a fixed case
/// to take off the list. A case whose grade differs is run once more before it counts, so that one slow moment on a
/// loaded machine is not reported as a change in Credo.
/// </summary>
[TestFixture, Category("Credo"), NonParallelizable]
public class CredoTests
{
    /// <summary>The process runtime's grades of this test run, when its test ran first (the docker test compares with them).</summary>
    private static List<CaseResult>? _processResults;

    public static string KnownResultsPath => Path.Combine(TestPaths.RepoRoot, "known-results", "credo-0.6.3.json");

    private static IReadOnlyList<CaseInfo> Catalog => CaseCatalog.Discover(SuitesAssembly.Assembly);

    /// <summary>The agent suites' cases (the mediator suites need a DIDComm v2 mediator, not an agent).</summary>
    private static int AgentCases => Catalog.Count(c => c.Target == CaseTarget.Agent);

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
        var results = (await host.RunAllAsync(cases)).ToList(); // side by side, as `./run.sh --agent credo` runs them
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

    [Test] // runs before the docker test: NUnit runs a fixture's tests in name order
    public async Task Every_case_is_graded_and_the_grades_match_the_known_results()
    {
        var (results, changes) = await RunAgainstKnown("process");
        _processResults = results;
        Assert.That(results, Has.Count.EqualTo(AgentCases));
        Assert.That(results.Where(r => r.Grade == Grade.ERROR).Select(r => $"{r.Id}: {r.Reason}"), Is.Empty, "no ERROR from the harness itself");
        Assert.That(changes.Select(c => c.ToString()), Is.Empty,
            "Credo's grades changed against known-results/credo-0.6.3.json (regenerate with `conformance run --agent credo --write-known known-results/credo-0.6.3.json` after reviewing)");
    }

    /// <summary>
    /// The container runtime (<c>--runtime docker</c>) grades every case as the process runtime does. Both are held to
    /// the same known results, so equality is transitive; any case whose grade differs between the two runtimes is
    /// also listed with both grades (the process grades of this test run when its test ran, else the known results,
    /// which the process run is held to).
    /// </summary>
    [Test, Category("Docker")]
    public async Task In_a_container_every_case_gets_the_grade_it_gets_as_a_process()
    {
        DockerTestEnvironment.Assume(DockerTestEnvironment.Require("docker/build-credo.sh"));
        var (results, changes) = await RunAgainstKnown("docker");
        var known = KnownResults.Load(KnownResultsPath);
        var process = _processResults?.ToDictionary(r => r.Id, r => r.Grade.ToString());
        var source = process != null ? "process run of this test run" : "known results (the process run is held to them)";
        var differ = RuntimeDifferences(results, id => process?.GetValueOrDefault(id) ?? known.Cases.GetValueOrDefault(id)?.Grade ?? "PASS");
        TestContext.Out.WriteLine(differ.Count == 0
            ? $"docker and process runtimes: the same grade for all {results.Count} cases (process grades from the {source})"
            : $"docker and process runtimes differ on {differ.Count} case(s) (process grades from the {source}):\n  " + string.Join("\n  ", differ));
        Assert.That(results, Has.Count.EqualTo(AgentCases));
        Assert.That(results.Where(r => r.Grade == Grade.ERROR).Select(r => $"{r.Id}: {r.Reason}"), Is.Empty, "no ERROR from the harness itself");
        Assert.Multiple(() =>
        {
            Assert.That(differ, Is.Empty, $"cases graded differently by the docker and the process runtime (process grades from the {source})");
            Assert.That(changes.Select(c => c.ToString()), Is.Empty, "Credo's grades in a container changed against known-results/credo-0.6.3.json");
        });
    }

    /// <summary>"ID: process G1, docker G2 — observed" for every case whose docker grade is not its process grade.</summary>
    internal static List<string> RuntimeDifferences(IEnumerable<CaseResult> docker, Func<string, string> processGrade) =>
        [.. docker.Where(r => processGrade(r.Id) != r.Grade.ToString())
            .Select(r => $"{r.Id}: process {processGrade(r.Id)}, docker {r.Grade} — {Shorten(r.Observed ?? r.Reason)}")];

    private static string Shorten(string? s) => s == null ? "" : s.Length <= 200 ? s : s[..200] + "…";
}
