using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Harness.Drivers;
using Conformance.Harness.Grading;

namespace Conformance.Suites.Support;

/// <summary>
/// The steps cases share, named after the AATH steps they mirror ("Acme generates a connection invitation", "Bob
/// receives the connection request"...). The agent under test (AUT) is driven through its backchannel in manual-accept
/// mode; the reference peer is driven through its C# API. Every wait that the AUT must satisfy is a MUST check, so a
/// timeout grades FAIL with what was expected and what was seen.
/// </summary>
public static class Flows
{
    public static string Str(JsonNode? n, string name) =>
        n?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new CaseFailedException($"the backchannel response has no '{name}'");

    public static string? OptStr(JsonNode? n, string name) =>
        n?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Waits until the AUT reports one of <paramref name="states"/> for the connection (GET connection/{id}).</summary>
    public static async Task AutConnectionStateAsync(CaseContext c, string autConnectionId, string requirement, params string[] states)
    {
        string? last = null;
        var reached = await c.EventuallyAsync(async () =>
        {
            var r = await c.Backchannel.ConnectionAsync(autConnectionId);
            last = OptStr(r, "state");
            return last != null && states.Contains(last) ? last : null;
        });
        c.Must(requirement, reached != null, $"AUT connection state {string.Join(" or ", states)}", $"state '{last ?? "none"}'");
    }

    /// <summary>Waits until the AUT reports one of <paramref name="states"/> on did-exchange/{id}.</summary>
    public static async Task AutDidExchangeStateAsync(CaseContext c, string autConnectionId, string requirement, params string[] states)
    {
        string? last = null;
        var reached = await c.EventuallyAsync(async () =>
        {
            var r = await c.Backchannel.DidExchangeAsync(autConnectionId);
            last = OptStr(r, "state");
            return last != null && states.Contains(last) ? last : null;
        });
        c.Must(requirement, reached != null, $"AUT did-exchange state {string.Join(" or ", states)}", $"state '{last ?? "none"}'");
    }

    /// <summary>Waits until the peer's connection record reaches <paramref name="state"/>.</summary>
    public static async Task<ConnectionRecord> PeerStateAsync(CaseContext c, ReferencePeer peer, string connectionId, string requirement, params string[] states)
    {
        var rec = await c.EventuallyAsync(() => Task.FromResult(
            peer.Agent.Store.GetConnection(connectionId) is { } r && states.Contains(r.State) ? r : null));
        var now = peer.Agent.Store.GetConnection(connectionId);
        c.Must(requirement, rec != null, $"{peer.Name} connection state {string.Join(" or ", states)}",
            $"state '{now?.State}'" + (now?.ProblemReport is { } pr ? $"; problem report: {pr.ToJsonString()}" : ""));
        return rec!;
    }

    /// <summary>The message the AUT sent, by name; FAIL when it never came.</summary>
    public static async Task<JsonObject> ExpectFromAutAsync(CaseContext c, string messageName, string requirement, Func<JsonObject, bool>? where = null)
    {
        var e = await c.ReceivedAsync(messageName, where);
        c.Must(requirement, e?.Plaintext != null, $"a '{messageName}' message from the agent under test",
            "nothing within " + c.Timeout.TotalSeconds + " s; received: " + Received(c));
        return e!.Plaintext!;
    }

    /// <summary>The last message named <paramref name="name"/> the reference side sent (e.g. the peer's own request).</summary>
    public static JsonObject? SentByPeer(CaseContext c, string name) =>
        c.Tap.Outbound.LastOrDefault(e => Harness.Tap.WireTap.TypeNameIs(e, name))?.Plaintext;

    public static string Received(CaseContext c) =>
        string.Join(", ", c.Tap.Inbound.Select(e => e.Type ?? e.Note ?? "?")) is { Length: > 0 } s ? s : "nothing";

    public static string? ThreadId(JsonObject m) => OptStr(m["~thread"], "thid");
    public static string? ParentThreadId(JsonObject m) => OptStr(m["~thread"], "pthid");

    /// <summary>The problem code in any of the shapes agents use (problem-code, problem_code, description.code).</summary>
    public static string? ProblemCode(JsonObject m) =>
        OptStr(m, "problem-code") ?? OptStr(m, "problem_code") ?? OptStr(m["description"], "code");

    /// <summary>A base58 verkey from a did:key or verkey the agent under test wrote; null when it is neither.</summary>
    public static string? Verkey(string? key)
    {
        if (key == null) return null;
        try { return Wire.Envelopes.Rfc0094.ToVerkey(key); }
        catch (Wire.Envelopes.EnvelopeException) { return null; }
    }

    /// <summary>
    /// Runs a backchannel step that needs the agent to resolve the reference peer's public DID. That DID is a did:web
    /// served over plain HTTP on loopback (no TLS here), which did:web-conformant resolvers rightly refuse; an agent
    /// that cannot resolve it is UNSUPPORTED for the case, with its own words as the reason — not FAIL.
    /// </summary>
    public static async Task<T> NeedsOurPublicDidAsync<T>(Task<T> step, string did)
    {
        try { return await step; }
        catch (Harness.Drivers.BackchannelException e) when (e.Status is >= 400 and < 600 && e.Status != 501)
        {
            throw CaseContext.Unsupported($"the agent could not use {did} (the harness serves did:web over plain HTTP on loopback, without TLS): {e.Detail}");
        }
    }

    public static JsonObject Clone(JsonObject o) => (JsonObject)o.DeepClone();
}
