using System.Text.Json.Nodes;
using Conformance.Harness.Faults;
using Conformance.Harness.Grading;
using Conformance.Suites.Support;

namespace Conformance.Suites.Faults;

/// <summary>
/// Dead, slow and failing endpoints (the agent under test is the sender). RFC 0005 §Message-Based, Asynchronous, and
/// Simplex: agents "may be mobile devices that turn off at unpredictable intervals and that lack a stable connection
/// to the network"; RFC 0025 §HTTP(S): "A received message should be responded to with a 202 Accepted status code.
/// This indicates that the request was received" — so a refused connection or a 5xx is a message NOT received, which
/// the sender must neither hide nor count as delivered.
/// </summary>
[Suite("FAULTS", "Dead and failing endpoints", "aries-rfcs/0025-didcomm-transports/README.md#https")]
public static class FaultsDelivery
{
    private const string Received =
        "A received message should be responded to with a 202 Accepted status code. This indicates that the request was received, but not necessarily processed.";

    [Case("FAULTS-DEAD-001", "Agents may be mobile devices that turn off at unpredictable intervals and that lack a stable connection to the network (RFC 0005); a message to an endpoint that refuses the connection was not received, and the sender either reports the failure or retries, leaving the connection usable.",
        Description = "The inviter's endpoint resets every connection while the agent under test sends its request, then comes back.")]
    public static Task Request_to_a_dead_endpoint(CaseContext c) =>
        FaultFlows.RequestMeetsFaultAsync(c, "dead endpoint (connection refused)", r => r.Refusing = true, r => r.Refusing = false);

    [Case("FAULTS-HTTP503-001", Received,
        Description = "The inviter's endpoint answers 503 Service Unavailable (Retry-After: 1) to the request, then works again.")]
    public static Task Request_meets_503(CaseContext c) =>
        FaultFlows.RequestMeetsFaultAsync(c, "HTTP 503", r => r.Default = Fault.Status(503), r => r.Default = Fault.Pass);

    [Case("FAULTS-HTTP500-001", Received,
        Description = "The inviter's endpoint answers 500 Internal Server Error to the request, then works again.")]
    public static Task Request_meets_500(CaseContext c) =>
        FaultFlows.RequestMeetsFaultAsync(c, "HTTP 500", r => r.Default = Fault.Status(500), r => r.Default = Fault.Pass);
}

/// <summary>
/// RFC 0005 §Message-Based, Asynchronous, and Simplex: agents "may need to interact in time frames of hours or days,
/// not with 30-second timeouts" — a slow endpoint is not a dead one.
/// </summary>
[Suite("FAULTS", "Slow endpoints", "aries-rfcs/0005-didcomm/README.md#message-based-asynchronous-and-simplex")]
public static class FaultsSlow
{
    [Case("FAULTS-SLOW-001",
        "They may need to interact in time frames of hours or days, not with 30-second timeouts.",
        Level = Level.SHOULD,
        Description = "The inviter's endpoint holds the request for 3 s before it takes it: slow is not dead; the connection completes without a retry.")]
    public static async Task Request_to_a_slow_endpoint(CaseContext c)
    {
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (Acme's endpoint)");
        var peer = await FaultFlows.PeerBehindAsync(c, relay, "Acme");
        var (_, invitation, _) = await peer.Agent.Connections.CreateInvitationAsync(new() { AutoAccept = true });
        var autId = Flows.Str(await c.Backchannel.ConnectionReceiveInvitationAsync(Flows.Clone(invitation)), "connection_id");
        relay.On(1, Fault.Delay(TimeSpan.FromSeconds(3)));
        var (returned, failure, ms) = await FaultFlows.TimedAsync(() => c.Backchannel.ConnectionAcceptInvitationAsync(autId), FaultFlows.CallLimit);
        c.Must("The agent does not hang on a slow endpoint.", returned, $"an answer within {FaultFlows.CallLimit.TotalSeconds:0} s", $"no answer after {ms} ms");
        // An agent that gave up has reported it; what its early give-up does to the late delivery is not graded here.
        if (!c.Should("The agent waits out a 3 s stall instead of failing the delivery.", failure == null, "accept-invitation succeeds", failure)) return;
        var request = await c.ReceivedAsync("request", timeout: c.Timeout + TimeSpan.FromSeconds(3));
        c.Should("The slow endpoint receives the request (one delivery, no retry needed).", request != null, "the request at the inviter", Flows.Received(c));
        if (request == null) return;
        await Flows.AutConnectionStateAsync(c, autId, "The connection completes.", "response", "active");
    }
}

/// <summary>
/// Duplicated deliveries (the agent under test is the receiver). RFC 0008 §Message IDs: "any message can
/// be identified by the combination of the sender and the message ID" — the same request delivered twice is one
/// request, and makes one connection.
/// </summary>
[Suite("FAULTS", "Duplicated deliveries", "aries-rfcs/0008-message-id-and-threading/README.md#message-ids", RunsAlone = true)] // counts the agent's connections
public static class FaultsDuplicates
{
    private const string Identity = "The sender of the message is responsible for creating the message ID, and any message can be identified by the combination of the sender and the message ID.";

