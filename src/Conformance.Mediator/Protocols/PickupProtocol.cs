using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.DidComm2;

namespace Conformance.Mediator;

/// <summary>
/// Message Pickup 3.0, mediator role (shared/specs/didcomm-v2-protocols/messagepickup-3.0.md; Identus PickupExecuter).
/// <list type="bullet">
/// <item>status-request → status. "message_count is the only REQUIRED attribute"; "If a recipient_did was specified in the
/// status-request message, the matching value MUST be specified in the recipient_did attribute of the status message";
/// "a status message MUST NOT be put on the pending message queue and MUST only be sent when the recipient is actively
/// connected" — it is only ever a direct reply.</item>
/// <item>delivery-request → delivery (attachments: id = queue id, data.base64 = the stored envelope) or, "If no messages
/// are available to be sent, a status message MUST be sent immediately". "limit is a REQUIRED attribute"; capped to
/// <see cref="MediatorOptions.MaxDeliveryMessages"/>. "Delivered messages MUST NOT be deleted until delivery is
/// acknowledged by a messages-received message."</item>
/// <item>messages-received → the listed messages (the client's own only) are deleted, atomically with the replay record
/// of this message; then "The mediator SHOULD send an updated status message".</item>
/// <item>live-delivery-change → status; live_delivery true on HTTP → problem report <c>e.m.live-mode-not-supported</c>
/// ("If sent with live_delivery set to true on a connection incapable of live delivery, a problem_report SHOULD be sent").
/// Live deliveries are <c>delivery</c> messages (see <see cref="WsSession"/> for how acknowledgement works).</item>
/// </list>
/// The sender must be authenticated and enrolled (granted mediation), and a given recipient_did must be in its keylist,
/// else <see cref="ProblemCodes.NotEnrolled"/> (Identus M1B; test suite "delivery-request message with another not
/// enrolled peer did").
/// </summary>
internal static class PickupProtocol
{
    public static async Task<V2Message?> HandleAsync(MediatorEngine engine, Inbound inbound)
    {
        var client = inbound.RequireSender();
        var m = inbound.Message;
        CoordinateMediationProtocol.RequireEnrolled(engine, client);
        var recipientDid = CoordinateMediationProtocol.Str(m.Body, "recipient_did");
        if (recipientDid is not null && engine.Mediation.OwnerOf(recipientDid) != client)
            throw new DidCommException(ProblemCodes.NotEnrolled, recipientDid);

        switch (m.Type)
        {
            case MessageTypes.StatusRequest:
                return await StatusAsync(engine, inbound, client, recipientDid);

            case MessageTypes.DeliveryRequest:
            {
                var limit = CoordinateMediationProtocol.Int(m.Body, "limit")
                    ?? throw new DidCommException(ProblemCodes.Malformed, "delivery-request: limit is REQUIRED (an integer)");
                if (limit < 0) throw new DidCommException(ProblemCodes.Malformed, "delivery-request: limit must not be negative");
                limit = Math.Min(limit, engine.Options.MaxDeliveryMessages);
                var messages = limit == 0 ? [] : await engine.Queue.PeekAsync(client, recipientDid, limit, inbound.Ct);
                if (messages.Count == 0) return await StatusAsync(engine, inbound, client, recipientDid);
                var body = new JsonObject();
                if (recipientDid is not null) body["recipient_did"] = recipientDid;
                return engine.Reply(inbound, MessageTypes.Delivery, body, Attachments(messages, engine.Options.MaxDeliveryBytes));
            }

            case MessageTypes.MessagesReceived:
            {
                if (m.Body["message_id_list"] is not JsonArray list)
                    throw new DidCommException(ProblemCodes.Malformed, "messages-received: message_id_list is REQUIRED (an array of ids)");
                var ids = new List<string>(list.Count);
                foreach (var item in list)
                    ids.Add(item is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
                        : throw new DidCommException(ProblemCodes.Malformed, "messages-received: message_id_list must hold strings"));
                _ = await engine.Queue.AcknowledgeAsync(inbound.ReplayKey, client, ids, inbound.Ct)
                    ?? throw new DidCommException(ProblemCodes.Dejavu, m.Id);
                return await StatusAsync(engine, inbound, client, recipientDid);
            }

            case MessageTypes.LiveDeliveryChange:
            {
                var live = m.Body["live_delivery"] switch
                {
                    JsonValue v when v.GetValueKind() is JsonValueKind.True => true,
                    JsonValue v when v.GetValueKind() is JsonValueKind.False => false,
                    JsonValue v when v.GetValueKind() is JsonValueKind.String && bool.TryParse(v.GetValue<string>(), out var b) => b,
                    _ => throw new DidCommException(ProblemCodes.Malformed, "live-delivery-change: live_delivery is REQUIRED (true or false)"),
                };
                var session = inbound.Channel.Session;
                if (live)
                {
                    // "Live Mode MUST only be enabled when a persistent transport is used, such as WebSockets."
                    if (session is null) throw new DidCommException(ProblemCodes.LiveModeNotSupported, "live delivery needs a WebSocket; this message came over HTTP");
                    if (session.LiveOwner is { } previous && previous != client) engine.Live.Remove(previous, session);
                    session.EnableLive(client, batch => PackLive(engine, client, batch), engine.Options.LiveBatchMessages, engine.Options.LiveBatchBytes, engine.Options.LiveLinger, engine.Options.Log);
                    engine.Live.Add(client, session);
                }
                else if (session is not null && session.LiveOwner is { } owner)
                {
                    engine.Live.Remove(owner, session);
                    session.DisableLive();
                }
                return await StatusAsync(engine, inbound, client, recipientDid);
            }
        }
        throw new DidCommException(ProblemCodes.Unsupported, m.Type);
    }

