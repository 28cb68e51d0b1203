using Conformance.Mediator;

namespace Conformance.Cli.Verbs;

/// <summary>
/// The mediator verbs (to be registered in the verb table of Entry.cs):
/// <list type="bullet">
/// <item><c>conformance mediator --port N [--db FILE | --memory] [--bind 127.0.0.1]</c> — runs the DIDComm v2 mediator,
/// prints its DID and endpoints as one JSON line, serves until SIGTERM / Ctrl-C.</item>
/// <item><c>conformance bench mediator [--senders S] [--recipients R] [--messages M] [--runs K]</c> — the end-to-end
/// throughput bench; per-run lines, then a final line ending in "N msgs/s".</item>
/// </list>
/// Both take the arguments after their verb words. Exit codes: 0 success, 1 runtime failure, 2 bad input (one line on stderr).
/// </summary>
public static class MediatorVerbs
{
    public static int Mediator(string[] args) => MediatorCommand.Run(args, Console.Out, Console.Error);

    public static int BenchMediator(string[] args)
    {
        MediatorBenchOptions options;
        try { options = MediatorBench.Parse(args); }
        catch (MediatorUsageException e)
        {
            Console.Error.WriteLine("conformance bench mediator: " + e.Message);
            return 2;
        }
        try
        {
            MediatorBench.RunAsync(options, Console.Out).GetAwaiter().GetResult();
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or StorageException or DidCommException or V2ProblemException or IOException or HttpRequestException)
        {
            Console.Error.WriteLine("conformance bench mediator: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
    }
}
