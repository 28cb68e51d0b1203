using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Mediator;

/// <summary>
/// Coordinate Mediation 2.0, mediator role (shared/specs/didcomm-v2-protocols/coordinate-mediation-2.0.md; Identus
/// Coordinate-Mediation-Protocol.md for the state machine).
/// <list type="bullet">
/// <item>mediate-request → mediate-grant <c>{"routing_did": "&lt;mediator DID&gt;"}</c> ("DID of the mediator where
/// forwarded messages should be sent"), or mediate-deny when <see cref="MediatorOptions.MediationPolicy"/> says no.
/// A repeated request from a granted client is granted again (same routing_did).</item>
/// <item>keylist-update → keylist-update-response, one entry per update: "result: one of client_error, server_error,
/// no_change, success". add: success, no_change (already this client's) or client_error (not a DID, or registered by
/// another client); remove: success or no_change.</item>
/// <item>keylist-query → keylist; "paginate: is optional, and if present must include limit and offset"; the answer's
/// "pagination ... if present must include count, offset and remaining".</item>
/// </list>
/// Every message needs an authenticated sender (authcrypt or signed): the grant is for that DID. keylist-update and
/// keylist-query from a DID without a grant → <see cref="ProblemCodes.NotEnrolled"/> (Identus M1B).
/// </summary>
internal static class CoordinateMediationProtocol
{
    public static async Task<V2Message?> HandleAsync(MediatorEngine engine, Inbound inbound)
    {
        var client = inbound.RequireSender();
        var m = inbound.Message;
        switch (m.Type)
        {
            case MessageTypes.MediateRequest:
                if (engine.Options.MediationPolicy is { } policy && !policy(client))
                    return engine.Reply(inbound, MessageTypes.MediateDeny, []);
                await engine.Mediation.GrantAsync(client, inbound.Ct);
                return engine.Reply(inbound, MessageTypes.MediateGrant, new JsonObject { ["routing_did"] = engine.Identity.Did });

            case MessageTypes.KeylistUpdate:
            {
                RequireEnrolled(engine, client);
                if (m.Body["updates"] is not JsonArray updates) throw Bad("keylist-update: body.updates must be an array");
                var updated = new JsonArray();
                foreach (var u in updates)
                {
                    if (u is not JsonObject o || Str(o, "recipient_did") is not { } did || Str(o, "action") is not { } action)
                        throw Bad("keylist-update: each update needs a recipient_did and an action");
                    KeyUpdateResult result;
                    if (action is not ("add" or "remove")) result = KeyUpdateResult.ClientError;
                    else if (!did.StartsWith("did:", StringComparison.Ordinal) || did.Length < 8) result = KeyUpdateResult.ClientError;
                    else
                    {
                        try
                        {
                            result = action == "add"
                                ? await engine.Mediation.AddKeyAsync(client, did, inbound.Ct)
                                : await engine.Mediation.RemoveKeyAsync(client, did, inbound.Ct);
                        }
                        catch (StorageException e)
                        {
                            engine.Log("keylist-update: " + e.Message);
                            result = KeyUpdateResult.ServerError;
                        }
                    }
                    updated.Add(new JsonObject { ["recipient_did"] = did, ["action"] = action, ["result"] = Name(result) });
                }
                return engine.Reply(inbound, MessageTypes.KeylistUpdateResponse, new JsonObject { ["updated"] = updated });
            }

            case MessageTypes.KeylistQuery:
            {
                RequireEnrolled(engine, client);
                int offset = 0, limit = int.MaxValue;
                var paginated = m.Body["paginate"] is JsonObject;
                if (m.Body["paginate"] is JsonObject p)
                {
                    limit = Int(p, "limit") ?? throw Bad("keylist-query: paginate must include limit and offset");
                    offset = Int(p, "offset") ?? throw Bad("keylist-query: paginate must include limit and offset");
                    if (limit < 0 || offset < 0) throw Bad("keylist-query: limit and offset must not be negative");
                }
                var (keys, total) = await engine.Mediation.ListKeysAsync(client, offset, limit, inbound.Ct);
                var body = new JsonObject { ["keys"] = new JsonArray(keys.Select(k => (JsonNode)new JsonObject { ["recipient_did"] = k }).ToArray()) };
                if (paginated)
                    body["pagination"] = new JsonObject
                    {
                        ["count"] = keys.Count,
                        ["offset"] = offset,
                        ["remaining"] = Math.Max(0, total - offset - keys.Count),
                    };
                return engine.Reply(inbound, MessageTypes.Keylist, body);
            }
        }
        throw new DidCommException(ProblemCodes.Unsupported, m.Type);
    }

    internal static void RequireEnrolled(MediatorEngine engine, string client)
    {
        if (!engine.Mediation.IsEnrolled(client)) throw new DidCommException(ProblemCodes.NotEnrolled, client);
    }

    private static string Name(KeyUpdateResult r) => r switch
    {
        KeyUpdateResult.Success => "success",
        KeyUpdateResult.NoChange => "no_change",
        KeyUpdateResult.ClientError => "client_error",
        _ => "server_error",
    };

    internal static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    /// <summary>An integer member; tolerant of a numeric string (agents in the field send "10").</summary>
    internal static int? Int(JsonObject o, string name)
    {
        if (o[name] is not JsonValue v) return null;
        return v.GetValueKind() switch
        {
            JsonValueKind.Number when v.TryGetValue<int>(out var i) => i,
            JsonValueKind.Number when v.TryGetValue<double>(out var d) && d == Math.Floor(d) && d is >= int.MinValue and <= int.MaxValue => (int)d,
            JsonValueKind.String when int.TryParse(v.GetValue<string>(), out var s) => s,
            _ => null,
        };
    }

    private static DidCommException Bad(string detail) => new(ProblemCodes.Malformed, detail);
}
