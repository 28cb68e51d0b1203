using System.Text.Json.Nodes;
using Conformance.Harness.Drivers;
using Conformance.Harness.Faults;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Faults;

/// <summary>
/// Steps the FAULTS cases share: a fault relay (Harness/Faults/FaultRelay.cs) put in front of a reference peer's
/// endpoint (to test the agent under test as a sender) or in front of the agent under test's own invitation endpoint
/// (to test it as a receiver). Everything the relay does goes into the case's wire log.
/// </summary>
public static class FaultFlows
{
    /// <summary>How long a backchannel call may take against a failing endpoint before the agent counts as hanging.</summary>
    public static readonly TimeSpan CallLimit = TimeSpan.FromSeconds(15);

    public static async Task<FaultRelay> RelayAsync(CaseContext c, string name)
    {
        var relay = await FaultRelay.StartAsync();
        return relay.AttachTo(c.Tap, name);
    }

    /// <summary>A reference peer that advertises the relay as its endpoint (HTTP, or WebSocket with <paramref name="ws"/>).</summary>
    public static async Task<ReferencePeer> PeerBehindAsync(CaseContext c, FaultRelay relay, string name, bool ws = false)
    {
        var peer = await c.PeerAsync(name, o =>
        {
            o.AutoAccept = true;
            o.Endpoints.Add(ws ? relay.WsUrl : relay.Url);
        });
        relay.Target = peer.Host.HttpEndpoint;
        relay.WsTarget = peer.Host.WsEndpoint;
        return peer;
    }

    /// <summary>The AUT's invitation (optionally multi-use) and the id of its record, if it made one already.</summary>
    public static async Task<(JsonObject Invitation, string? AutId)> AutInvitationAsync(CaseContext c, bool multiUse = false)
    {
        var created = await c.Backchannel.ConnectionCreateInvitationAsync(multiUse ? new JsonObject { ["multi_use"] = true } : null);
        var invitation = created["invitation"] as JsonObject;
        c.Must("The inviter creates an invitation message (RFC 0160 §0).", invitation != null, "an invitation object", invitation != null ? "an invitation" : created.ToJsonString());
        return (invitation!, Flows.OptStr(created, "connection_id"));
    }

    /// <summary>A copy of the AUT's invitation whose serviceEndpoint is the relay, which forwards to the AUT's endpoint.</summary>
    public static JsonObject ThroughRelay(JsonObject invitation, FaultRelay relay)
    {
        var endpoint = Flows.OptStr(invitation, "serviceEndpoint");
        if (endpoint == null || !Uri.TryCreate(endpoint, UriKind.Absolute, out var target) || target.Scheme is not ("http" or "https"))
            throw CaseContext.Unsupported($"the agent's invitation has no HTTP serviceEndpoint to put the relay in front of ({endpoint ?? "none"})");
        relay.Target = target;
        var copy = Flows.Clone(invitation);
        copy["serviceEndpoint"] = relay.Url;
        return copy;
    }

    /// <summary>The ids of the AUT's connections (GET /agent/command/connection).</summary>
    public static async Task<HashSet<string>> AutConnectionIdsAsync(CaseContext c) => (await AutConnectionsAsync(c)).Keys.ToHashSet();

    /// <summary>The AUT's connections with their AATH state (GET /agent/command/connection).</summary>
    public static async Task<Dictionary<string, string>> AutConnectionsAsync(CaseContext c) =>
        (await c.Backchannel.ConnectionsAsync()).OfType<JsonObject>()
            .Select(o => (Id: Flows.OptStr(o, "connection_id"), State: Flows.OptStr(o, "state") ?? "?"))
            .Where(x => x.Id != null).GroupBy(x => x.Id!).ToDictionary(g => g.Key, g => g.First().State);

    /// <summary>
    /// The connections a request made: records that are new since <paramref name="before"/>, and records that existed
    /// (an inviter's record for its single-use invitation) and have left the invitation state. Counting list entries,
    /// not ids handed out earlier, keeps agents whose create-invitation id is not a connection id (an out-of-band
    /// record id, as the AATH javascript backchannel does) from being counted twice.
    /// </summary>
    public static Dictionary<string, string> MadeSince(Dictionary<string, string> before, Dictionary<string, string> after) =>
        after.Where(kv => !before.TryGetValue(kv.Key, out var was) || (was == "invitation" && kv.Value != "invitation"))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    public static async Task<string?> AutStateAsync(CaseContext c, string autId)
    {
        try { return Flows.OptStr(await c.Backchannel.ConnectionAsync(autId), "state"); }
        catch (BackchannelException e) { return "unreadable: " + e.Message; }
    }

