using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Agent.ProblemReport;
using Conformance.Wire.Messages;

namespace Conformance.Agent.DidExchange;

/// <summary>
/// Aries RFC 0023 DID Exchange, versions 1.0 and 1.1 (1.1 adds <c>did_rotate~attach</c>), both roles.
/// <list type="bullet">
/// <item>Requester (<see cref="ConnectionRole.Invitee"/>): start → invitation-received → request-sent →
/// response-received → completed (Requester.cs).</item>
/// <item>Responder (<see cref="ConnectionRole.Inviter"/>): start (or invitation-sent, when the out-of-band protocol
/// made the record) → request-received → response-sent → completed (Responder.cs).</item>
/// </list>
/// "The abandoned and completed states are terminal states and there is no expectation that the protocol can be
/// continued (or even referenced) after reaching those states": a request or response on a completed thread is
/// answered with a problem report and changes nothing.
/// <para>Versions: RFC 0003 semver — a 1.x message is understood by every 1.y agent. Both 1.0 and 1.1 messages are
/// accepted in either role, under either type prefix; the responder answers in the minor version the request used
/// (so a 1.1 request to a 1.0 invitation, as Credo sends, works), the requester speaks the lower of the invitation's
/// version and <see cref="AgentOptions.DidExchangeVersion"/>.</para>
/// <para>Errors (RFC 0023 §Errors, <see cref="DidExchangeProblems"/>): a broken rule is a <c>problem_report</c> in
/// family didexchange/1.x threaded to the offending message. Before a connection exists it goes to the service of the
/// request's DID document (<see cref="ProblemReportException.ReplyTo"/>). A received report is kept on the record and
/// does not abandon the exchange unless its code says it was abandoned.</para>
/// </summary>
public sealed partial class DidExchangeProtocol : IProtocolHandler
{
    private readonly ReferenceAgent _agent;
    /// <summary>Guards check-then-transition steps; never held across I/O (replies can arrive inline on return-route).</summary>
    private readonly Lock _gate = new();
    /// <summary>
    /// Sends in progress, as "{record id}/{message}", so that two accepts of one record do not both go out. Per
    /// message, not per record: the request's send can still be running when the response to it arrives inline.
    /// </summary>
    private readonly HashSet<string> _inFlight = [];
    /// <summary>Labels asked for per invitation (not persisted; the agent's label otherwise).</summary>
    private readonly ConcurrentDictionary<string, string> _labels = new();

    public DidExchangeProtocol(ReferenceAgent agent)
    {
        _agent = agent;
        // Implicit invitations name public DIDs; this agent's are did:web (PublicDids). Resolvers stay pluggable.
        agent.Resolver.Add(new DidWebResolver(agent.Options.OutboundTimeout));
    }

    /// <summary>
    /// Requester: send <c>complete</c> as soon as a valid response arrives even when the record is in manual mode
    /// (true, the default: ACA-Py's behaviour, and what the AATH flow expects — it has no send-complete step and looks
    /// for "completed" after the response). False: a manual record waits in response-received for
    /// <see cref="AcceptResponseAsync"/> (Credo's behaviour).
    /// </summary>
    public bool CompleteAutomatically { get; set; } = true;

    public bool Handles(MessageType type) => type.Protocol == DidExchangeMessages.Protocol && type.Major == 1;

