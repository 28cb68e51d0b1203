// conformance version: the tool's version and the runtime it runs on.
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Conformance.Cli.Verbs;

public static class VersionVerbs
{
    public static IReadOnlyList<Verb> All { get; } =
    [
        new Verb("version", "Print the tool's version (JSON).", "", 0, 0, [], Version,
            """
            example:
              conformance version
            """),
    ];

    private static Task<int> Version(Invocation inv)
    {
        var assembly = typeof(Entry).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                      ?? assembly.GetName().Version?.ToString() ?? "0.0.0";
        inv.WriteJson(new JsonObject
        {
            ["name"] = "conformance",
            ["version"] = version,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["os"] = RuntimeInformation.OSDescription,
            ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
        });
        return Task.FromResult(Entry.ExitOk);
    }
}
