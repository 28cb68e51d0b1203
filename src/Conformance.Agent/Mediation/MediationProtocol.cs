// DIDComm v1 routing and mediation, both roles, in four files that read beside their RFCs:
//   MediationProtocol.cs   (this file) message dispatch, questions awaiting answers, shared helpers
//   CoordinateMediation.cs RFC 0211 coordinate-mediation 1.0: mediate-request/grant/deny, keylist-update(-response),
//                          keylist-query/keylist — mediator role and recipient role
//   Routing.cs             RFC 0094 / RFC 0046 routing/1.0 forward: unwrap one layer, queue durably for the
//                          recipient that registered `to`, then deliver (live mode, return route, endpoint)
//   Pickup.cs              RFC 0685 messagepickup/2.0: status-request/status, delivery-request/delivery,
//                          messages-received, live-delivery-change — mediator role and recipient role
// Specs: shared/specs/aries-rfcs/{0211-route-coordination,0094-cross-domain-messaging,0046-mediators-and-relays,
//        0685-pickup-v2,0092-transport-return-route}/README.md; seed 000 (an edge client without an endpoint).
//
// One MediationRecord per connection (Storage keys it by connection id): role "mediator" (we route for them) or
// "recipient" (they route for us), state request-sent | request-received | granted | denied. On the mediator side
// RecipientKeys are the keys the recipient registered (base58 verkeys) and RoutingKeys the did:key we handed out;
// on the recipient side Endpoint/RoutingKeys are what the grant said (routing keys normalised to did:key).

using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.ProblemReport;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Mediation;

/// <summary>RFC 0211 coordinate-mediation 1.0 (both roles), routing/1.0 forward (RFC 0094), RFC 0685 pickup 2.0 (both roles).</summary>
public sealed partial class MediationProtocol : IProtocolHandler
{
    public const string CoordinateFamily = "coordinate-mediation/1.0";
    public const string RoutingFamily = "routing/1.0";
    public const string PickupFamily = "messagepickup/2.0";

    /// <summary>Problem codes this protocol sends. ACA-Py's coordinate-mediation codes where it has one (its recipients match on them), else RFC 0035's recommended DIDComm v2 convention.</summary>
    public static class Codes
    {
        /// <summary>ACA-Py <c>ProblemReportReason.MEDIATION_NOT_GRANTED</c>.</summary>
        public const string MediationNotGranted = "mediation_not_granted";
        /// <summary>Malformed message: a required field is missing or has the wrong type.</summary>
        public const string BadMessage = MessageFormatException.BadMessage;
        /// <summary>A message that answers a question this agent did not ask (e.g. a grant without a request).</summary>
        public const string Unexpected = "e.p.msg.unexpected";
        /// <summary>A request this agent will not serve in its current role (e.g. mediate-request on a connection where we are the recipient).</summary>
        public const string NotAccepted = "e.p.req.not-accepted";
        /// <summary>A forward whose <c>to</c> no recipient of this mediator registered.</summary>
        public const string UnknownRecipientKey = "e.p.req.unknown-recipient-key";
        /// <summary>A forward sent to an agent that mediates for no one.</summary>
        public const string NotAMediator = "e.p.req.not-a-mediator";
        /// <summary>RFC 0685 live-delivery-change on a transport that cannot carry live delivery.</summary>
        public const string LiveModeNotSupported = "e.m.live-mode-not-supported";
    }

    private readonly ReferenceAgent _agent;
    /// <summary>Guards the mutable lists of MediationRecords (keylist updates race with forward lookups).</summary>
    private readonly Lock _gate = new();
    /// <summary>Questions we sent, by their @id (= the thread the answer carries).</summary>
    private readonly ConcurrentDictionary<string, Pending> _pending = new();
    private long _pendingSeq;

    public MediationProtocol(ReferenceAgent agent)
    {
        _agent = agent;
        // A problem report threaded to one of our questions fails the wait (ProblemReports records it first).
        agent.Events += OnAgentEvent;
    }

    /// <summary>
    /// Mediator policy: besides queueing, hand a forwarded message straight on to its recipient when it has an open
    /// return-route WebSocket or an http/ws endpoint (what ACA-Py mediators do; ACA-Py recipients do not pick up).
    /// False = queue only, delivered by pickup or live mode (Credo's QueueOnly strategy). Default true.
    /// </summary>
    public bool DirectDelivery { get; set; } = true;

    /// <summary>Mediator: write granted routing keys as did:key (RFC 0211 1.0 "All keys are encoded using did:key") or, false, as raw base58 (pre-RFC agents).</summary>
    public bool DidKeyRoutingKeys { get; set; } = true;

    /// <summary>Recipient: how long to wait for the mediator's answer to a question; null = <see cref="AgentOptions.OutboundTimeout"/>.</summary>
    public TimeSpan? AnswerTimeout { get; set; }

