using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Mediator;

/// <summary>
/// The recipient side of coordinate-mediation 2.0, pickup 3.0, trust ping 2.0 and discover features 2.0, over one
/// transport: <see cref="V2Client"/> (HTTP POST, one reply per request) or <see cref="V2Socket"/> (one WebSocket). Every
/// request carries <c>return_route: all</c> ("the recipient should specify return_route header to all") and is
/// authcrypted from the client. A problem report in place of the expected reply throws <see cref="V2ProblemException"/>.
/// </summary>
public abstract class V2Session
{
    /// <summary>The client (identity, mediator) this session speaks for.</summary>
    public abstract V2Client Client { get; }

    /// <summary>Sends <paramref name="request"/> packed with <paramref name="mode"/> and returns the reply on its thread
    /// (or a problem report), or null when the mediator accepted it with nothing to return.</summary>
    public abstract Task<V2Unpacked?> RequestAsync(V2Message request, PackMode mode = PackMode.Authcrypt, CancellationToken ct = default);

    /// <summary>The reply of <paramref name="request"/>; a problem report or no reply throws.</summary>
    public async Task<V2Message> ExpectAsync(V2Message request, params string[] types)
    {
        var reply = await RequestAsync(request) ?? throw new V2ProblemException($"no reply to {request.Type}");
        if (V2Problem.From(reply.Message) is { } p) throw new V2ProblemException(p);
        if (types.Length > 0 && !types.Contains(reply.Message.Type))
            throw new V2ProblemException($"expected {string.Join(" or ", types)} in reply to {request.Type}, got {reply.Message.Type}");
        return reply.Message;
    }

    // ------------------------------------------------------------------ coordinate-mediation 2.0

    /// <summary>mediate-request → the grant's routing_did. A mediate-deny throws (<see cref="V2ProblemException"/> with no code).</summary>
    public async Task<string> RequestMediationAsync(CancellationToken ct = default)
    {
        var reply = await ExpectAsync(Client.NewMessage(MessageTypes.MediateRequest), MessageTypes.MediateGrant, MessageTypes.MediateDeny);
        if (reply.Type == MessageTypes.MediateDeny) throw new V2ProblemException("mediation denied (mediate-deny)");
        return V2Problem.Str(reply.Body, "routing_did") ?? throw new V2ProblemException("mediate-grant without routing_did");
    }

    /// <summary>keylist-update with the given (recipient_did, action) pairs; action is "add" or "remove".</summary>
    public async Task<IReadOnlyList<V2KeylistUpdated>> UpdateKeylistAsync(IEnumerable<(string RecipientDid, string Action)> updates)
    {
        var array = new JsonArray(updates.Select(u => (JsonNode)new JsonObject { ["recipient_did"] = u.RecipientDid, ["action"] = u.Action }).ToArray());
        var reply = await ExpectAsync(Client.NewMessage(MessageTypes.KeylistUpdate, new JsonObject { ["updates"] = array }), MessageTypes.KeylistUpdateResponse);
        return V2KeylistUpdated.ListFrom(reply) ?? throw new V2ProblemException("keylist-update-response without 'updated'");
    }

    public Task<IReadOnlyList<V2KeylistUpdated>> AddKeysAsync(params string[] recipientDids) => UpdateKeylistAsync(recipientDids.Select(d => (d, "add")));

    public Task<IReadOnlyList<V2KeylistUpdated>> RemoveKeysAsync(params string[] recipientDids) => UpdateKeylistAsync(recipientDids.Select(d => (d, "remove")));

    /// <summary>keylist-query, optionally paginated.</summary>
    public async Task<V2Keylist> QueryKeylistAsync(int? limit = null, int? offset = null)
    {
        var body = new JsonObject();
        if (limit is not null || offset is not null) body["paginate"] = new JsonObject { ["limit"] = limit ?? 100, ["offset"] = offset ?? 0 };
        return V2Keylist.From(await ExpectAsync(Client.NewMessage(MessageTypes.KeylistQuery, body), MessageTypes.Keylist));
    }

    // ------------------------------------------------------------------ pickup 3.0

    public async Task<V2PickupStatus> StatusAsync(string? recipientDid = null)
    {
        var body = new JsonObject();
        if (recipientDid is not null) body["recipient_did"] = recipientDid;
        return V2PickupStatus.From(await ExpectAsync(Client.NewMessage(MessageTypes.StatusRequest, body), MessageTypes.Status));
    }

    /// <summary>delivery-request; the answer is a delivery, or a status when nothing is queued.</summary>
    public async Task<V2Delivery> DeliveryRequestAsync(int limit, string? recipientDid = null)
    {
        var body = new JsonObject { ["limit"] = limit };
        if (recipientDid is not null) body["recipient_did"] = recipientDid;
        return V2Delivery.From(await ExpectAsync(Client.NewMessage(MessageTypes.DeliveryRequest, body), MessageTypes.Delivery, MessageTypes.Status));
    }

    /// <summary>messages-received for the given attachment ids → the updated status.</summary>
    public async Task<V2PickupStatus> MessagesReceivedAsync(IEnumerable<string> ids)
    {
        var body = new JsonObject { ["message_id_list"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) };
        return V2PickupStatus.From(await ExpectAsync(Client.NewMessage(MessageTypes.MessagesReceived, body), MessageTypes.Status));
    }

    /// <summary>live-delivery-change → the status (over HTTP, turning it on throws e.m.live-mode-not-supported).</summary>
    public async Task<V2PickupStatus> SetLiveDeliveryAsync(bool on)
        => V2PickupStatus.From(await ExpectAsync(Client.NewMessage(MessageTypes.LiveDeliveryChange, new JsonObject { ["live_delivery"] = on }), MessageTypes.Status));

    // ------------------------------------------------------------------ trust ping, discover features

    /// <summary>ping with response_requested → the ping-response.</summary>
    public Task<V2Message> PingAsync() =>
        ExpectAsync(Client.NewMessage(MessageTypes.Ping, new JsonObject { ["response_requested"] = true }), MessageTypes.PingResponse);

    /// <summary>discover-features queries → the disclosures.</summary>
    public async Task<IReadOnlyList<JsonObject>> DiscoverAsync(params (string FeatureType, string Match)[] queries)
    {
        var q = new JsonArray(queries.Select(x => (JsonNode)new JsonObject { ["feature-type"] = x.FeatureType, ["match"] = x.Match }).ToArray());
        var reply = await ExpectAsync(Client.NewMessage(MessageTypes.Queries, new JsonObject { ["queries"] = q }), MessageTypes.Disclose);
        return reply.Body["disclosures"] is JsonArray a ? a.OfType<JsonObject>().ToList() : [];
    }
}
