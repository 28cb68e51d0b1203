using Conformance.Harness.Drivers;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Suites;

/// <summary>
/// Regeneration is byte-identical: the same cases run twice against the seeded reference agent (or the seeded embedded
/// mediator) produce exactly the same golden files (first run accepts into an empty folder, second run verifies), and
/// they equal the checked-in fixtures/reference (fixtures/reference-mediator) baseline.
/// </summary>
public class FixtureDeterminismTests
{
    [Test]
    public Task Two_runs_of_the_RFC0160_suite_write_the_same_bytes_as_the_checked_in_fixtures() =>
        TwoRunsAsync("RFC0160", "reference", ScrubPolicy.SeededAgent, () => (new ReferenceDriver(), null));

    [Test]
    public Task Two_runs_of_the_mediator_suites_write_the_same_bytes_as_the_checked_in_fixtures() =>
        TwoRunsAsync("MEDIATE2,PICKUP3,MEDIATOR,PROBLEM2", "reference-mediator", ScrubPolicy.SeededMediator, () => (null, new EmbeddedMediator()));

    private static async Task TwoRunsAsync(string suites, string agent, ScrubPolicy policy, Func<(IAgentDriver?, IMediatorUnderTest?)> targets)
    {
        var root = Path.Combine(Path.GetTempPath(), $"conformance-fixtures-{Guid.NewGuid():N}");
        var cases = CaseCatalog.Filter(CaseCatalog.Discover(SuitesAssembly.Assembly), suites);
        try
        {
            var first = await RunAsync(root, cases, policy, targets, accept: true);
            var second = await RunAsync(root, cases, policy, targets, accept: false);
            Assert.That(first.Values.Select(v => v.Outcome), Has.All.AnyOf(FixtureOutcome.Accepted, FixtureOutcome.Match), "a case without wire messages has nothing to accept");
            Assert.That(second.Where(kv => kv.Value.Outcome != FixtureOutcome.Match).Select(kv => $"{kv.Key}: {kv.Value.Status}\n{kv.Value.Diff}"), Is.Empty);
            var baseline = Path.Combine(TestPaths.RepoRoot, "fixtures", agent);
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, agent), "*.json", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(Path.Combine(root, agent), file);
                var checkedIn = Path.Combine(baseline, rel);
                Assert.That(File.Exists(checkedIn), Is.True, $"fixtures/{agent}/{rel} is checked in");
                Assert.That(File.ReadAllBytes(file), Is.EqualTo(File.ReadAllBytes(checkedIn)), $"fixtures/{agent}/{rel} regenerates byte-identical");
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<Dictionary<string, FixtureVerification>> RunAsync(string root, IReadOnlyList<CaseInfo> cases, ScrubPolicy policy,
        Func<(IAgentDriver?, IMediatorUnderTest?)> targets, bool accept)
    {
        var store = new FixtureStore(root, policy);
        var verdicts = new Dictionary<string, FixtureVerification>();
        var (driver, mediator) = targets();
        try
        {
            foreach (var info in cases)
            {
                var r = await CaseRunner.RunAsync(info, driver, mediator, new RunSettings { Deterministic = true, WebSocketIdle = TimeSpan.Zero });
                Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{r.Id}: {r.Expected} / {r.Observed} / {r.Reason}");
                verdicts[r.Id] = store.Verify(r, accept);
            }
        }
        finally
        {
            if (driver != null) await driver.DisposeAsync();
            if (mediator != null) await mediator.DisposeAsync();
        }
        return verdicts;
    }
}