    [Case("FAULTS-DUPLICATE-001", Identity,
        Description = "A single-use invitation; the network delivers the invitee's request twice (same bytes, same thread). One connection, and the duplicate is not answered as a new request.")]
    public static Task Duplicated_request_single_use(CaseContext c) => DuplicatedRequest(c, multiUse: false);

    [Case("FAULTS-DUPLICATE-002", Identity,
        Description = "A multi-use invitation (where every new request legitimately makes a new connection); the same request delivered twice must still make one.")]
    public static Task Duplicated_request_multi_use(CaseContext c) => DuplicatedRequest(c, multiUse: true);

    private static async Task DuplicatedRequest(CaseContext c, bool multiUse)
    {
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (the agent's endpoint)");
        var (invitation, _) = await FaultFlows.AutInvitationAsync(c, multiUse);
        var before = await FaultFlows.AutConnectionsAsync(c);
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        relay.On(1, Fault.Duplicate);
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(FaultFlows.ThroughRelay(invitation, relay), autoAccept: true);
        var requestId = Flows.OptStr(Flows.SentByPeer(c, "request")!, "@id");
        var second = await relay.WaitForAsync(r => r.Action.StartsWith("forwarded again"), c.Timeout);
        c.Must("The relay delivered the request twice.", second != null, "two deliveries", string.Join("; ", relay.Records));
        await Task.Delay(500);   // an agent that processes deliveries in the background gets time to make its records

        var made = FaultFlows.MadeSince(before, await FaultFlows.AutConnectionsAsync(c));
        c.Must($"One request delivered twice makes one connection (request @id {requestId}).", made.Count == 1,
            "1 connection", $"{made.Count} connections: {string.Join(", ", made.Select(kv => $"{kv.Key}: {kv.Value}"))}");
        var autId = made.Keys.Single();
        await Flows.AutConnectionStateAsync(c, autId, "The inviter records the request (state request).", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        await Flows.ExpectFromAutAsync(c, "response", "The inviter answers the request with a connection response (RFC 0160 §2).");
        await Flows.PeerStateAsync(c, peer, pc.Id, "The invitee accepts the response: the connection is made once.", "responded", "complete");
        await peer.Agent.TrustPing.SendPingAsync(peer.Agent.Store.GetConnection(pc.Id)!, "ack");
        await Flows.AutConnectionStateAsync(c, autId, "The connection completes (state unharmed by the duplicate).", "active");
        var reports = c.Tap.Received("problem_report").Concat(c.Tap.Received("problem-report")).ToList();
        c.Should("The duplicate is recognised, not rejected as a second use of the invitation: no problem report.", reports.Count == 0,
            "no problem report", string.Join(" | ", reports.Select(r => r.Plaintext?.ToJsonString())));
    }
}

/// <summary>
/// Lost and replayed connection requests, RFC 0160 §Errors: "No errors are sent in timeout situations" — a lost
/// response is recovered by the invitee resending its request as-is, which the inviter answers again; a request replayed
/// after the connection is complete is rejected (request_not_accepted), threaded to it, and changes nothing.
/// </summary>
[Suite("FAULTS", "Lost and replayed requests", "aries-rfcs/0160-connection-protocol/README.md#errors", RunsAlone = true)] // counts the agent's connections
public static class FaultsLostAndReplayed
{
    [Case("FAULTS-DROP-001",
        "request_processing_error - [...] This error indicates that the request should be resent as-is. No errors are sent in timeout situations.",
        Level = Level.SHOULD,
        Description = "The inviter's response is lost on its way (the relay answers 202 and drops it). The invitee resends its request as-is; the inviter answers it again and the connection completes.")]
    public static async Task Lost_response_is_recovered_by_a_resent_request(CaseContext c)
    {
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (Bob's endpoint)");
        var peer = await FaultFlows.PeerBehindAsync(c, relay, "Bob");
        var (invitation, autId) = await FaultFlows.AutInvitationAsync(c);
        if (autId == null) throw CaseContext.Unsupported("create-invitation returned no connection_id");
        relay.On(1, Fault.Drop);
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(invitation, autoAccept: true);
        await Flows.AutConnectionStateAsync(c, autId, "The inviter records the request (state request).", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        var dropped = await relay.WaitForAsync(r => r.Action.Contains("dropped"), c.Timeout);
        c.Must("The inviter's response was sent (and lost on the way).", dropped != null, "a delivery to Bob's endpoint", string.Join("; ", relay.Records));

        await peer.Agent.Connections.AcceptInvitationAsync(pc.Id);   // Bob resends the same request (same @id)
        var again = await c.ReceivedAsync("response");   // the first one never reached Bob
        c.Should("The inviter answers the resent request again.", again != null, "a second response", Flows.Received(c) + "; relay: " + string.Join("; ", relay.Records));
        if (again == null) return;
        await Flows.PeerStateAsync(c, peer, pc.Id, "The invitee accepts the repeated response.", "responded", "complete");
        await Flows.AutConnectionStateAsync(c, autId, "The connection completes (state unharmed by the loss).", "response", "active");
    }
    [Case("FAULTS-REPLAY-001",
        "request_not_accepted - The error indicates that the request has been rejected for a reason listed in the error_report. [...] The ~thread attribute provides a context for the problem, referring to the message which contains the problem.",
        Description = "After the connection is complete, the invitee's request is replayed (the same bytes) through a multi-use invitation's endpoint. The agent must not make a second connection nor disturb the first; it should answer with a problem report threaded to the request.")]
    public static async Task Replayed_request_after_completion(CaseContext c)
    {
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (the agent's endpoint)");
        var (invitation, _) = await FaultFlows.AutInvitationAsync(c, multiUse: true);
        var before = await FaultFlows.AutConnectionIdsAsync(c);
        var peer = await c.PeerAsync("Bob", o => o.AutoAccept = true);
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(FaultFlows.ThroughRelay(invitation, relay), autoAccept: true);
        var requestId = Flows.OptStr(Flows.SentByPeer(c, "request")!, "@id");
        var autId = await c.EventuallyAsync(async () => (await FaultFlows.AutConnectionIdsAsync(c)).Except(before).FirstOrDefault());
        c.Must("The inviter makes a connection for the request.", autId != null, "a new connection", "none");
        await Flows.AutConnectionStateAsync(c, autId!, "The inviter records the request (state request).", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId!);
        await Flows.PeerStateAsync(c, peer, pc.Id, "The invitee accepts the response.", "responded", "complete");
        await peer.Agent.TrustPing.SendPingAsync(peer.Agent.Store.GetConnection(pc.Id)!, "ack");
        await Flows.AutConnectionStateAsync(c, autId!, "The connection completes.", "active");
        var ids = await FaultFlows.AutConnectionIdsAsync(c);

        var status = await relay.ReplayAsync(1);
        c.Note($"the replayed request was answered HTTP {status}");
        var report = await c.ReceivedAsync("problem_report", m => Flows.ThreadId(m) == requestId)
                     ?? await c.ReceivedAsync("problem_report", timeout: TimeSpan.FromMilliseconds(300));
        await Task.Delay(300);
        var added = (await FaultFlows.AutConnectionIdsAsync(c)).Except(ids).ToList();
        c.Must("The replayed request makes no new connection.", added.Count == 0, "no new connection",
            $"new connection(s) {string.Join(", ", added)} (state {string.Join(", ", await Task.WhenAll(added.Select(a => FaultFlows.AutStateAsync(c, a))))})");
        var state = await FaultFlows.AutStateAsync(c, autId!);
        c.Must("The existing connection is unharmed by the replay (still active).", state == "active", "state active", $"state '{state}'");
        var responses = c.Tap.Received("response").Count;
        c.Must("The replay is not answered with a second connection response.", responses == 1, "1 response in all", $"{responses} responses");
        c.Should("The replay is answered with a problem report.", report?.Plaintext != null, "a connections/1.0 problem_report", Flows.Received(c));
        if (report?.Plaintext is not { } pr) return;
        c.Must("The problem report is threaded to the replayed request (~thread.thid = its @id).", Flows.ThreadId(pr) == requestId, requestId, Flows.ThreadId(pr) ?? "no ~thread.thid");
        c.Should("Its problem-code is request_not_accepted.", Flows.ProblemCode(pr) == "request_not_accepted", "request_not_accepted", Flows.ProblemCode(pr) ?? "none");
    }
}

/// <summary>
/// RFC 0005: DIDComm is "message-based, asynchronous, and simplex": messages may arrive in another order than they
/// were sent, and each is answered on its own thread (RFC 0048 ping_response: "~thread" is required).
/// </summary>
[Suite("FAULTS", "Reordered deliveries", "aries-rfcs/0048-trust-ping/README.md#messages")]
public static class FaultsReorder
{
    [Case("FAULTS-REORDER-001",
        "When the message arrives at the receiver, assuming that response_requested is not false, the receiver should reply as quickly as possible with a ping_response message [...] Here, @type and ~thread are required.",
        Description = "On a complete connection the peer sends ping A then ping B; the network delivers B first. Each ping gets its own ping_response, threaded to it, and the connection stays active.")]
    public static async Task Reordered_messages_are_each_answered(CaseContext c)
    {
        var conn = await Connections160.AutAsInviterAsync(c);
        await c.ReceivedAsync("ping_response");   // the ack ping's answer, so that it does not count below
        var record = conn.Peer.Agent.Store.GetConnection(conn.PeerConnectionId)!;
        var endpoint = record.TheirService?.Endpoint;
        if (endpoint == null || !endpoint.StartsWith("http")) throw CaseContext.Unsupported($"the agent's DID document names no HTTP endpoint ({endpoint ?? "none"})");
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (the agent's endpoint)");
        relay.Target = new Uri(endpoint);
        record.TheirService!.Endpoint = relay.Url;
        conn.Peer.Agent.Store.Save(record);
        relay.On(1, Fault.Reorder);

        var a = await conn.Peer.Agent.TrustPing.SendPingAsync(record, "ping A (delivered second)");
        var b = await conn.Peer.Agent.TrustPing.SendPingAsync(record, "ping B (delivered first)");
        var ra = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == a);
        var rb = await c.ReceivedAsync("ping_response", m => Flows.ThreadId(m) == b);
        var order = string.Join("; ", relay.Records);
        c.Must("Ping B, delivered first, is answered with a ping_response threaded to it.", rb != null, $"ping_response with thid {b}", Flows.Received(c) + "; relay: " + order);
        c.Must("Ping A, delivered after B, is answered with a ping_response threaded to it.", ra != null, $"ping_response with thid {a}", Flows.Received(c) + "; relay: " + order);
        var state = await FaultFlows.AutStateAsync(c, conn.AutConnectionId);
        c.Must("The connection is unharmed (still active).", state == "active", "state active", $"state '{state}'");
    }
}

/// <summary>
/// RFC 0025 §Websocket: "Each message is transmitted individually in an Encryption Envelope. The trust of each message
/// comes from the Encryption Envelope, not the socket connection itself." A socket that dies mid-message loses that
/// message, not the connection.
/// </summary>
[Suite("FAULTS", "WebSocket cut mid-message", "aries-rfcs/0025-didcomm-transports/README.md#websocket")]
public static class FaultsWebSocket
{
    [Case("FAULTS-WSCUT-001",
        "Each message is transmitted individually in an Encryption Envelope. The trust of each message comes from the Encryption Envelope, not the socket connection itself.",
        Description = "The peer's endpoint is a WebSocket. After the connection is made, the relay cuts the socket in the middle of the agent's next message; the agent's following message must still be delivered (on a new socket).")]
    public static async Task Websocket_cut_mid_message(CaseContext c)
    {
        await using var relay = await FaultFlows.RelayAsync(c, "fault relay (Bob's WebSocket endpoint)");
        var peer = await FaultFlows.PeerBehindAsync(c, relay, "Bob", ws: true);
        var (invitation, autId) = await FaultFlows.AutInvitationAsync(c);
        if (autId == null) throw CaseContext.Unsupported("create-invitation returned no connection_id");
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(invitation, autoAccept: true);
        await Flows.AutConnectionStateAsync(c, autId, "The inviter records the request (state request).", "request");
        await c.Backchannel.ConnectionAcceptRequestAsync(autId);
        await Flows.PeerStateAsync(c, peer, pc.Id, "The response arrives over the WebSocket.", "responded", "complete");
        await peer.Agent.TrustPing.SendPingAsync(peer.Agent.Store.GetConnection(pc.Id)!, "ack", responseRequested: false);
        await Flows.AutConnectionStateAsync(c, autId, "The connection completes.", "active");
        var ws = relay.Records.Any(r => r.Transport == "ws" && r.Action.StartsWith("forwarded"));
        if (!ws) throw CaseContext.Unsupported("the agent did not use the WebSocket endpoint (it may not speak ws://)");

        relay.OnNext(Fault.CutWebSocket);
        var (_, first, _) = await FaultFlows.TimedAsync(() => c.Backchannel.ConnectionSendPingAsync(autId, "into the cut"), FaultFlows.CallLimit);
        var cut = await relay.WaitForAsync(r => r.Action.StartsWith("cut"), c.Timeout);
        c.Must("The relay cut the socket in the middle of the agent's message.", cut != null, "a cut", string.Join("; ", relay.Records));
        c.Note(first == null ? "send-ping into the cut answered success" : "send-ping into the cut reported: " + first);
        await Task.Delay(300);
        var pingsBefore = c.Tap.Received("ping").Count;   // the cut one never arrives: Bob discards half a message

        // The next message: allowed one failed attempt (an agent may learn of the dead socket only when it writes).
        var (_, second, _) = await FaultFlows.TimedAsync(() => c.Backchannel.ConnectionSendPingAsync(autId, "after the cut"), FaultFlows.CallLimit);
        string? third = null;
        if (second != null)
        {
            c.Note("the first send after the cut failed: " + second);
            (_, third, _) = await FaultFlows.TimedAsync(() => c.Backchannel.ConnectionSendPingAsync(autId, "after the cut"), FaultFlows.CallLimit);
        }
        // Agents do not all put the backchannel's comment into the ping, so the ping after the cut is told by count.
        var after = await c.EventuallyAsync(() => Task.FromResult(c.Tap.Received("ping").Count > pingsBefore ? "arrived" : null));
        c.Must("After the cut, the agent's next message is delivered (on a new socket; one failed attempt allowed).", after != null,
            "a ping from the agent after the cut", (third != null ? "send-ping failed twice: " + third + "; " : "") + "received: " + Flows.Received(c));
        var state = await FaultFlows.AutStateAsync(c, autId);
        c.Must("The connection is unharmed (still active).", state == "active", "state active", $"state '{state}'");
    }
}
