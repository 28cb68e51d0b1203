using System.Reflection;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;

namespace Conformance.Harness.Tests.Running;

/// <summary>
/// The case schedule: up to N cases side by side, a case that must run alone (and every mediator case) with nothing
/// beside it, results in the order of the list whatever order they finish in.
/// </summary>
public class CaseScheduleTests
{
    private static readonly MethodInfo AnyMethod = typeof(CaseScheduleTests).GetMethod(nameof(Cases), BindingFlags.NonPublic | BindingFlags.Static)!;

    private static CaseInfo Case(string id, bool alone = false, CaseTarget target = CaseTarget.Agent) =>
        new(id, "TEST", "test", "x", "a requirement", Level.MUST, null, null, null, AnyMethod, target, null, alone);

    private static List<CaseInfo> Cases(params CaseInfo[] cases) => [.. cases];

    /// <summary>Runs the cases with a fake runner that sleeps a given time per case and records who ran beside whom.</summary>
    private sealed class Recorder
    {
        private int _now;
        public int MostAtOnce;
        public readonly HashSet<string> Running = [];
        public readonly Dictionary<string, HashSet<string>> SeenBeside = [];

        public async Task<CaseResult> Run(CaseInfo c, int ms)
        {
            lock (this)
            {
                _now++;
                MostAtOnce = Math.Max(MostAtOnce, _now);
                SeenBeside[c.Id] = [.. Running];
                foreach (var other in Running) SeenBeside[other].Add(c.Id);
                Running.Add(c.Id);
            }
            await Task.Delay(ms);
            lock (this) { _now--; Running.Remove(c.Id); }
            return new CaseResult { Id = c.Id, Grade = Grade.PASS };
        }
    }

    [Test]
    public async Task Cases_run_side_by_side_up_to_the_width_and_come_back_in_list_order()
    {
        var cases = Cases(Case("A"), Case("B"), Case("C"), Case("D"), Case("E"), Case("F"));
        var rec = new Recorder();
        var heard = new List<string>();
        var bHeard = new TaskCompletionSource();
        // A finishes only once B has been reported: the report follows completion, not the list.
        var results = await CaseSchedule.RunAsync(cases, 3, async c =>
        {
            if (c.Id == "A") await Task.WhenAny(bHeard.Task, Task.Delay(5000));
            return await rec.Run(c, c.Id is "A" or "D" ? 100 : 30);
        }, r => { heard.Add(r.Id); if (r.Id == "B") bHeard.TrySetResult(); });
        Assert.That(results.Select(r => r.Id), Is.EqualTo(new[] { "A", "B", "C", "D", "E", "F" }), "results in list order");
        Assert.That(rec.MostAtOnce, Is.EqualTo(3), "never more than the width, and the width is used");
        Assert.That(heard, Is.EquivalentTo(new[] { "A", "B", "C", "D", "E", "F" }), "every result is reported once");
        Assert.That(heard.IndexOf("B"), Is.LessThan(heard.IndexOf("A")), "results are reported as they finish");
    }

    [Test]
    public async Task A_case_that_runs_alone_has_nothing_beside_it_and_keeps_its_place()
    {
        var cases = Cases(Case("A"), Case("B"), Case("ALONE", alone: true), Case("C"), Case("MEDIATOR", target: CaseTarget.Mediator), Case("D"), Case("E"));
        var rec = new Recorder();
        var results = await CaseSchedule.RunAsync(cases, 4, c => rec.Run(c, 60));
        Assert.That(rec.SeenBeside["ALONE"], Is.Empty, "nothing ran beside the case that runs alone");
        Assert.That(rec.SeenBeside["MEDIATOR"], Is.Empty, "nothing ran beside the mediator case");
        Assert.That(rec.SeenBeside["A"], Does.Contain("B"), "the others do share");
        Assert.That(rec.SeenBeside["D"], Does.Contain("E"));
        Assert.That(rec.SeenBeside["C"], Is.Empty, "C is between two cases that run alone");
        Assert.That(results.Select(r => r.Id), Is.EqualTo(cases.Select(c => c.Id)));
    }

    [Test]
    public async Task Width_one_is_one_after_another()
    {
        var cases = Cases(Case("A"), Case("B"), Case("C"));
        var rec = new Recorder();
        await CaseSchedule.RunAsync(cases, 1, c => rec.Run(c, 20));
        Assert.That(rec.MostAtOnce, Is.EqualTo(1));
    }

    [Test]
    public void The_suites_mark_the_cases_that_reconfigure_the_agent_or_count_its_connections()
    {
        var catalog = CaseCatalog.Discover(Conformance.Suites.SuitesAssembly.Assembly);
        var alone = catalog.Where(c => c.RunsAlone).Select(c => c.Id).ToList();
        // agent/start (transports), the whole connection list, a browser.
        Assert.That(alone, Has.Some.StartsWith("RFC0025-"));
        Assert.That(alone, Has.Some.StartsWith("RFC0211-THROUGH-"));
        Assert.That(alone, Does.Contain("FAULTS-DUPLICATE-002").And.Contains("FAULTS-REPLAY-001"));
        Assert.That(alone, Has.Some.StartsWith("BROWSER-"));
        // Every case whose code calls agent/start or lists the agent's connections is marked (source check).
        var suitesDir = Path.Combine(TestPaths.RepoRoot, "suites", "Conformance.Suites");
        foreach (var file in Directory.GetFiles(suitesDir, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/bin/") && !f.Contains("/obj/")))
        {
            var text = File.ReadAllText(file);
            if (!text.Contains("Backchannel.StartAsync(") && !text.Contains("AutConnectionsAsync(c)") && !text.Contains("AutConnectionIdsAsync(c)")) continue;
            if (file.EndsWith("FaultFlows.cs")) continue; // the helpers themselves
            Assert.That(text, Does.Contain("RunsAlone = true"), $"{Path.GetFileName(file)} reconfigures the agent or counts its connections");
        }
    }
}
