using Conformance.Harness.Running;

namespace Conformance.Harness.Drivers;

/// <summary>Turns <c>--agent NAME|URL [--runtime process|docker]</c> into a driver.</summary>
public static class DriverFactory
{
    public static IAgentDriver Create(RunOptions o)
    {
        if (o.Agent is "reference" or "embedded" && o.Runtime is null or "in-process")
            return new ReferenceDriver { IsDeterministic = o.Settings.Deterministic };
        if (Uri.TryCreate(o.Agent, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            return new UrlDriver(url);
        throw new ArgumentException($"unknown agent '{o.Agent}'{(o.Runtime is null ? "" : $" with runtime '{o.Runtime}'")}: use 'reference' or a backchannel URL");
    }
}