    public bool Handles(MessageType type) =>
        !ProblemReports.IsProblemReport(type) && (type.Protocol, type.Major) switch
        {
            ("coordinate-mediation", 1) => true,
            ("routing", 1) => true,
            ("messagepickup", 2) => true,
            _ => false,
        };

    public async Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        var t = inbound.Message.Type;
        switch (t.Protocol, t.Name)
        {
            // RFC 0094 / 0046
            case ("routing", "forward"): await OnForwardAsync(inbound, ct); break;
            // RFC 0211, mediator role
            case ("coordinate-mediation", "mediate-request"): await OnMediateRequestAsync(inbound, ct); break;
            case ("coordinate-mediation", "keylist-update"): await OnKeylistUpdateAsync(inbound, ct); break;
            case ("coordinate-mediation", "keylist-query"): await OnKeylistQueryAsync(inbound, ct); break;
            // RFC 0211, recipient role
            case ("coordinate-mediation", "mediate-grant"): OnMediateGrant(inbound); break;
            case ("coordinate-mediation", "mediate-deny"): OnMediateDeny(inbound); break;
            case ("coordinate-mediation", "keylist-update-response"): OnKeylistUpdateResponse(inbound); break;
            case ("coordinate-mediation", "keylist"): OnKeylist(inbound); break;
            // RFC 0685, mediator role
            case ("messagepickup", "status-request"): await OnStatusRequestAsync(inbound, ct); break;
            case ("messagepickup", "delivery-request"): await OnDeliveryRequestAsync(inbound, ct); break;
            case ("messagepickup", "messages-received"): await OnMessagesReceivedAsync(inbound, ct); break;
            case ("messagepickup", "live-delivery-change"): await OnLiveDeliveryChangeAsync(inbound, ct); break;
            // RFC 0685, recipient role
            case ("messagepickup", "status"): OnStatus(inbound); break;
            case ("messagepickup", "delivery"): await OnDeliveryAsync(inbound, ct); break;
            default:
                throw new ProblemReportException("notification/1.0", "unsupported-message-type",
                    $"{t.Protocol}/{t.Major}.{t.Minor} has no message '{t.Name}' this agent understands", inbound.Message.ThreadId, null, inbound.Connection);
        }
    }

    // ------------------------------------------------------------------ questions and answers (recipient role)

    private sealed record Pending(long Seq, string ConnectionId, IReadOnlySet<string> Answers, TaskCompletionSource<AgentMessage> Done);

    /// <summary>Registers a question before it is sent (an answer may come back on the same HTTP response, inside SendAsync).</summary>
    private Task<AgentMessage> Expect(string questionId, string connectionId, params string[] answers)
    {
        var p = new Pending(Interlocked.Increment(ref _pendingSeq), connectionId, answers.ToHashSet(),
            new TaskCompletionSource<AgentMessage>(TaskCreationOptions.RunContinuationsAsynchronously));
        _pending[questionId] = p;
        return p.Done.Task;
    }

    /// <summary>Sends <paramref name="question"/> on <paramref name="conn"/> and waits for one of <paramref name="answers"/> (message names) on its thread.</summary>
    private async Task<AgentMessage> AskAsync(ConnectionRecord conn, AgentMessage question, string what, string[] answers, CancellationToken ct)
    {
        var answer = Expect(question.Id, conn.Id, answers);
        try
        {
            await _agent.Outbound.SendAsync(question, conn, ct);
        }
        catch
        {
            _pending.TryRemove(question.Id, out _);
            throw;
        }
        return await AwaitAnswerAsync(question.Id, answer, what, ct);
    }

    private async Task<AgentMessage> AwaitAnswerAsync(string questionId, Task<AgentMessage> answer, string what, CancellationToken ct)
    {
        var timeout = AnswerTimeout ?? _agent.Options.OutboundTimeout;
        try
        {
            return await answer.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"no {what} arrived within {timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            _pending.TryRemove(questionId, out _);
        }
    }

    /// <summary>
    /// Completes the question an inbound message answers: by <c>~thread.thid</c> (RFC 0008), or — tolerating agents
    /// that do not thread their answers — the oldest open question on the same connection that this message answers.
    /// An unthreaded <c>delivery</c> is a live-mode push, never an answer.
    /// </summary>
    private bool Complete(InboundMessage inbound)
    {
        var m = inbound.Message;
        if (m.Thread?.Thid is { } thid)
        {
            if (_pending.TryGetValue(thid, out var p) && p.Answers.Contains(m.Type.Name) && _pending.TryRemove(new(thid, p)))
                return p.Done.TrySetResult(m);
            return false;
        }
        if (m.Type.Name == "delivery" || inbound.Connection is not { } conn) return false;
        var oldest = _pending.Where(kv => kv.Value.ConnectionId == conn.Id && kv.Value.Answers.Contains(m.Type.Name))
            .OrderBy(kv => kv.Value.Seq).FirstOrDefault();
        return oldest.Value is { } q && _pending.TryRemove(oldest) && q.Done.TrySetResult(m);
    }

    /// <summary>A problem report whose thid or pthid names one of our questions fails that question with the report's code.</summary>
    private void OnAgentEvent(AgentEvent e)
    {
        if (e.Kind != AgentEvent.ProblemReportReceived || e.Message is not { } report) return;
        var thread = report["~thread"] as JsonObject;
        foreach (var id in new[] { JsonValues.AsString(thread?["thid"]), JsonValues.AsString(thread?["pthid"]) })
        {
            if (id == null || !_pending.TryRemove(id, out var p)) continue;
            var family = MessageType.TryParse(JsonValues.AsString(report["@type"]), out var t) ? $"{t.Protocol}/{t.Major}.{t.Minor}" : "notification/1.0";
            p.Done.TrySetException(new ProblemReportException(family, ProblemReports.CodeOf(report) ?? "(no code)", ExplainOf(report) ?? "problem report without explanation", id));
            return;
        }
    }

    private static string? ExplainOf(JsonObject report) =>
        JsonValues.AsString(report["explain"])
        ?? JsonValues.AsString((report["description"] as JsonObject)?["en"])
        ?? JsonValues.AsString(report["description"]); // RFC 0685's live-mode example writes description as a plain string

    // ------------------------------------------------------------------ helpers

    private AgentMessage New(string docUri, string family, string name) => _agent.NewMessage(docUri + family + "/" + name);

    /// <summary>RFC 0092: ask the other side to answer on this very transport session.</summary>
    private static AgentMessage WithReturnRoute(AgentMessage m)
    {
        m.Json[AgentMessage.TransportField] = new JsonObject { ["return_route"] = "all" };
        return m;
    }

    private ConnectionRecord Connection(string connectionId) =>
        _agent.Store.GetConnection(connectionId) ?? throw new InvalidOperationException($"no connection {connectionId}");

    /// <summary>Every message of these protocols belongs to a relationship: it must arrive authcrypted on a known connection.</summary>
    private static ConnectionRecord RequireConnection(InboundMessage inbound, string family) =>
        inbound.Connection ?? throw new ProblemReportException(family, Codes.NotAccepted,
            $"{inbound.Message.Type.Name} must arrive authcrypted on an established connection", inbound.Message.ThreadId);

    private void SaveAndAnnounce(MediationRecord r)
    {
        _agent.Store.Save(r);
        _agent.Emit(new AgentEvent(AgentEvent.MediationState, r.ConnectionId, r.ThreadId));
    }

    /// <summary>A did:key (RFC 0360) or base58 verkey → base58 verkey; null if it is neither (or not Ed25519).</summary>
    internal static string? TryVerkey(string? key)
    {
        if (string.IsNullOrEmpty(key)) return null;
        try { return Rfc0094.ToVerkey(key); }
        catch (EnvelopeException) { return null; }
    }

    /// <summary>A string member, or a <see cref="ProblemReportException"/> (e.p.msg) naming it when it has another JSON type.</summary>
    private static string? OptString(InboundMessage inbound, string name, string family)
    {
        try { return inbound.Message.GetString(name); }
        catch (MessageFormatException e) { throw new ProblemReportException(family, Codes.BadMessage, e.Message, inbound.Message.ThreadId, null, inbound.Connection); }
    }

    private void Note(InboundMessage inbound, string note) =>
        _agent.Emit(new WireEvent(_agent.Clock.Now(), "in", inbound.Message.Type.ToString(), inbound.Message.Json, null, inbound.Session?.Transport,
            null, inbound.SenderVerkey, inbound.RecipientVerkey, inbound.Connection?.Id, note));

    private static bool IsReachableEndpoint(string? endpoint) =>
        endpoint != null && (endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                             || endpoint.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith("wss://", StringComparison.OrdinalIgnoreCase));
}

/// <summary>Lenient readers for JSON members of inbound messages (Conformance.Wire keeps its own internal).</summary>
internal static class JsonValues
{
    public static string? AsString(JsonNode? n) =>
        n is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>A JSON number without fraction that fits an int, else null.</summary>
    public static int? AsInt(JsonNode? n)
    {
        if (n is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number) return null;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<System.Text.Json.JsonElement>(out var e) && e.TryGetInt32(out var j)) return j;
        if (v.TryGetValue<long>(out var l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        return null;
    }

    public static string Excerpt(string? s, int max) =>
        s == null ? "" : (s.Length <= max ? s : s[..(max - 3)] + "...").ReplaceLineEndings(" ");
}