    private static async Task<V2Message> StatusAsync(MediatorEngine engine, Inbound inbound, string client, string? recipientDid)
    {
        var s = await engine.Queue.StatusAsync(client, recipientDid, inbound.Ct);
        var body = new JsonObject();
        if (recipientDid is not null) body["recipient_did"] = recipientDid;
        body["message_count"] = s.MessageCount;
        if (s.MessageCount > 0)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (s.OldestReceivedMs is { } oldest)
            {
                body["longest_waited_seconds"] = Math.Max(0, (now - oldest) / 1000);
                body["oldest_received_time"] = oldest / 1000;
            }
            if (s.NewestReceivedMs is { } newest) body["newest_received_time"] = newest / 1000;
            body["total_bytes"] = s.TotalBytes;
        }
        body["live_delivery"] = inbound.Channel.Session?.LiveOwner == client;
        return engine.Reply(inbound, MessageTypes.Status, body);
    }

    private static List<V2Attachment> Attachments(IReadOnlyList<StoredMessage> messages, int maxBytes)
    {
        var list = new List<V2Attachment>(messages.Count);
        long bytes = 0;
        foreach (var s in messages)
        {
            bytes += s.Envelope.Length;
            if (list.Count > 0 && bytes > maxBytes) break;   // always at least one, whatever its size
            list.Add(new V2Attachment { Id = s.Id, MediaType = MediaTypes.Encrypted, Base64 = FastBase64.Encode(s.Envelope) });
        }
        return list;
    }

    /// <summary>A live <c>delivery</c> (no thread: it answers no request) authcrypted to the client.</summary>
    private static string PackLive(MediatorEngine engine, string client, IReadOnlyList<StoredMessage> batch)
    {
        var delivery = new V2Message
        {
            Id = engine.Options.Entropy.NewUuid(),
            Type = MessageTypes.Delivery,
            From = engine.Identity.Did,
            To = [client],
            CreatedTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Body = [],
            Attachments = Attachments(batch, int.MaxValue),
        };
        engine.Counters.CountLive(batch.Count);
        return engine.Pack(delivery).Envelope;
    }
}
