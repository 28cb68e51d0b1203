// The DIDComm v2 mediator verbs: `conformance mediator` (a long-running server) and `conformance bench mediator`.
// Both parse their own arguments (Conformance.Mediator.MediatorCommand / MediatorBench) and follow Entry's conventions:
// exit 0 on success, 1 on a runtime failure, 2 with ONE line on stderr for bad input.
using Conformance.Mediator;

namespace Conformance.Cli.Verbs;

public static class MediatorVerbs
{
    /// <summary>For Entry's verb table: <c>.. MediatorVerbs.All,   // mediator, bench mediator</c>.</summary>
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("mediator", "Run the DIDComm v2 mediator (HTTP + WebSocket on one port; prints one JSON line: did, http, ws, store).",
            "[options]", 0, int.MaxValue, [],
            inv => Task.Run(() => MediatorCommand.Run([.. inv.Args.Positionals], inv.Stdout, inv.Stderr, inv.Cancellation)),
            MediatorCommand.Usage) { PassThrough = true },
        new Verb("bench mediator", "End-to-end mediator throughput: senders forward to live WebSocket recipients; ends with 'N msgs/s'.",
            "[options]", 0, int.MaxValue, [],
            inv => Task.Run(() => BenchMediator([.. inv.Args.Positionals], inv.Stdout, inv.Stderr, inv.Cancellation)),
            MediatorBench.Usage) { PassThrough = true },
    ];

    /// <summary><c>conformance mediator --port N [--db FILE | --memory | --postgres CONNSTRING] [--bind 127.0.0.1]</c>
    /// (arguments after the verb): prints the DID and endpoints as one JSON line, serves until SIGTERM / Ctrl-C.</summary>
    public static int Mediator(string[] args) => MediatorCommand.Run(args, Console.Out, Console.Error);

    /// <summary><c>conformance bench mediator [--senders S] [--recipients R] [--messages M] [--runs K]</c> (arguments after
    /// the verb words): per-run lines, then a final line ending in "N msgs/s".</summary>
    public static int BenchMediator(string[] args) => BenchMediator(args, Console.Out, Console.Error, CancellationToken.None);

    private static int BenchMediator(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        MediatorBenchOptions options;
        try { options = MediatorBench.Parse(args); }
        catch (MediatorUsageException e)
        {
            stderr.WriteLine("conformance bench mediator: " + e.Message);
            return 2;
        }
        try
        {
            MediatorBench.RunAsync(options, stdout, ct).GetAwaiter().GetResult();
            return 0;
        }
        catch (Exception e) when (e is TimeoutException or StorageException or DidCommException or V2ProblemException or IOException
                                       or HttpRequestException or InvalidOperationException or OperationCanceledException)
        {
            stderr.WriteLine("conformance bench mediator: " + e.Message.ReplaceLineEndings(" "));
            return 1;
        }
    }
}
