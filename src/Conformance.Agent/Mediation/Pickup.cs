// Aries RFC 0685 Pickup Protocol 2.0, messagepickup/2.0 — both roles.
// spec: shared/specs/aries-rfcs/0685-pickup-v2/README.md; return route: 0092-transport-return-route/README.md
//
//   recipient                                mediator
//   status-request {recipient_key?}  ─────▶  status {message_count, recipient_key?, live_delivery, ...}
//   delivery-request {limit, rk?}    ─────▶  delivery {~attach: one envelope each, @id = queue id} | status (empty)
//   messages-received {message_id_list} ──▶  removes them; status
//   live-delivery-change {live_delivery} ─▶  status | problem-report e.m.live-mode-not-supported
//                                    ◀─────  delivery (live mode: pushed as messages arrive)
//
// "Each message sent MUST use the ~transport decorator as follows ... "return_route": "all"" (§Reference): every
// pickup message we send carries it, whether or not this agent has an endpoint.
// What a recipient may pick up: the envelopes queued for the keys it registered (RFC 0211 keylist) and those the
// agent's own Outbound queued for the recipient's connection key (an endpoint-less peer, seed 000).
// Credo 0.6.3 (notes/credo-0.6.3.md) attaches envelopes as data.json and reads both; we write data.base64 as the RFC
// shows and read both. Credo reads status-request/delivery-request recipient_key as a base58 verkey: we send base58
// and accept did:key too.

using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Mediation;

public sealed partial class MediationProtocol
{
    /// <summary>Live-mode sessions by connection id (mediator role). In memory: "If Live Mode is active, and the connection is broken, a new inbound connection starts with Live Mode disabled."</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IInboundSession> _live = new();

    /// <summary>Recipient: attachment ids already processed, so a message delivered twice (live push, then delivery-request before our ack landed) is processed once.</summary>
    private readonly HashSet<string> _seenDeliveries = [];
    private readonly Queue<string> _seenOrder = new();
    private const int SeenLimit = 4096;

    // ================================================================== mediator role

    /// <summary>The keys whose queued envelopes the peer on <paramref name="conn"/> may pick up.</summary>
    private List<string> QueueKeysOf(ConnectionRecord conn)
    {
        var keys = new List<string>();
        lock (_gate)
            if (_agent.Store.GetMediation(conn.Id) is { Role: RoleMediator, State: StateGranted } r) keys.AddRange(r.RecipientKeys);
        if (conn.TheirService is { } s) keys.AddRange(s.RecipientKeys);
        return keys.Distinct().ToList();
    }

    /// <summary>
    /// The queue keys a request covers. §Status Request: "recipient_key is optional. When specified, the Mediator MUST
    /// only return status related to that recipient key." A key that is not the recipient's gives an empty scope.
    /// </summary>
    private List<string> Scope(InboundMessage inbound, ConnectionRecord conn, out string? recipientKey)
    {
        var all = QueueKeysOf(conn);
        recipientKey = OptString(inbound, "recipient_key", PickupFamily);
        if (recipientKey == null) return all;
        var verkey = TryVerkey(recipientKey) ?? throw new ProblemReportException(PickupFamily, Codes.BadMessage,
            $"recipient_key '{JsonValues.Excerpt(recipientKey, 64)}' is neither a did:key nor a base58 verkey", inbound.Message.ThreadId, null, conn);
        return all.Contains(verkey) ? [verkey] : [];
    }

    private IInboundSession? LiveSession(string connectionId)
    {
        if (!_live.TryGetValue(connectionId, out var s)) return null;
        if (s.IsOpen) return s;
        _live.TryRemove(new(connectionId, s));
        return null;
    }

