using Conformance.Mediator;

namespace Conformance.Mediator.Tests;

/// <summary>
/// Lets the test assembly double as a mediator process for the SIGKILL test:
/// <c>dotnet Conformance.Mediator.Tests.dll mediator-host --port N --db FILE</c> runs <see cref="MediatorCommand.Run"/>
/// exactly as <c>conformance mediator</c> does (the CLI verb table is wired up elsewhere). The test runner never calls this.
/// </summary>
public static class TestHostProgram
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "mediator-host") return MediatorCommand.Run(args[1..], Console.Out, Console.Error);
        if (args.Length > 0 && args[0] == "bench-mediator")
        {
            try
            {
                var options = MediatorBench.Parse(args[1..]);
                options.MediatorCommand = ["mediator-host"];
                MediatorBench.RunAsync(options, Console.Out).GetAwaiter().GetResult();
                if (Environment.GetEnvironmentVariable("BENCH_THREADS") is not null)
                {
                    var byName = new Dictionary<string, long>();
                    foreach (var t in Directory.GetDirectories("/proc/self/task"))
                    {
                        try
                        {
                            var comm = File.ReadAllText(Path.Combine(t, "comm")).Trim();
                            var f = File.ReadAllText(Path.Combine(t, "stat")).Split(')')[1].Split(' ');
                            byName[comm] = byName.GetValueOrDefault(comm) + long.Parse(f[12]) + long.Parse(f[13]);
                        }
                        catch (IOException) { }
                    }
                    foreach (var (n, v) in byName.OrderByDescending(x => x.Value)) Console.WriteLine($"  thread {n}: {v * 10} ms cpu");
                }
                return 0;
            }
            catch (UsageException e) { Console.Error.WriteLine(e.Message); return 2; }
        }
        Console.Error.WriteLine("this is a test assembly; run it with `dotnet test`, or `mediator-host --port N --db FILE`");
        return 2;
    }
}
