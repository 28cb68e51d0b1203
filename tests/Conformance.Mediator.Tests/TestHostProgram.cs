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
        Console.Error.WriteLine("this is a test assembly; run it with `dotnet test`, or `mediator-host --port N --db FILE`");
        return 2;
    }
}