    /// <summary>§Status: "message_count is the only REQUIRED attribute. The others MAY be present if offered by the Mediator."</summary>
    private AgentMessage Status(string docUri, string thid, IReadOnlyList<string> keys, string? recipientKey, bool live)
    {
        var queued = _agent.Store.Peek(keys, int.MaxValue);
        var status = New(docUri, PickupFamily, "status").WithThread(thid, null);
        // "If a recipient_key was specified in the status-request message, the matching value MUST be specified in the recipient_key attribute of the status message."
        if (recipientKey != null) status.Json["recipient_key"] = recipientKey;
        status.Json["message_count"] = queued.Count;
        if (queued.Count > 0)
        {
            var oldest = queued.Min(q => q.ReceivedAt);
            var newest = queued.Max(q => q.ReceivedAt);
            // "longest_waited_seconds is in seconds, and is the longest delay of any message in the queue."
            status.Json["longest_waited_seconds"] = (long)Math.Max(0, (_agent.Clock.Now() - oldest).TotalSeconds);
            // ISO 8601 UTC (the RFC example writes "2019-05-01 12:00:00Z"; Credo writes ISO 8601).
            status.Json["newest_received_time"] = Iso(newest);
            status.Json["oldest_received_time"] = Iso(oldest);
            // "total_bytes represents the total size of all messages."
            status.Json["total_bytes"] = queued.Sum(q => (long)q.Envelope.Length);
        }
        // "live_delivery state is also indicated in the status message."
        status.Json["live_delivery"] = live;
        return status;
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// §Status: "a status message MUST NOT be put on the pending message queue and MUST only be sent when the Recipient
    /// is actively connected (HTTP request awaiting response, WebSocket, etc.)." We extend that to delivery (a queued
    /// delivery of queued messages helps no one): sent on the open return-route session, or to an endpoint, never queued.
    /// </summary>
    private async Task ReplyWhileConnectedAsync(InboundMessage inbound, ConnectionRecord conn, AgentMessage reply, CancellationToken ct)
    {
        if (inbound.Session is { IsOpen: true } || IsReachableEndpoint(conn.TheirService?.Endpoint))
        {
            await _agent.Outbound.SendAsync(reply, conn, ct);
            return;
        }
        Note(inbound, $"{reply.Type.Name} not sent: the recipient is not connected (no ~transport.return_route on an open session, no endpoint) and RFC 0685 forbids queueing it");
    }

    private async Task OnStatusRequestAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, PickupFamily);
        var keys = Scope(inbound, conn, out var recipientKey);
        await ReplyWhileConnectedAsync(inbound, conn, Status(m.Type.DocUri, m.ThreadId, keys, recipientKey, LiveSession(conn.Id) != null), ct);
    }

    /// <summary>
    /// §Delivery Request: "limit is a REQUIRED attribute, and after receipt of this message, the Mediator SHOULD deliver
    /// up to the limit indicated." "If no messages are available to be sent, a status message MUST be sent immediately."
    /// "Delivered messages MUST NOT be deleted until delivery is acknowledged by a messages-received message."
    /// </summary>
    private async Task OnDeliveryRequestAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, PickupFamily);
        if (JsonValues.AsInt(m.Json["limit"]) is not (> 0 and var limit))
            throw new ProblemReportException(PickupFamily, Codes.BadMessage,
                "delivery-request needs \"limit\", a positive integer (RFC 0685: \"limit is a REQUIRED attribute\")", m.ThreadId, null, conn);
        var keys = Scope(inbound, conn, out var recipientKey);
        var batch = _agent.Store.Peek(keys, limit);
        var reply = batch.Count == 0
            ? Status(m.Type.DocUri, m.ThreadId, keys, recipientKey, LiveSession(conn.Id) != null)
            : Delivery(m.Type.DocUri, m.ThreadId, batch, recipientKey);
        await ReplyWhileConnectedAsync(inbound, conn, reply, ct);
    }

    /// <summary>
    /// §Message Delivery: "Messages delivered from the queue must be delivered in a batch delivery message as
    /// attachments. The ID of each attachment is used to confirm receipt." "The ONLY valid type of attachment for this
    /// message is a DIDComm Message in encrypted form." "The recipient_key attribute is only included when responding
    /// to a delivery-request message that indicates a recipient_key."
    /// </summary>
    private AgentMessage Delivery(string docUri, string? thid, IReadOnlyList<QueuedMessage> batch, string? recipientKey)
    {
        var delivery = New(docUri, PickupFamily, "delivery");
        if (thid != null) delivery = delivery.WithThread(thid, null);
        if (recipientKey != null) delivery.Json["recipient_key"] = recipientKey;
        delivery.Json["~attach"] = new JsonArray(batch.Select(q =>
        {
            var a = Attachment.FromBytes(q.Envelope, q.MessageId).ToJson();
            a["lastmod_time"] = Iso(q.ReceivedAt);
            return (JsonNode)a;
        }).ToArray());
        return delivery;
    }

    /// <summary>
    /// §Messages Received: "Upon receipt of this message, the Mediator knows which messages have been received, and can
    /// remove them from the collection of queued messages with confidence. The mediator SHOULD send an updated status
    /// message reflecting the changes to the queue." Only this recipient's messages are removed.
    /// </summary>
    private async Task OnMessagesReceivedAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, PickupFamily);
        if (m.Json["message_id_list"] is not JsonArray list || list.Any(n => JsonValues.AsString(n) == null))
            throw new ProblemReportException(PickupFamily, Codes.BadMessage, "messages-received needs \"message_id_list\", an array of strings", m.ThreadId, null, conn);
        var keys = QueueKeysOf(conn);
        var removed = _agent.Store.Remove(keys, list.Select(n => JsonValues.AsString(n)!).ToList());
        _agent.Debug($"messages-received on {conn.Id}: {removed} of {list.Count} removed from the queue");
        await ReplyWhileConnectedAsync(inbound, conn, Status(m.Type.DocUri, m.ThreadId, keys, null, LiveSession(conn.Id) != null), ct);
    }

    /// <summary>
    /// §Live Mode: "Live mode MUST only be enabled when a persistent transport is used, such as WebSockets."
    /// "Upon receiving the live_delivery_change message, the Mediator MUST respond with a status message."
    /// "If sent with live_delivery set to true on a connection incapable of live delivery, a problem_report SHOULD be
    /// sent" — notification/1.0 problem-report with pthid = the offending message (and thid, as all our reports).
    /// </summary>
    private async Task OnLiveDeliveryChangeAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, PickupFamily);
        if (m.Json["live_delivery"] is not JsonValue v || !v.TryGetValue<bool>(out var live))
            throw new ProblemReportException(PickupFamily, Codes.BadMessage, "live-delivery-change needs \"live_delivery\", a boolean", m.ThreadId, null, conn);
        if (live)
        {
            // An HTTP request cannot carry messages that arrive later; a WebSocket can, if return_route asked for it.
            if (inbound.Session is not { Transport: "ws", IsOpen: true } session)
                throw new ProblemReportException("notification/1.0", Codes.LiveModeNotSupported,
                    "Connection does not support Live Delivery: live mode needs a WebSocket carrying ~transport.return_route \"all\"", m.ThreadId, m.Id, conn);
            _live[conn.Id] = session;
        }
        else _live.TryRemove(conn.Id, out _);
        await ReplyWhileConnectedAsync(inbound, conn, Status(m.Type.DocUri, m.ThreadId, QueueKeysOf(conn), null, live), ct);
    }

    /// <summary>Live mode: pushes queued messages as an unsolicited <c>delivery</c> on the live session; they stay queued until messages-received.</summary>
    private async Task PushLiveAsync(ConnectionRecord conn, IInboundSession live, IReadOnlyList<QueuedMessage> batch, CancellationToken ct)
    {
        // Outbound answers a peer on its most recent return-route session; make sure that is the live one.
        foreach (var key in conn.TheirService?.RecipientKeys ?? []) _agent.Outbound.RegisterReturnRoute(key, live);
        await _agent.Outbound.SendAsync(Delivery(DocUris.DidCommOrg, null, batch, null), conn, ct);
    }

    // ================================================================== recipient role

    /// <summary>Recipient: status-request (optionally for one of our keys); returns the mediator's status message.</summary>
    public Task<JsonObject> StatusRequestAsync(string connectionId, CancellationToken ct = default) => StatusRequestAsync(connectionId, null, ct);

    public async Task<JsonObject> StatusRequestAsync(string connectionId, string? recipientKey, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var request = WithReturnRoute(New(DocUris.DidCommOrg, PickupFamily, "status-request"));
        if (recipientKey != null) request.Json["recipient_key"] = TryVerkey(recipientKey) ?? recipientKey;
        var status = await AskAsync(conn, request, "status", ["status"], ct);
        return status.Json;
    }

    /// <summary>
    /// Recipient: delivery-request for up to <paramref name="limit"/> messages. Each delivered envelope goes through
    /// the agent's inbound pipeline, then messages-received acknowledges them. Returns how many were delivered (0 when
    /// the mediator answered with a status: nothing waiting).
    /// </summary>
    public Task<int> PickupAsync(string connectionId, int limit = 10, CancellationToken ct = default) => PickupAsync(connectionId, limit, null, ct);

    public async Task<int> PickupAsync(string connectionId, int limit, string? recipientKey, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var request = WithReturnRoute(New(DocUris.DidCommOrg, PickupFamily, "delivery-request"));
        request.Json["limit"] = limit;
        if (recipientKey != null) request.Json["recipient_key"] = TryVerkey(recipientKey) ?? recipientKey;
        var answer = await AskAsync(conn, request, "delivery or status", ["delivery", "status"], ct);
        // OnDeliveryAsync processed and acknowledged the batch before completing the question.
        return answer.Type.Name == "delivery" ? (answer.Json["~attach"] as JsonArray)?.Count ?? 0 : 0;
    }

    /// <summary>Recipient: live-delivery-change; returns the status. A mediator that refuses sends a problem report: <see cref="ProblemReportException"/> with its code.</summary>
    public async Task<JsonObject> SetLiveModeAsync(string connectionId, bool live, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var change = WithReturnRoute(New(DocUris.DidCommOrg, PickupFamily, "live-delivery-change"));
        change.Json["live_delivery"] = live;
        var status = await AskAsync(conn, change, "status", ["status"], ct);
        return status.Json;
    }

    private void OnStatus(InboundMessage inbound)
    {
        RequireConnection(inbound, PickupFamily);
        _agent.Emit(new AgentEvent(AgentEvent.MessageReceived, inbound.Connection?.Id, inbound.Message.ThreadId, inbound.Message.Json));
        Complete(inbound);
    }

    /// <summary>
    /// Recipient: a delivery — the answer to our delivery-request, or a live-mode push. "The id of each message is
    /// present in the attachment descriptor of each attached message": each envelope is unpacked and processed by the
    /// agent (its replies go to its own sender, not to the mediator), then all are acknowledged with messages-received
    /// — also those that failed to process, which a redelivery would not fix (the failure is on the wire tap).
    /// </summary>
    private async Task OnDeliveryAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, PickupFamily);
        IReadOnlyList<Attachment> attachments;
        try { attachments = m.Attachments("~attach"); }
        catch (MessageFormatException e) { throw new ProblemReportException(PickupFamily, Codes.BadMessage, "delivery: " + e.Message, m.ThreadId, null, conn); }
        _agent.Emit(new AgentEvent(AgentEvent.MessageReceived, conn.Id, m.ThreadId, m.Json));

        var received = new List<string>();
        foreach (var a in attachments)
        {
            if (a.Id == null)
            {
                Note(inbound, "delivery attachment without @id: processed, but it cannot be acknowledged");
            }
            else
            {
                received.Add(a.Id);
                if (!FirstDelivery(conn.Id + "/" + a.Id)) continue;
            }
            byte[] envelope;
            try
            {
                envelope = a.Json is JsonObject json ? Encoding.UTF8.GetBytes(json.ToJsonString()) : a.Bytes();
            }
            catch (MessageFormatException e)
            {
                Note(inbound, $"rejected: delivery attachment {a.Id}: {e.Message}");
                continue;
            }
            await _agent.ReceiveAsync(envelope, null, ct);
        }

        if (received.Count > 0)
        {
            // Unthreaded, as in the RFC's example (and Credo): the status that answers it is threaded to it, and must
            // not be taken for the answer to our delivery-request.
            var ack = WithReturnRoute(New(m.Type.DocUri, PickupFamily, "messages-received"));
            ack.Json["message_id_list"] = new JsonArray(received.Select(id => (JsonNode)id).ToArray());
            await _agent.Outbound.SendAsync(ack, conn, ct);
        }
        Complete(inbound);
    }

    private bool FirstDelivery(string id)
    {
        lock (_seenDeliveries)
        {
            if (!_seenDeliveries.Add(id)) return false;
            _seenOrder.Enqueue(id);
            if (_seenOrder.Count > SeenLimit) _seenDeliveries.Remove(_seenOrder.Dequeue());
            return true;
        }
    }
}
