using Conformance.Harness.Running;

namespace Conformance.Harness.Drivers;

/// <summary>
/// Turns <c>--agent NAME|URL [--runtime in-process|process|docker]</c> into a driver:
/// <list type="bullet">
/// <item><c>--agent reference</c> (no runtime, or in-process): the embedded reference agent, seeded per case.</item>
/// <item><c>--agent http://host:port/</c>: an agent already running, reached at its backchannel URL.</item>
/// <item><c>--agent NAME --runtime process</c>: <see cref="ProcessDriver"/> from agents/NAME/agent.json.</item>
/// <item><c>--agent NAME --runtime docker</c>: <see cref="DockerDriver"/> from the same definition's "docker" section
/// (the image is built when missing).</item>
/// <item><c>--agent NAME</c> (not reference, no runtime): process when the definition has a command, else docker.</item>
/// </list>
/// NAME may also be a folder holding agent.json or the path of a definition file.
/// The agent's own log goes to &lt;reports&gt;/logs/.
/// </summary>
public static class DriverFactory
{
    public static IAgentDriver Create(RunOptions o)
    {
        if (o.Agent is null) throw new ArgumentException("no agent under test named");
        if (o.Agent is "reference" or "embedded" && o.Runtime is null or "in-process")
            return new ReferenceDriver { IsDeterministic = o.Settings.Deterministic };
        if (Uri.TryCreate(o.Agent, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
        {
            if (o.Runtime is not (null or "url"))
                throw new ArgumentException($"--runtime {o.Runtime} does not apply to a backchannel URL (the agent is already running)");
            return new UrlDriver(url);
        }
        if (o.Runtime is not (null or "process" or "docker"))
            throw new ArgumentException($"unknown runtime '{o.Runtime}': use in-process (reference only), process or docker");

        AgentDefinition definition;
        try { definition = AgentDefinition.Find(o.RepoRoot, o.Agent); }
        catch (AgentDefinitionException e) { throw new ArgumentException($"unknown agent '{o.Agent}': {e.Message}; or give 'reference' or a backchannel URL", e); }

        var launch = new LaunchOptions { LogDirectory = Path.Combine(o.ReportsDir ?? Path.Combine(o.RepoRoot, "reports"), "logs") };
        var runtime = o.Runtime ?? (definition.Command is not null ? "process" : "docker");
        return runtime == "docker"
            ? new DockerDriver(definition, launch)
            : new ProcessDriver(definition, launch);
    }
}