    public async Task HandleAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        switch (m.Type.Name)
        {
            case "request":
                await Guarded(HandleRequestAsync, inbound, DidExchangeProblems.RequestProcessingError, ct);
                break;
            case "response":
                await Guarded(HandleResponseAsync, inbound, DidExchangeProblems.ResponseProcessingError, ct);
                break;
            case "complete":
                HandleComplete(inbound);
                break;
            case "problem_report" or "problem-report":
                HandleProblemReport(inbound);
                break;
            default:
                throw new ProblemReportException("notification/1.0", "unsupported-message-type",
                    $"didexchange has no message '{m.Type.Name}' (request, response, complete, problem_report)", m.ThreadId);
        }
    }

    /// <summary>
    /// RFC 0023 §"Request Processing Error" / §"Response Processing Error": "unknown processing error" — the other side
    /// "should [resend] as-is". What went wrong goes to the debug log only.
    /// </summary>
    private async Task Guarded(Func<InboundMessage, CancellationToken, Task> handler, InboundMessage inbound, string code, CancellationToken ct)
    {
        try
        {
            await handler(inbound, ct);
        }
        catch (Exception e) when (e is not (ProblemReportException or OperationCanceledException))
        {
            _agent.Debug($"didexchange: {inbound.Message.Type.Name} {inbound.Message.Id} failed: {e}");
            var m = inbound.Message;
            var record = m.Thread?.Thid is { } t ? _agent.Store.FindConnectionByThread(t, IsDidExchange) : null;
            var replyTo = record == null && m.Type.Name == "request" ? await ReplyServiceAsync(inbound, ct) : null;
            throw new ProblemReportException(DidExchangeMessages.Family(DidExchangeMessages.ReplyMinor(m.Type.Minor)), code,
                $"unknown processing error while handling the {m.Type.Name}; it may be resent as-is", m.ThreadId, m.ParentThreadId ?? record?.ParentThreadId, record)
            { ReplyTo = replyTo };
        }
    }

    /// <summary>The public DID of this agent for implicit invitations (created on first use, see <see cref="PublicDids"/>).</summary>
    public PublicDid EnsurePublicDid() => PublicDids.Ensure(_agent);

    // ------------------------------------------------------------------ problem reports

    /// <summary>
    /// A didexchange <c>problem_report</c>: kept on the record of its thread (<see cref="ConnectionRecord.ProblemReport"/>)
    /// and announced. RFC 0023: "These errors do not transition the protocol to the abandoned state" — the record stays
    /// where it was (a requester may resend a corrected request: <see cref="SendRequestAsync"/>). A report with another
    /// code is the other party "abandoning the protocol": the record moves to abandoned unless already completed.
    /// </summary>
    private void HandleProblemReport(InboundMessage inbound)
    {
        var m = inbound.Message;
        var thid = m.Thread?.Thid;
        var record = (thid == null ? null : _agent.Store.FindConnectionByThread(thid, IsDidExchange)) ?? inbound.Connection;
        if (record != null)
        {
            lock (_gate)
            {
                record.ProblemReport = (JsonObject)m.Json.DeepClone();
                var code = ProblemReports.CodeOf(m.Json);
                if (!DidExchangeProblems.KeepsExchangeAlive(code) && record.State is not ("completed" or "abandoned") && IsDidExchange(record))
                    _agent.Transition(record, "abandoned");
                else
                    _agent.Store.Save(record);
            }
        }
        _agent.Emit(new AgentEvent(AgentEvent.ProblemReportReceived, record?.Id, thid, m.Json));
    }

    /// <summary>
    /// Abandons an exchange this agent no longer wants (RFC 0023: "If other errors occur, the corresponding party may
    /// send a problem-report to inform the other party they are abandoning the protocol"; "If the requester or
    /// responder wishes to retract the messages they sent, they record so locally" — a later request or response on
    /// the thread is then answered with request_not_accepted / response_not_accepted).
    /// </summary>
    public async Task<ConnectionRecord> AbandonAsync(string connectionId, string explain = "the exchange was abandoned", CancellationToken ct = default)
    {
        var record = Get(connectionId);
        lock (_gate)
        {
            if (record.State is "completed" or "abandoned")
                throw new InvalidOperationException($"connection {record.Id} is {record.State}, a terminal state");
            _agent.Transition(record, "abandoned");
        }
        if (record.ThreadId != null && record.TheirService != null)
        {
            var report = _agent.ProblemReports.Build(DidExchangeMessages.Family(DidExchangeMessages.MinorOf(record)),
                DidExchangeProblems.Abandoned, explain, record.ThreadId, record.ParentThreadId);
            record.ProblemReport = (JsonObject)report.Json.DeepClone();
            _agent.Store.Save(record);
            // A responder that has not answered yet has no DID of its own: it speaks with the invitation key.
            var sender = _agent.Wallet.Find(record.MyVerkey ?? (record.Role == ConnectionRole.Inviter ? record.InvitationKey ?? "" : ""));
            await _agent.Outbound.SendToServiceAsync(report, record.TheirService, sender, record.Id, ct);
        }
        return record;
    }

    // ------------------------------------------------------------------ helpers

    private static bool IsDidExchange(ConnectionRecord c) => c.Protocol.StartsWith(DidExchangeMessages.Protocol + "/", StringComparison.Ordinal);

    private ConnectionRecord Get(string connectionId) =>
        _agent.Store.GetConnection(connectionId) ?? throw new InvalidOperationException($"no connection {connectionId}");

    /// <summary>This agent's didexchange record in <paramref name="role"/> for thread <paramref name="thid"/>.</summary>
    private ConnectionRecord? FindByThread(string thid, ConnectionRole role) =>
        _agent.Store.FindConnectionByThread(thid, c => c.Role == role && IsDidExchange(c));

    /// <summary>A record that starts its life in RFC 0023's initial state "start" (kept in its history).</summary>
    private ConnectionRecord NewRecord(ConnectionRole role, int minor)
    {
        var now = _agent.Clock.Now();
        var c = new ConnectionRecord
        {
            Id = _agent.NewId(),
            Protocol = DidExchangeMessages.Family(minor),
            Role = role,
            AutoAccept = _agent.Options.AutoAccept,
            CreatedAt = now,
        };
        c.MoveTo("start", now);
        return c;
    }

    /// <summary>Ends a send marked in <see cref="_inFlight"/> as "{record id}/{message}".</summary>
    private void End(string key)
    {
        lock (_gate) _inFlight.Remove(key);
    }

    /// <summary>This agent's DID for the record (created once, routed via the record's mediator if it has one).</summary>
    private async Task<MyDid> EnsureMyDidAsync(ConnectionRecord record, CancellationToken ct)
    {
        if (record.MyDid != null && record.MyVerkey != null && record.MyDidDoc != null && _agent.Wallet.Find(record.MyVerkey) is { } key)
        {
            var svc = new ServiceRecord { RecipientKeys = [key.Verkey], Endpoint = _agent.Endpoint ?? TheirDids.QueueEndpoint };
            return new MyDid(record.MyDid, key, record.MyDidDoc, svc);
        }
        ServiceRecord? routing = null;
        if (record.MediatorConnectionId is { } mediator)
            routing = _agent.Mediation.RoutingFor(mediator)
                      ?? throw new InvalidOperationException($"mediation over connection {mediator} is not granted");
        var my = MyDids.Create(_agent, _agent.Options.DidExchangeDidMethod, routing);
        // The mediator must know the new key before the peer uses it (RFC 0211 keylist-update).
        if (record.MediatorConnectionId is { } m) await _agent.Mediation.RegisterKeyAsync(m, my.Key.Verkey, ct);
        record.MyDid = my.Did;
        record.MyVerkey = my.Key.Verkey;
        record.MyDidDoc = (JsonObject)my.Document.DeepClone();
        _agent.Store.Save(record);
        return my;
    }
}
