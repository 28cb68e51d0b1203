// Aries RFC 0211 Mediator Coordination Protocol, coordinate-mediation 1.0 — both roles.
// spec: shared/specs/aries-rfcs/0211-route-coordination/README.md
//
//   recipient                          mediator
//   mediate-request  ───────────────▶  (auto: AgentOptions.Mediator && AutoAccept; else GrantAsync / DenyAsync)
//                    ◀───────────────  mediate-grant {endpoint, routing_keys} | mediate-deny
//   keylist-update   ───────────────▶  per key: success | no_change | client_error | server_error
//                    ◀───────────────  keylist-update-response {updated}
//   keylist-query    ───────────────▶
//                    ◀───────────────  keylist {keys, pagination}
//
// "When a new key is used by the recipient, it must be registered with the mediator to enable route identification.
//  This is done with a keylist-update message." (§Flow) — hence RegisterKeyAsync / CreateRoutedDidAsync.
// "All keys are encoded using the did:key method as per RFC0360." (§Encoding of keys) — we write did:key and read
// both did:key and the base58 verkeys that agents predating the RFC's acceptance still send (Credo does the same).
// Credo 0.6.3 has no keylist-query (notes/credo-0.6.3.md): KeylistQueryAsync against it fails with a clear timeout.

using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Mediation;

public sealed partial class MediationProtocol
{
    public const string RoleMediator = "mediator";
    public const string RoleRecipient = "recipient";
    public const string StateRequestSent = "request-sent";
    public const string StateRequestReceived = "request-received";
    public const string StateGranted = "granted";
    public const string StateDenied = "denied";

    /// <summary>keylist-update-response results (§Keylist Update Response: "One of client_error, server_error, no_change, success").</summary>
    public static class KeylistResults
    {
        public const string Success = "success";
        public const string NoChange = "no_change";
        public const string ClientError = "client_error";
        public const string ServerError = "server_error";
    }

    /// <summary>Doc URI of each mediate-request we hold, so a manual grant answers in the prefix the request used.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _requestDocUris = new();
    /// <summary>The grant/deny each mediate-request we sent is waiting for, by connection.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string RequestId, Task<AgentMessage> Decision)> _decisions = new();

    // ================================================================== mediator role

