using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Tests.Support;
using Conformance.Wire.Envelopes;

namespace Conformance.Agent.Tests.Connections;

/// <summary>Reading what went over the wire in a <see cref="TestAgents"/> run.</summary>
internal static class Wire
{
    /// <summary>Plaintexts <paramref name="agent"/> sent whose @type ends with <paramref name="typeSuffix"/> (e.g. "connections/1.0/request"), in order.</summary>
    public static List<JsonObject> Sent(TestAgents agents, string agent, string typeSuffix) =>
        Events(agents, agent, "out", typeSuffix).Select(e => e.Plaintext!).ToList();

    public static List<JsonObject> Received(TestAgents agents, string agent, string typeSuffix) =>
        Events(agents, agent, "in", typeSuffix).Select(e => e.Plaintext!).ToList();

    public static List<WireEvent> Events(TestAgents agents, string agent, string direction, string typeSuffix) =>
        agents.Wire.Where(w => w.Agent == agent && w.Event.Direction == direction && w.Event.Type != null
                               && w.Event.Type.EndsWith(typeSuffix, StringComparison.Ordinal) && w.Event.Plaintext != null)
            .Select(w => w.Event).ToList();

    public static string Str(JsonNode? n) => n!.GetValue<string>();

    public static string? Thid(JsonObject m) => m["~thread"]?["thid"]?.GetValue<string>();

    /// <summary>
    /// The test stands in for a router: takes the forward <paramref name="agent"/> received (and could not route, as
    /// there is no mediator in this branch) and delivers its inner envelope to the same agent.
    /// </summary>
    public static async Task<JsonObject> RelayForwardAsync(TestAgents agents, string agent, ReferenceAgent to)
    {
        var forward = await TestAgents.WaitForAsync(() => Received(agents, agent, "routing/1.0/forward").LastOrDefault(),
            $"{agent} to receive a forward");
        var (_, inner) = Rfc0094.Unwrap(forward);
        await to.ReceiveAsync(System.Text.Encoding.UTF8.GetBytes(inner), null);
        return forward;
    }
}
