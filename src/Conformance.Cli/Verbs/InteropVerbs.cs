// conformance interop: two agents at a time, each driven through its AATH backchannel, run connections/1.0,
// didexchange/1.1 and out-of-band reuse with each other — every ordered pair (inviter × invitee) of the given
// agents. Prints the interop matrix and writes the report (index.html shows the matrix). See Harness/Running/Interop.cs.
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;
using Conformance.Harness.Running;

namespace Conformance.Cli.Verbs;

public static class InteropVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("interop", "Run every ordered pair of agents (inviter × invitee) through connections/1.0, didexchange/1.1 and out-of-band reuse; print the interop matrix and write the report.", "", 0, 0,
            [
                new("--agents", "LIST", "comma-separated agent names (default reference,credo); 'reference' or a definition under agents/"),
                new("--runtime", "RUNTIME", "how to start the agents: process or docker (default: the reference agent in-process, others as their definition says)"),
                new("--protocols", "LIST", $"comma-separated subset of {string.Join(",", InteropProtocols.All)} (default all)"),
                new("--out", "DIR", "report folder (default reports/<run-id>)"),
                new("--timeout", "SECONDS", "how long to wait for an agent to reach a state (default 20)"),
            ],
            RunAsync,
            """
            Both agents of a pair are driven only through their backchannels, in manual-accept AATH style; an agent
            paired with itself runs as two instances. A recording relay in front of the inviter's invitation endpoint
            records what the invitee sends there. Grades per pairing: PASS, WARN (a SHOULD not met, e.g. no reuse
            although the inviter was recognisable), FAIL (the pair did not connect), UNSUPPORTED (a backchannel 501, or
            reuse cannot be exercised between the two), ERROR (the harness or an agent's start failed).
            Exit code: 0 when no pairing is FAIL or ERROR, 1 otherwise, 2 on a usage error.

            examples:
              conformance interop
              conformance interop --agents reference,credo --runtime process
              conformance interop --agents credo --protocols connections/1.0
            """),
    ];

    private static async Task<int> RunAsync(Invocation inv)
    {
        var options = new InteropOptions { Runtime = inv.Args.Value("--runtime"), ReportsDir = inv.Args.Value("--out") };
        if (inv.Args.Value("--agents") is { } agents)
        {
            var list = agents.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            if (list.Count == 0) throw inv.Usage("--agents needs at least one agent name");
            options.Agents = list;
        }
        if (inv.Args.Value("--protocols") is { } protocols)
        {
            var list = protocols.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            var unknown = list.Where(p => !InteropProtocols.All.Contains(p)).ToList();
            if (unknown.Count > 0 || list.Count == 0)
                throw inv.Usage($"--protocols: unknown '{string.Join(",", unknown)}'; use {string.Join(",", InteropProtocols.All)}");
            options.Protocols = [.. InteropProtocols.All.Where(list.Contains)];
        }
        if (options.Runtime is not (null or "process" or "docker" or "in-process"))
            throw inv.Usage($"--runtime must be process or docker, not '{options.Runtime}'");
        foreach (var agent in options.Agents.Where(a => a is not ("reference" or "embedded")))
        {
            try { Harness.Drivers.AgentDefinition.Find(options.RepoRoot, agent); }
            catch (Harness.Drivers.AgentDefinitionException e) { throw new CliException($"unknown agent '{agent}': {e.Message}"); }
        }
        if (inv.Args.Value("--timeout") is { } t)
        {
            if (!double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
                throw inv.Usage($"--timeout must be a positive number of seconds, not '{t}'");
            options.Timeout = TimeSpan.FromSeconds(seconds);
        }

        await using var run = new InteropRun(options);
        var pairs = options.OrderedPairs();
        inv.Stderr.WriteLine($"conformance: interop of {string.Join(", ", options.Agents)}: {pairs.Count} ordered pairs × {options.Protocols.Count} protocols");
        var i = 0;
        var total = pairs.Count * options.Protocols.Count;
        var result = await run.RunAsync(c =>
        {
            i++;
            inv.Stderr.WriteLine($"[{i,3}/{total}] {c.Id,-48} {c.Grade,-11} {c.DurationMs,6} ms");
            if (c.Grade != Grade.PASS)
            {
                var why = c.Reason ?? c.Checks.FirstOrDefault(k => k.Grade is Grade.FAIL or Grade.WARN)?.Requirement;
                if (why != null) inv.Stderr.WriteLine($"      {why}");
                if (c.Expected != null) inv.Stderr.WriteLine($"      expected: {c.Expected}");
                if (c.Observed != null) inv.Stderr.WriteLine($"      observed: {c.Observed.ReplaceLineEndings("\n                ")}");
            }
        }, inv.Cancellation);

        var dir = options.ReportsDir ?? Path.Combine(options.RepoRoot, "reports", run.RunId);
        var report = result.ToReport(run.RunId, options);
        var specs = Path.GetFullPath(Path.Combine(options.RepoRoot, "..", "shared", "specs"));
        var paths = ReportWriter.Write(report, dir, new ReportOptions { SpecsRoot = Directory.Exists(specs) ? specs : null });

        inv.Stdout.WriteLine();
        inv.Stdout.Write(InteropMatrix.Render(result.Pairings));
        inv.Stdout.WriteLine($"(conn = {InteropProtocols.Connections}, dx = {InteropProtocols.DidExchange} over out-of-band, reuse = {InteropProtocols.Reuse})");
        foreach (var (agent, info) in result.AgentInfo) inv.Stdout.WriteLine($"{agent}: {info}");
        inv.Stdout.WriteLine($"wall time: {(result.Finished - result.Started).TotalSeconds:F1} s");
        inv.Stdout.WriteLine($"report: {paths.IndexHtml}");
        return result.ExitCode;
    }
}
