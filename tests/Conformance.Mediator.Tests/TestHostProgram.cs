using Conformance.Mediator;

namespace Conformance.Mediator.Tests;

/// <summary>
/// Lets the test assembly double as a mediator process for the SIGKILL test:
/// <c>dotnet Conformance.Mediator.Tests.dll mediator-host --port N --db FILE</c> runs <see cref="MediatorCommand.Run"/>
/// exactly as <c>conformance mediator</c> does, and <c>bench-mediator [options]</c> runs the bench with such a mediator
/// child (until the CLI's verb table registers MediatorVerbs). The test runner never calls this.
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
                return 0;
            }
            catch (MediatorUsageException e) { Console.Error.WriteLine(e.Message); return 2; }
        }
        Console.Error.WriteLine("this is a test assembly; run it with `dotnet test`, or `mediator-host --port N --db FILE`");
        return 2;
    }
}