    /// <summary>
    /// §Mediation Request: "If the mediator is willing to route messages, it will respond with a mediate-grant message."
    /// Auto-granted when this agent is a mediator (<see cref="AgentOptions.Mediator"/>) accepting automatically;
    /// otherwise the record waits in request-received for <see cref="GrantAsync"/> or <see cref="DenyAsync"/>.
    /// A repeated request on a granted connection is answered with the same grant (a recipient that lost the grant —
    /// see Credo's WebSocket bug in notes/credo-0.6.3.md — can ask again); ACA-Py instead reports
    /// request_already_exists_from_connection.
    /// </summary>
    private async Task OnMediateRequestAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, CoordinateFamily);
        MediationRecord record;
        bool regrant;
        lock (_gate)
        {
            var existing = _agent.Store.GetMediation(conn.Id);
            if (existing is { Role: RoleRecipient, State: StateGranted or StateRequestSent })
                throw new ProblemReportException(CoordinateFamily, Codes.NotAccepted,
                    "this agent is the mediation recipient on this connection; it does not mediate for its own mediator", m.ThreadId, null, conn);
            regrant = existing is { Role: RoleMediator, State: StateGranted };
            record = regrant ? existing! : new MediationRecord { ConnectionId = conn.Id, Role = RoleMediator };
            record.State = regrant ? StateGranted : StateRequestReceived;
            record.ThreadId = m.ThreadId;
            _requestDocUris[conn.Id] = m.Type.DocUri;
            SaveAndAnnounce(record);
        }
        if (regrant)
            await SendGrantAsync(record, conn, m.Type.DocUri, ct);
        else if (_agent.Options.Mediator && _agent.Options.AutoAccept && conn.AutoAccept)
            await GrantAsync(conn.Id, ct);
    }

    /// <summary>Mediator: grants a received mediate-request (manual mode; also the auto path). Hands out a fresh routing key.</summary>
    public async Task<MediationRecord> GrantAsync(string connectionId, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        MediationRecord record;
        lock (_gate)
        {
            record = _agent.Store.GetMediation(connectionId) ?? throw new InvalidOperationException($"no mediation request on connection {connectionId}");
            if (record is not { Role: RoleMediator, State: StateRequestReceived })
                throw new InvalidOperationException($"mediation on connection {connectionId} is {record.Role} {record.State}; only a received request can be granted");
            // §Mediation Grant: "endpoint: The endpoint reported to mediation client connections."
            var endpoint = _agent.Endpoint ?? throw new InvalidOperationException("this agent has no endpoint to hand out; a mediator must be reachable (start it with an inbound endpoint)");
            // "routing_keys: List of keys in intended routing order. Key used as recipient of forward messages."
            // One routing key per granted mediation; the wallet keeps it, so a restarted mediator still opens forwards.
            var routingKey = _agent.Wallet.CreateKey().Verkey;
            record.Endpoint = endpoint;
            record.RoutingKeys = [DidKeyRoutingKeys ? Rfc0094.ToDidKey(routingKey) : routingKey];
            record.State = StateGranted;
            // Saved before the grant leaves: the recipient may send keylist-update the moment it reads the grant.
            SaveAndAnnounce(record);
        }
        await SendGrantAsync(record, conn, _requestDocUris.GetValueOrDefault(connectionId, DocUris.DidCommOrg), ct);
        return record;
    }

    private Task SendGrantAsync(MediationRecord record, ConnectionRecord conn, string docUri, CancellationToken ct)
    {
        var grant = New(docUri, CoordinateFamily, "mediate-grant").WithThread(record.ThreadId, null);
        grant.Json["endpoint"] = record.Endpoint;
        grant.Json["routing_keys"] = new JsonArray(record.RoutingKeys.Select(k => (JsonNode)k).ToArray());
        return _agent.Outbound.SendAsync(grant, conn, ct);
    }

    /// <summary>Mediator: §Mediation Deny "serves as notification of the mediator denying the recipient's request for mediation."</summary>
    public async Task<MediationRecord> DenyAsync(string connectionId, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        MediationRecord record;
        lock (_gate)
        {
            record = _agent.Store.GetMediation(connectionId) ?? throw new InvalidOperationException($"no mediation request on connection {connectionId}");
            if (record is not { Role: RoleMediator, State: StateRequestReceived })
                throw new InvalidOperationException($"mediation on connection {connectionId} is {record.Role} {record.State}; only a received request can be denied");
            record.State = StateDenied;
            record.RecipientKeys = [];
            SaveAndAnnounce(record);
        }
        var deny = New(_requestDocUris.GetValueOrDefault(connectionId, DocUris.DidCommOrg), CoordinateFamily, "mediate-deny").WithThread(record.ThreadId, null);
        await _agent.Outbound.SendAsync(deny, conn, ct);
        return record;
    }

    /// <summary>The granted mediation the message's connection holds with us, or the ACA-Py problem report mediation_not_granted.</summary>
    private MediationRecord RequireGranted(InboundMessage inbound, ConnectionRecord conn) =>
        _agent.Store.GetMediation(conn.Id) is { Role: RoleMediator, State: StateGranted } r
            ? r
            : throw new ProblemReportException(CoordinateFamily, Codes.MediationNotGranted,
                "Mediation has not been granted for this connection", inbound.Message.ThreadId, null, conn);

    /// <summary>The granted mediation (mediator role) that registered <paramref name="verkey"/>; call under <see cref="_gate"/>.</summary>
    private MediationRecord? RegisteredBy(string verkey) =>
        _agent.Store.Mediations().FirstOrDefault(r => r is { Role: RoleMediator, State: StateGranted } && r.RecipientKeys.Contains(verkey));

    /// <summary>
    /// §Keylist Update: "Used to notify the mediator of keys in use by the recipient." Each update gets its own
    /// result: client_error for a key that is not an Ed25519 did:key/verkey, an action other than add/remove, one of
    /// our own keys, or a key another recipient already registered (we route each key for one recipient only — the
    /// RFC's Future Considerations warn of a party registering another's key); no_change for adding a registered key
    /// or removing an unknown one; server_error if the store cannot save.
    /// </summary>
    private async Task OnKeylistUpdateAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, CoordinateFamily);
        var updated = new JsonArray();
        lock (_gate)
        {
            var record = RequireGranted(inbound, conn);
            if (m.Json["updates"] is not JsonArray updates)
                throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "keylist-update needs an \"updates\" array", m.ThreadId, null, conn);

            var keys = new List<string>(record.RecipientKeys);
            var results = new List<JsonObject>();
            foreach (var node in updates)
            {
                var u = node as JsonObject;
                var given = u?["recipient_key"];
                var action = JsonValues.AsString(u?["action"]);
                var verkey = TryVerkey(JsonValues.AsString(given));
                string result;
                if (verkey == null || action is not ("add" or "remove"))
                    result = KeylistResults.ClientError;
                else if (action == "add")
                {
                    if (keys.Contains(verkey)) result = KeylistResults.NoChange;
                    else if (_agent.Wallet.Holds(verkey) || RegisteredBy(verkey) is { } other && other.ConnectionId != conn.Id) result = KeylistResults.ClientError;
                    else { keys.Add(verkey); result = KeylistResults.Success; }
                }
                else result = keys.Remove(verkey) ? KeylistResults.Success : KeylistResults.NoChange;

                // "recipient_key: Key subject of the update." — echoed as the recipient wrote it, so it can match its own list.
                results.Add(new JsonObject { ["recipient_key"] = given?.DeepClone(), ["action"] = u?["action"]?.DeepClone(), ["result"] = result });
            }

            var before = record.RecipientKeys;
            record.RecipientKeys = keys;
            try
            {
                SaveAndAnnounce(record);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                record.RecipientKeys = before;
                _agent.Debug($"keylist-update on {conn.Id} not saved: {e.Message}");
                foreach (var r in results.Where(r => JsonValues.AsString(r["result"]) == KeylistResults.Success)) r["result"] = KeylistResults.ServerError;
            }
            foreach (var r in results) updated.Add(r);
        }
        var response = New(m.Type.DocUri, CoordinateFamily, "keylist-update-response").WithThread(m.ThreadId, null);
        response.Json["updated"] = updated;
        await _agent.Outbound.SendAsync(response, conn, ct);
    }

    /// <summary>
    /// §Key List Query: "Query mediator for a list of keys registered for this connection." "paginate is optional."
    /// Keys go out as did:key; pagination says how many keys this page holds (count), where it starts (offset) and how
    /// many follow it (remaining).
    /// </summary>
    private async Task OnKeylistQueryAsync(InboundMessage inbound, CancellationToken ct)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, CoordinateFamily);
        List<string> keys;
        lock (_gate) keys = [.. RequireGranted(inbound, conn).RecipientKeys];

        int offset = 0, limit = int.MaxValue;
        if (m.Json["paginate"] is { } p)
        {
            if (p is not JsonObject paginate)
                throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "keylist-query \"paginate\" must be an object {limit, offset}", m.ThreadId, null, conn);
            if (paginate["limit"] is { } l && JsonValues.AsInt(l) is not >= 0)
                throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "keylist-query paginate.limit must be a non-negative integer", m.ThreadId, null, conn);
            if (paginate["offset"] is { } o && JsonValues.AsInt(o) is not >= 0)
                throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "keylist-query paginate.offset must be a non-negative integer", m.ThreadId, null, conn);
            limit = JsonValues.AsInt(paginate["limit"]) ?? int.MaxValue;
            offset = JsonValues.AsInt(paginate["offset"]) ?? 0;
        }
        var page = keys.Skip(offset).Take(limit).ToList();

        var keylist = New(m.Type.DocUri, CoordinateFamily, "keylist").WithThread(m.ThreadId, null);
        keylist.Json["keys"] = new JsonArray(page.Select(k => (JsonNode)new JsonObject { ["recipient_key"] = Rfc0094.ToDidKey(k) }).ToArray());
        keylist.Json["pagination"] = new JsonObject
        {
            ["count"] = page.Count,
            ["offset"] = offset,
            ["remaining"] = Math.Max(0, keys.Count - offset - page.Count),
        };
        await _agent.Outbound.SendAsync(keylist, conn, ct);
    }

    // ================================================================== recipient role

    /// <summary>
    /// Recipient: sends mediate-request on the connection (record state request-sent) and returns the record — already
    /// granted or denied if the mediator answered on the same HTTP response (an endpoint-less edge), else still
    /// request-sent; <see cref="WaitForMediationAsync"/> waits for the answer.
    /// </summary>
    public async Task<MediationRecord> RequestMediationAsync(string connectionId, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var request = New(DocUris.DidCommOrg, CoordinateFamily, "mediate-request");
        lock (_gate)
        {
            if (_agent.Store.GetMediation(connectionId) is { Role: RoleMediator, State: StateGranted or StateRequestReceived } mine)
                throw new InvalidOperationException($"this agent is the mediator on connection {connectionId} ({mine.State}); it cannot also request mediation there");
            SaveAndAnnounce(new MediationRecord { ConnectionId = connectionId, Role = RoleRecipient, State = StateRequestSent, ThreadId = request.Id });
            _decisions[connectionId] = (request.Id, Expect(request.Id, connectionId, "mediate-grant", "mediate-deny"));
        }
        try
        {
            await _agent.Outbound.SendAsync(request, conn, ct);
        }
        catch
        {
            _pending.TryRemove(request.Id, out _);
            throw;
        }
        return _agent.Store.GetMediation(connectionId)!;
    }

    /// <summary>Recipient: waits until the mediator granted or denied our request on <paramref name="connectionId"/>; returns the record.</summary>
    public async Task<MediationRecord> WaitForMediationAsync(string connectionId, CancellationToken ct = default)
    {
        var record = _agent.Store.GetMediation(connectionId) ?? throw new InvalidOperationException($"no mediation on connection {connectionId}");
        if (record.State is StateGranted or StateDenied) return record;
        if (record.Role != RoleRecipient || !_decisions.TryGetValue(connectionId, out var d))
            throw new InvalidOperationException($"mediation on connection {connectionId} is {record.Role} {record.State}: no request of ours is waiting for an answer");
        await AwaitAnswerAsync(d.RequestId, d.Decision, "mediate-grant or mediate-deny", ct);
        return _agent.Store.GetMediation(connectionId)!;
    }

    /// <summary>
    /// Recipient: sends keylist-update (keys given as verkeys or did:key go out as did:key; anything else is sent as
    /// given, so a test can provoke client_error) and returns the keylist-update-response. Per-key failures are in the
    /// response, not exceptions; a problem report (e.g. mediation_not_granted) throws <see cref="ProblemReportException"/>.
    /// </summary>
    public async Task<JsonObject> KeylistUpdateAsync(string connectionId, IEnumerable<string> add, IEnumerable<string> remove, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var update = New(DocUris.DidCommOrg, CoordinateFamily, "keylist-update");
        update.Json["updates"] = new JsonArray(
            add.Select(k => (JsonNode)new JsonObject { ["recipient_key"] = AsDidKeyIfKey(k), ["action"] = "add" })
               .Concat(remove.Select(k => (JsonNode)new JsonObject { ["recipient_key"] = AsDidKeyIfKey(k), ["action"] = "remove" }))
               .ToArray());
        var response = await AskAsync(conn, update, "keylist-update-response", ["keylist-update-response"], ct);
        return response.Json;
    }

    private static string AsDidKeyIfKey(string key) => TryVerkey(key) is { } vk ? Rfc0094.ToDidKey(vk) : key;

    /// <summary>Recipient: §Key List Query; returns the keylist message.</summary>
    public Task<JsonObject> KeylistQueryAsync(string connectionId, CancellationToken ct = default) => KeylistQueryAsync(connectionId, null, null, ct);

    /// <summary>Recipient: §Key List Query with <c>paginate {limit, offset}</c>; returns the keylist message.</summary>
    public async Task<JsonObject> KeylistQueryAsync(string connectionId, int? limit, int? offset, CancellationToken ct = default)
    {
        var conn = Connection(connectionId);
        var query = New(DocUris.DidCommOrg, CoordinateFamily, "keylist-query");
        if (limit != null || offset != null)
            query.Json["paginate"] = new JsonObject { ["limit"] = limit ?? int.MaxValue, ["offset"] = offset ?? 0 };
        var keylist = await AskAsync(conn, query, "keylist", ["keylist"], ct);
        return keylist.Json;
    }

    /// <summary>The endpoint and routing keys to advertise when receiving through the mediator of <paramref name="mediatorConnectionId"/>; null if not granted.</summary>
    public ServiceRecord? RoutingFor(string mediatorConnectionId) =>
        _agent.Store.GetMediation(mediatorConnectionId) is { Role: RoleRecipient, State: StateGranted, Endpoint: { } endpoint } r
            ? new ServiceRecord { Endpoint = endpoint, RoutingKeys = [.. r.RoutingKeys] }
            : null;

    /// <summary>Registers a new key of ours with the mediator (keylist-update add) before it is used in a DID doc or invitation.</summary>
    public async Task RegisterKeyAsync(string mediatorConnectionId, string verkey, CancellationToken ct = default)
    {
        if (RoutingFor(mediatorConnectionId) == null)
            throw new InvalidOperationException($"mediation on connection {mediatorConnectionId} is not granted; request it first");
        var response = await KeylistUpdateAsync(mediatorConnectionId, [verkey], [], ct);
        var mine = TryVerkey(verkey);
        var result = (response["updated"] as JsonArray)?.OfType<JsonObject>()
            .FirstOrDefault(u => TryVerkey(JsonValues.AsString(u["recipient_key"])) == mine)?["result"];
        // "no_change" on add means the key was already registered: the route exists either way.
        if (JsonValues.AsString(result) is not (KeylistResults.Success or KeylistResults.NoChange))
            throw new InvalidOperationException($"the mediator did not register key {verkey}: result {JsonValues.AsString(result) ?? "missing"}");
    }

    /// <summary>
    /// Recipient: a new DID of ours whose service is the mediator's endpoint and routing keys (what OOB invitations and
    /// connection requests routed via <paramref name="mediatorConnectionId"/> use), its key registered with the mediator.
    /// </summary>
    public async Task<MyDid> CreateRoutedDidAsync(string mediatorConnectionId, string method, CancellationToken ct = default)
    {
        var routing = RoutingFor(mediatorConnectionId)
            ?? throw new InvalidOperationException($"mediation on connection {mediatorConnectionId} is not granted; request it first");
        var did = MyDids.Create(_agent, method, routing);
        await RegisterKeyAsync(mediatorConnectionId, did.Key.Verkey, ct);
        return did;
    }

    /// <summary>§Mediation Grant: the recipient records the endpoint and routing keys it may now share.</summary>
    private void OnMediateGrant(InboundMessage inbound)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, CoordinateFamily);
        var endpoint = OptString(inbound, "endpoint", CoordinateFamily);
        if (string.IsNullOrWhiteSpace(endpoint))
            throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "mediate-grant has no \"endpoint\"", m.ThreadId, null, conn);
        var routingKeys = new List<string>();
        if (m.Json["routing_keys"] is { } rk)
        {
            if (rk is not JsonArray arr)
                throw new ProblemReportException(CoordinateFamily, Codes.BadMessage, "mediate-grant \"routing_keys\" must be an array", m.ThreadId, null, conn);
            foreach (var k in arr)
            {
                // Both did:key (RFC 0211 1.0) and base58 (older mediators); kept as did:key for DID docs (RFC 0360).
                var vk = TryVerkey(JsonValues.AsString(k))
                    ?? throw new ProblemReportException(CoordinateFamily, Codes.BadMessage,
                        $"mediate-grant routing key '{JsonValues.Excerpt(k?.ToJsonString(), 60)}' is neither an Ed25519 did:key nor a base58 verkey", m.ThreadId, null, conn);
                routingKeys.Add(Rfc0094.ToDidKey(vk));
            }
        }
        lock (_gate)
        {
            if (_agent.Store.GetMediation(conn.Id) is not { Role: RoleRecipient, State: StateRequestSent or StateGranted } record)
                throw new ProblemReportException(CoordinateFamily, Codes.Unexpected, "mediate-grant without a mediate-request of ours on this connection", m.ThreadId, null, conn);
            record.Endpoint = endpoint;
            record.RoutingKeys = routingKeys;
            record.State = StateGranted;
            SaveAndAnnounce(record);
        }
        Complete(inbound);
    }

    private void OnMediateDeny(InboundMessage inbound)
    {
        var m = inbound.Message;
        var conn = RequireConnection(inbound, CoordinateFamily);
        lock (_gate)
        {
            if (_agent.Store.GetMediation(conn.Id) is not { Role: RoleRecipient, State: StateRequestSent or StateGranted } record)
                throw new ProblemReportException(CoordinateFamily, Codes.Unexpected, "mediate-deny without a mediate-request of ours on this connection", m.ThreadId, null, conn);
            record.State = StateDenied;
            record.Endpoint = null;
            record.RoutingKeys = [];
            SaveAndAnnounce(record);
        }
        Complete(inbound);
    }

    /// <summary>§Keylist Update Response: keeps our copy of the registered keys in step with what the mediator confirmed.</summary>
    private void OnKeylistUpdateResponse(InboundMessage inbound)
    {
        var conn = RequireConnection(inbound, CoordinateFamily);
        lock (_gate)
        {
            if (_agent.Store.GetMediation(conn.Id) is { Role: RoleRecipient, State: StateGranted } record
                && inbound.Message.Json["updated"] is JsonArray updated)
            {
                var keys = new List<string>(record.RecipientKeys);
                foreach (var u in updated.OfType<JsonObject>())
                {
                    var vk = TryVerkey(JsonValues.AsString(u["recipient_key"]));
                    var result = JsonValues.AsString(u["result"]);
                    if (vk == null || result is not (KeylistResults.Success or KeylistResults.NoChange)) continue;
                    switch (JsonValues.AsString(u["action"]))
                    {
                        case "add" when !keys.Contains(vk): keys.Add(vk); break;
                        case "remove": keys.Remove(vk); break;
                    }
                }
                record.RecipientKeys = keys;
                SaveAndAnnounce(record);
            }
        }
        Complete(inbound);
    }

    private void OnKeylist(InboundMessage inbound)
    {
        RequireConnection(inbound, CoordinateFamily);
        if (!Complete(inbound)) _agent.Debug($"keylist {inbound.Message.Id} answers no keylist-query of ours; ignored");
    }
}
