using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.Tests.Support;
using Conformance.Agent.Transport;

namespace Conformance.Agent.Tests.Mediation;

/// <summary>Steps the mediation tests share, and readers for what the agents put on the wire.</summary>
internal static class Flows
{
    /// <summary>Connects <paramref name="recipient"/> to <paramref name="mediator"/> (pre-established) and has the mediation granted.</summary>
    public static async Task<(ConnectionRecord MediatorSide, ConnectionRecord RecipientSide)> GrantedAsync(AgentHost mediator, ReferenceAgent recipient, bool ws = false)
    {
        var (m, r) = PreEstablished.ConnectTo(mediator, recipient, ws);
        await recipient.Mediation.RequestMediationAsync(r.Id);
        var record = await recipient.Mediation.WaitForMediationAsync(r.Id);
        Assert.That(record.State, Is.EqualTo("granted"), "mediation granted");
        return (m, r);
    }

    public static IReadOnlyList<WireEvent> WireOf(TestAgents agents, string agent, string direction) =>
        agents.Wire.Where(w => w.Agent == agent && w.Event.Direction == direction).Select(w => w.Event).ToList();

    /// <summary>Plaintexts of the messages named <paramref name="name"/> (e.g. "mediate-grant") that <paramref name="agent"/> sent or received.</summary>
    public static IReadOnlyList<JsonObject> Messages(TestAgents agents, string agent, string direction, string name) =>
        WireOf(agents, agent, direction).Where(e => e.Type != null && e.Type.EndsWith("/" + name) && e.Plaintext != null)
            .Select(e => e.Plaintext!).ToList();

    public static JsonObject Single(TestAgents agents, string agent, string direction, string name)
    {
        var all = Messages(agents, agent, direction, name);
        Assert.That(all, Has.Count.EqualTo(1), $"{agent} {direction} exactly one {name}");
        return all[0];
    }

    public static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static string? Thid(JsonObject m) => Str((m["~thread"] as JsonObject)?["thid"]);

    public static int EventCount(TestAgents agents, string agent, string kind, string? threadId) =>
        agents.Events.Count(e => e.Agent == agent && e.Event.Kind == kind && e.Event.ThreadId == threadId);

    public static Task WaitForEventAsync(TestAgents agents, string agent, string kind, string? threadId, string what) =>
        TestAgents.WaitUntilAsync(() => EventCount(agents, agent, kind, threadId) > 0, what);
}
