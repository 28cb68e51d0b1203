using Conformance.Harness.Grading;

namespace Conformance.Harness.Running;

/// <summary>
/// The order cases run in: the list's order, up to <c>width</c> at a time. A case that must run alone (it
/// reconfigures the agent, counts its connections, or wants the machine: <see cref="CaseInfo.RunsAlone"/>) and every
/// mediator case wait until the running cases are done, run by themselves, and only then let the next ones start.
/// </summary>
public static class CaseSchedule
{
    public static async Task<CaseResult[]> RunAsync(IReadOnlyList<CaseInfo> cases, int width, Func<CaseInfo, Task<CaseResult>> run,
        Action<CaseResult>? completed = null, CancellationToken ct = default)
    {
        var results = new CaseResult[cases.Count];
        var running = new List<Task>();
        var report = new object();
        async Task RunOneAsync(int index)
        {
            var r = await run(cases[index]);
            results[index] = r;
            lock (report) completed?.Invoke(r);
        }
        for (var i = 0; i < cases.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var alone = width <= 1 || cases[i].RunsAlone || cases[i].Target == CaseTarget.Mediator;
            while (running.Count > 0 && (alone || running.Count >= width))
            {
                var done = await Task.WhenAny(running);
                running.Remove(done);
                await done;
            }
            if (alone) await RunOneAsync(i);
            else running.Add(RunOneAsync(i));
        }
        await Task.WhenAll(running);
        return results;
    }
}
