using Conformance.Harness.Drivers;
using Conformance.Harness.Fixtures;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Harness.Tests.Suites;

/// <summary>
/// Regeneration is byte-identical: the same cases run twice against the seeded reference agent produce exactly the
/// same golden files (first run accepts into an empty folder, second run verifies), and they equal the checked-in
/// fixtures/reference baseline.
/// </summary>
public class FixtureDeterminismTests
{
    [Test]
    public async Task Two_runs_of_the_RFC0160_suite_write_the_same_bytes_as_the_checked_in_fixtures()
    {
        var root = Path.Combine(Path.GetTempPath(), $"conformance-fixtures-{Guid.NewGuid():N}");
        var cases = CaseCatalog.Filter(CaseCatalog.Discover(SuitesAssembly.Assembly), "RFC0160");
        try
        {
            var first = await RunAsync(root, cases, accept: true);
            var second = await RunAsync(root, cases, accept: false);
            Assert.That(first.Values.Select(v => v.Outcome), Has.All.AnyOf(FixtureOutcome.Accepted, FixtureOutcome.Match), "a case without wire messages has nothing to accept");
            Assert.That(second.Where(kv => kv.Value.Outcome != FixtureOutcome.Match).Select(kv => $"{kv.Key}: {kv.Value.Status}\n{kv.Value.Diff}"), Is.Empty);
            var baseline = Path.Combine(TestPaths.RepoRoot, "fixtures", "reference");
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "reference"), "*.json", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(Path.Combine(root, "reference"), file);
                var checkedIn = Path.Combine(baseline, rel);
                Assert.That(File.Exists(checkedIn), Is.True, $"fixtures/reference/{rel} is checked in");
                Assert.That(File.ReadAllBytes(file), Is.EqualTo(File.ReadAllBytes(checkedIn)), $"fixtures/reference/{rel} regenerates byte-identical");
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<Dictionary<string, FixtureVerification>> RunAsync(string root, IReadOnlyList<CaseInfo> cases, bool accept)
    {
        var store = new FixtureStore(root, ScrubPolicy.SeededAgent);
        var verdicts = new Dictionary<string, FixtureVerification>();
        await using var driver = new ReferenceDriver();
        foreach (var info in cases)
        {
            var r = await CaseRunner.RunAsync(info, driver, new RunSettings { Deterministic = true });
            Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{r.Id}: {r.Expected} / {r.Observed} / {r.Reason}");
            verdicts[r.Id] = store.Verify(r, accept);
        }
        return verdicts;
    }
}
