using Conformance.Harness.Grading;
using Conformance.Harness.Running;

namespace Conformance.Harness.Tests.Running;

/// <summary>Known results: what a run is compared with, and how a run rewrites them.</summary>
public class KnownResultsTests
{
    private static CaseResult Result(string id, Grade grade, string? observed = null) =>
        new() { Id = id, Grade = grade, Requirement = "requirement of " + id, Expected = "x", Observed = observed };

    private static KnownResults Known(params (string Id, string Grade, string? Why)[] cases)
    {
        var k = new KnownResults { Agent = "credo", Version = "0.6.3" };
        foreach (var (id, grade, why) in cases) k.Cases[id] = new KnownResults.KnownCase(grade, "requirement of " + id, "x", "seen before", why);
        return k;
    }

    [Test]
    public void A_new_fail_a_fixed_case_and_a_changed_grade_are_changes_and_nothing_else_is()
    {
        var known = Known(("A", "FAIL", null), ("B", "WARN", null), ("C", "FAIL", null));
        var changes = known.Compare([Result("A", Grade.FAIL), Result("B", Grade.PASS), Result("C", Grade.WARN, "now a warning"), Result("D", Grade.FAIL, "broke"), Result("E", Grade.PASS)]);
        Assert.That(changes.Select(c => (c.CaseId, c.Known, c.Now)), Is.EqualTo(new[] { ("B", "WARN", "PASS"), ("C", "FAIL", "WARN"), ("D", "PASS", "FAIL") }));
        Assert.That(changes[0].Detail, Does.StartWith("fixed"));
        Assert.That(changes[2].Detail, Does.Contain("new FAIL").And.Contain("broke"));
    }

    [Test]
    public void Writing_from_a_subset_run_changes_only_the_cases_that_ran_and_keeps_the_why()
    {
        var previous = Known(("RFC0160-ERRORS-001", "FAIL", "Credo does not check single use"), ("RFC0023-ERRORS-001", "WARN", null), ("RFC0023-ERRORS-002", "WARN", null));
        // A --suite RFC0160 run: ERRORS-001 still fails (new evidence), ERRORS-002 is newly a WARN.
        var k = KnownResults.FromRun("credo", "0.6.3", [Result("RFC0160-ERRORS-001", Grade.FAIL, "new evidence"), Result("RFC0160-ERRORS-002", Grade.WARN, "w")], previous);
        Assert.That(k.Cases.Keys, Is.EqualTo(new[] { "RFC0023-ERRORS-001", "RFC0023-ERRORS-002", "RFC0160-ERRORS-001", "RFC0160-ERRORS-002" }), "the RFC0023 entries that did not run are kept");
        Assert.That(k.Cases["RFC0160-ERRORS-001"].Observed, Is.EqualTo("new evidence"));
        Assert.That(k.Cases["RFC0160-ERRORS-001"].Why, Is.EqualTo("Credo does not check single use"));
        var fixedRun = KnownResults.FromRun("credo", "0.6.3", [Result("RFC0160-ERRORS-001", Grade.PASS)], k);
        Assert.That(fixedRun.Cases.Keys, Does.Not.Contain("RFC0160-ERRORS-001"), "a case that ran and passed leaves the list");
        Assert.That(fixedRun.Cases.Keys, Does.Contain("RFC0023-ERRORS-001"));
    }

    [Test]
    public void A_saved_file_loads_back_the_same()
    {
        var k = Known(("A", "FAIL", "because"), ("B", "UNSUPPORTED", null));
        var path = Path.Combine(Path.GetTempPath(), $"known-{Guid.NewGuid():N}.json");
        try
        {
            k.Save(path);
            var back = KnownResults.Load(path);
            Assert.That(back.Agent, Is.EqualTo("credo"));
            Assert.That(back.Cases, Is.EqualTo(k.Cases));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void The_checked_in_credo_results_name_only_cases_that_exist()
    {
        var ids = CaseCatalog.Discover(Conformance.Suites.SuitesAssembly.Assembly).Select(c => c.Id).ToHashSet();
        var known = KnownResults.Load(Path.Combine(TestPaths.RepoRoot, "known-results", "credo-0.6.3.json"));
        Assert.That(known.Cases.Keys.Where(id => !ids.Contains(id)), Is.Empty);
        Assert.That(known.Cases.Values.Select(c => c.Grade), Has.All.AnyOf("WARN", "FAIL", "UNSUPPORTED"), "a known result is never PASS or ERROR");
    }
}