    /// <summary>Runs a backchannel call with a time limit: (completed, failure message or null, elapsed ms).</summary>
    public static async Task<(bool Returned, string? Failure, long Ms)> TimedAsync(Func<Task> call, TimeSpan limit)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var task = call();
        var done = await Task.WhenAny(task, Task.Delay(limit));
        if (done != task)
        {
            _ = task.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);   // observe a late failure
            return (false, null, sw.ElapsedMilliseconds);
        }
        try
        {
            await task;
            return (true, null, sw.ElapsedMilliseconds);
        }
        catch (BackchannelException e) when (e is not BackchannelUnsupportedException)
        {
            return (true, e.Message, sw.ElapsedMilliseconds);
        }
    }

    /// <summary>
    /// The AUT is the invitee and its request meets a fault (<paramref name="arm"/>) at the inviter's endpoint. Graded:
    /// the agent does not hang; the failed delivery does not move the connection past the request; once the endpoint
    /// works again (<paramref name="disarm"/>) the request arrives — because the agent retried it on its own, or
    /// because it reported the failure and the controller's retry of accept-invitation went through — and the
    /// connection completes.
    /// </summary>
    public static async Task RequestMeetsFaultAsync(CaseContext c, string fault, Action<FaultRelay> arm, Action<FaultRelay> disarm)
    {
        await using var relay = await RelayAsync(c, "fault relay (Acme's endpoint)");
        var peer = await PeerBehindAsync(c, relay, "Acme");
        var (record, invitation, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true });
        var received = await c.Backchannel.ConnectionReceiveInvitationAsync(Flows.Clone(invitation));
        var autId = Flows.Str(received, "connection_id");

        arm(relay);
        var (returned, failure, ms) = await TimedAsync(() => c.Backchannel.ConnectionAcceptInvitationAsync(autId), CallLimit);
        c.Must($"The agent does not hang on a {fault}: accept-invitation returns (with success or an error).",
            returned, $"an answer within {CallLimit.TotalSeconds:0} s", returned ? $"answered in {ms} ms" : $"no answer after {ms} ms");
        c.Note(failure != null ? $"accept-invitation reported the failed delivery after {ms} ms: {failure}"
                               : $"accept-invitation answered success after {ms} ms (the agent owns the delivery now)");
        var state = await AutStateAsync(c, autId);
        c.Must("The failed delivery does not move the connection past the request (no response was received).",
            state is "invitation" or "request", "state invitation or request", $"state '{state}'");

        disarm(relay);
        string? refused = null;
        if (failure != null)
        {
            // The controller retries, as a user would.
            (_, refused, _) = await TimedAsync(() => c.Backchannel.ConnectionAcceptInvitationAsync(autId), CallLimit);
            if (refused != null) c.Note("accept-invitation again, after the reported failure, was refused: " + refused);
        }
        var request = await c.ReceivedAsync("request", timeout: failure != null && refused == null ? c.Timeout : c.Timeout * 3);
        var requirement = failure == null
            ? "The agent reported success, so it must deliver the request itself: once the endpoint works again, the request arrives (retried)."
            : refused == null
                ? "Once the endpoint works again, the retried accept-invitation delivers the request."
                : "The agent reported the failed delivery but refuses to send the request again, so it must retry it itself; otherwise the connection is stuck.";
        c.Must(requirement, request != null, "the connection request at the inviter",
            (refused != null ? $"accept-invitation again: {refused}; " : "") + $"nothing arrived (agent state '{await AutStateAsync(c, autId)}'); relay: " + string.Join("; ", relay.Records));
        await Flows.AutConnectionStateAsync(c, autId, "The connection then completes normally (state unharmed by the fault).", "response", "active");
        var peerId = record.ConnectionId ?? peer.Agent.Store.FindConnection(x => x.ThreadId == Flows.OptStr(request!.Plaintext, "@id"))?.Id;
        c.Must("The inviter has the connection.", peerId != null, "a connection at the reference inviter", "none");
        await Flows.PeerStateAsync(c, peer, peerId!, "The reference inviter accepted the request and answered it.", "responded", "complete");
    }
}
