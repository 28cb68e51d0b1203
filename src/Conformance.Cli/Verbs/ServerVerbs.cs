// Long-running servers: `conformance agent` (the reference agent with its backchannel). They parse their own
// arguments (see AgentVerbs) and run until SIGTERM / Ctrl-C.
namespace Conformance.Cli.Verbs;

public static class ServerVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("agent", "Run the reference agent standalone with its AATH backchannel (prints one JSON ready line).", "[options]", 0, int.MaxValue, [],
            inv => AgentVerbs.RunAgentAsync([.. inv.Args.Positionals], inv.Stdout, inv.Stderr, inv.Cancellation),
            AgentVerbs.Usage) { PassThrough = true },
    ];
}
