// `conformance agent` is dispatched here, ahead of the verb table, until Entry lists AgentVerbs (see Verbs/AgentVerbs.cs).
return args is ["agent", ..]
    ? await Conformance.Cli.Verbs.AgentVerbs.RunAgentAsync(args[1..])
    : Conformance.Cli.Entry.Main(args);
