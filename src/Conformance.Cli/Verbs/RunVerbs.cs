// conformance run / conformance fixtures: run the scenario suites against an agent under test, grade every case,
// verify golden fixtures, write reports. This is what `./run.sh` calls.
using System.Diagnostics;
using Conformance.Harness.Grading;
using Conformance.Harness.Running;
using Conformance.Suites;

namespace Conformance.Cli.Verbs;

public static class RunVerbs
{
    private static readonly Option[] RunOptions_ =
    [
        new("--agent", "NAME|URL", "agent under test: 'reference' (embedded, default), a backchannel URL, or an agent definition name (agents/NAME)"),
        new("--mediator", "embedded|DID|URL", "DIDComm v2 mediator under test for the mediator suites: 'embedded' (our own), its DID, or its URL (the DID is read from URL/did or URL/invitation). Alone, only the mediator suites run; with --agent, both; with neither, every suite against the embedded agent and mediator"),
        new("--runtime", "RUNTIME", "how to start a named agent: process or docker (default: in-process for the reference agent)"),
        new("--suite", "LIST", "comma-separated suites or case ids, e.g. RFC0160,RFC0023"),
        new("--out", "DIR", "report folder (default reports/<run-id>)"),
        new("--timeout", "SECONDS", "how long to wait for the agent under test to act (default 5)"),
        new("--parallel", "N", "cases run side by side against an external agent (default 4; 1 = one after another). The seeded embedded agent and the mediator suites always run one case at a time; cases that reconfigure the agent or count its connections run alone"),
        new("--ws-idle", "SECONDS", "how long the mediator suite keeps a WebSocket idle in its long-lived-connection case (default 5)"),
        new("--list", null, "list the cases that would run, and exit"),
        new("--known", "FILE", "compare the grades with a known-results file (known-results/<agent>-<version>.json); any difference exits 1"),
        new("--write-known", "FILE", "write the cases that did not PASS, with their evidence, as a known-results file (with --suite, only those cases change in an existing file)"),
    ];

    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("run", "Run the scenario suites against an agent under test and write the reports.", "", 0, 0,
            [.. RunOptions_, new("--fixtures", "MODE", "golden fixtures: verify (default), accept or off")],
            inv => RunAsync(inv, inv.Args.Value("--fixtures") ?? "verify"),
            """
            Grades: PASS, WARN (a SHOULD not met), FAIL (a MUST broken), UNSUPPORTED (the agent declares it does not
            do this), ERROR (the harness or its infrastructure failed). Exit code: 0 when no case is FAIL or ERROR,
            1 otherwise, 2 on a usage error.

            examples:
              conformance run
              conformance run --suite RFC0160
              conformance run --agent http://127.0.0.1:9020
              conformance run --mediator embedded
              conformance run --mediator http://127.0.0.1:8080
            """),
        new Verb("fixtures", "Run the suites and compare every wire message with the golden fixtures; --accept rewrites them.", "", 0, 0,
            [.. RunOptions_, new("--accept", null, "write the messages of this run as the new golden fixtures")],
            inv => RunAsync(inv, inv.Args.Has("--accept") ? "accept" : "verify"),
            """
            examples:
              conformance fixtures
              conformance fixtures --accept
            """),
    ];

    private static async Task<int> RunAsync(Invocation inv, string fixtureMode)
    {
        if (fixtureMode is not ("verify" or "accept" or "off")) throw inv.Usage($"--fixtures must be verify, accept or off, not '{fixtureMode}'");
        var options = new RunOptions
        {
            Runtime = inv.Args.Value("--runtime"),
            Suites = inv.Args.Value("--suite"),
            ReportsDir = inv.Args.Value("--out"),
            FixtureMode = fixtureMode,
        };
        options.Resolve(inv.Args.Value("--agent"), inv.Args.Value("--mediator"));
        if (options.Agent is null && options.Mediator is null) throw inv.Usage("--agent none and --mediator none leave nothing to test");
        if (options.Agent is null && options.Runtime is not null) throw inv.Usage("--runtime applies to an agent under test (--agent), not to a mediator");
        if (inv.Args.Value("--ws-idle") is { } idle)
        {
            if (!double.TryParse(idle, System.Globalization.CultureInfo.InvariantCulture, out var s) || s < 0)
                throw inv.Usage($"--ws-idle must be a number of seconds, not '{idle}'");
            options.Settings.WebSocketIdle = TimeSpan.FromSeconds(s);
        }
        if (inv.Args.Value("--timeout") is { } t)
        {
            if (!double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
                throw inv.Usage($"--timeout must be a positive number of seconds, not '{t}'");
            options.Settings.MessageTimeout = TimeSpan.FromSeconds(seconds);
        }
        if (inv.Args.Value("--parallel") is { } par)
        {
            if (!int.TryParse(par, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1)
                throw inv.Usage($"--parallel must be a whole number of cases, 1 or more, not '{par}'");
            options.Parallel = n;
        }
        var all = CaseCatalog.Discover(SuitesAssembly.Assembly);
        var cases = CaseCatalog.Filter(all, options.Suites)
            .Where(c => c.Target == CaseTarget.Mediator ? options.Mediator != null : options.Agent != null).ToList();
        if (cases.Count == 0)
            throw inv.Usage($"no case matches --suite {options.Suites ?? "(all)"} for {(options.Agent is null ? "a mediator" : options.Mediator is null ? "an agent" : "this run")}; " +
                            $"agent suites: {string.Join(", ", all.Where(c => c.Target == CaseTarget.Agent).Select(c => c.Rfc).Distinct())}; " +
                            $"mediator suites (--mediator): {string.Join(", ", all.Where(c => c.Target == CaseTarget.Mediator).Select(c => c.Rfc).Distinct())}");
        if (inv.Args.Has("--list"))
        {
            foreach (var c in cases) inv.Stdout.WriteLine($"{c.Id}\t{c.Level}\t{c.Requirement}");
            return Entry.ExitOk;
        }

        SuiteRunHost host;
        try { host = await SuiteRunHost.StartAsync(options, inv.Cancellation); }
        catch (ArgumentException e) { throw new CliException(e.Message); }
        catch (InvalidOperationException e) { throw new CliException(e.Message); }

        var sw = Stopwatch.StartNew();
        var live = !Console.IsErrorRedirected;
        inv.Stderr.WriteLine($"conformance: {cases.Count} cases against {host.Describe()}" + (host.Parallelism > 1 ? $", up to {host.Parallelism} at a time" : ""));
        int i = 0;
        var counts = new Dictionary<Grade, int>();
        await host.RunAllAsync(cases, r =>
        {
            i++;
            counts[r.Grade] = counts.GetValueOrDefault(r.Grade) + 1;
            var tally = string.Join(" ", Enum.GetValues<Grade>().Where(g => counts.ContainsKey(g)).Select(g => $"{g}:{counts[g]}"));
            var line = $"[{i,3}/{cases.Count}] {r.Id,-26} {r.Grade,-11} {r.DurationMs,6} ms  | {tally}  {sw.Elapsed.TotalSeconds:F1} s";
            if (live) inv.Stderr.Write("\r" + line.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 160) : 120));
            else inv.Stderr.WriteLine(line);
            if (r.Grade is Grade.FAIL or Grade.ERROR)
            {
                if (live) inv.Stderr.WriteLine();
                inv.Stderr.WriteLine($"    {r.Grade}: {r.Id} {r.Requirement}");
                if (r.Expected != null || r.Observed != null) inv.Stderr.WriteLine($"      expected: {r.Expected}\n      observed: {r.Observed}");
                if (r.Reason != null) inv.Stderr.WriteLine($"      reason: {r.Reason}");
            }
        }, inv.Cancellation);
        if (live) inv.Stderr.WriteLine();
        var version = await AgentVersionAsync(host);
        var reportDir = await host.FinishAsync();
        inv.Stdout.Write(Summary(host.Results, sw.Elapsed));
        if (reportDir != null) inv.Stdout.WriteLine($"report: {Path.Combine(reportDir, "index.html")}");
        if (fixtureMode != "off")
        {
            var changed = host.Fixtures.Values.Where(f => f.Outcome is Harness.Fixtures.FixtureOutcome.Changed or Harness.Fixtures.FixtureOutcome.New).ToList();
            inv.Stdout.WriteLine($"fixtures: {host.Fixtures.Count} compared, {host.Fixtures.Values.Count(f => f.Outcome == Harness.Fixtures.FixtureOutcome.Match)} match, " +
                                 $"{changed.Count} new or changed, {host.Fixtures.Values.Count(f => f.Outcome == Harness.Fixtures.FixtureOutcome.Accepted)} accepted");
            foreach (var f in changed) inv.Stdout.WriteLine($"  {f.Status}: {f.Directory}");
        }
        var exit = SuiteRun.ExitCode(host.Results);
        if (inv.Args.Value("--write-known") is { } writeTo)
        {
            var previous = File.Exists(writeTo) ? KnownResults.Load(writeTo) : null;
            KnownResults.FromRun(host.Driver?.Name ?? host.Mediator!.Name, version, host.Results, previous).Save(writeTo);
            inv.Stdout.WriteLine($"known results written: {writeTo}");
        }
        if (inv.Args.Value("--known") is { } knownPath)
        {
            if (!File.Exists(knownPath)) throw new CliException($"known-results file not found: {knownPath}");
            var changes = KnownResults.Load(knownPath).Compare(host.Results);
            inv.Stdout.WriteLine(changes.Count == 0
                ? $"known results: no change against {knownPath}"
                : $"known results: {changes.Count} change(s) against {knownPath}:");
            foreach (var ch in changes) inv.Stdout.WriteLine("  " + ch);
            // Against a known-results file the gate is "nothing changed": known FAILs are expected, changes are not.
            exit = changes.Count == 0 && host.Results.All(r => r.Grade != Grade.ERROR) ? Entry.ExitOk : Entry.ExitFailed;
        }
        if (fixtureMode == "verify" && inv.Verb.Name == "fixtures" && host.Fixtures.Values.Any(f => f.Outcome != Harness.Fixtures.FixtureOutcome.Match))
            exit = Entry.ExitFailed;
        return exit;
    }

    private static async Task<string> AgentVersionAsync(SuiteRunHost host)
    {
        if (host.Driver is null) return "unknown";
        try { return await host.Driver.Backchannel.VersionAsync(); }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or Harness.Drivers.BackchannelException) { return "unknown"; }
    }

    /// <summary>The final table: cases by RFC and grade, and the wall time.</summary>
    public static string Summary(IReadOnlyList<CaseResult> results, TimeSpan wall)
    {
        var grades = Enum.GetValues<Grade>();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine();
        sb.AppendLine($"{"suite",-10}" + string.Concat(grades.Select(g => $"{g,12}")) + $"{"total",8}");
        foreach (var group in results.GroupBy(r => r.Rfc).OrderBy(g => g.Key))
            sb.AppendLine($"{group.Key,-10}" + string.Concat(grades.Select(g => $"{group.Count(r => r.Grade == g),12}")) + $"{group.Count(),8}");
        sb.AppendLine($"{"all",-10}" + string.Concat(grades.Select(g => $"{results.Count(r => r.Grade == g),12}")) + $"{results.Count,8}");
        sb.AppendLine($"wall time: {wall.TotalSeconds:F1} s");
        return sb.ToString();
    }
}
