using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Agent.Connections;
using Conformance.Agent.Core;
using Conformance.Agent.OutOfBand;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Conformance.Agent.Backchannel;

/// <summary>
/// The AATH-compatible control API (shared/specs/aath/backchannel-openapi.yml) for the connection, did-exchange,
/// out-of-band and mediation topics. The harness drives every agent — ours or external — through this one API.
/// Like the AATH backchannels, it expects the agent to run in manual-accept mode: each step is an explicit call.
/// Errors: 404 unknown id, 400 bad request or wrong state (one line, no stack trace), 501 not implemented here.
/// <para>Extensions, not part of AATH (an AATH backchannel ignores them; src/agents/credo/lib/backchannel.js has the
/// same ones):</para>
/// <list type="bullet">
/// <item><c>POST out-of-band/receive-invitation</c> and <c>connection/receive-invitation</c> accept
/// <c>{"invitation_url": "https://…?oob=…"}</c> instead of the invitation object (so the harness can test URL
/// decoding).</item>
/// <item><c>POST out-of-band/send-invitation-message</c> accepts <c>"same_services_as": "&lt;@id of an earlier
/// out-of-band invitation of this agent&gt;"</c>: the new invitation names the same <c>services</c> as that one (the
/// same inline block — recipient key, endpoint, routing keys — or the same DID), so that a receiver connected through
/// the earlier invitation can recognise the inviter and answer with handshake-reuse (RFC 0434 §Reuse Messages). AATH's
/// T012-RFC0023 gets that from a public DID; this gives reuse to agents without one. 400 when the id is not an
/// out-of-band invitation this agent created.</item>
/// </list>
/// </summary>
public static class BackchannelApi
{
    public static void Map(IEndpointRouteBuilder app, ReferenceAgent agent)
    {
        var cmd = app.MapGroup("/agent/command");

        cmd.MapGet("/status", () => Results.Json(new { status = "active" }));
        cmd.MapGet("/version", () => Results.Text(Version, "text/plain"));
        cmd.MapPost("/agent/start", (JsonObject? body) => Handle(() =>
        {
            var p = body?["data"]?["parameters"] as JsonObject ?? new JsonObject();
            // "mime-type": only the DIDComm v1 envelope profile (RFC 0019) is spoken here.
            var mime = p["mime-type"];
            var mimes = mime is JsonArray a ? a.Select(x => x?.ToString()).ToList() : mime is JsonValue ? [mime.ToString()] : [];
            if (mimes.Count > 0 && !mimes.Any(m => m is "didcomm/aip1" or "didcomm/aip2;env=rfc19" or "application/didcomm-envelope-enc"))
                return Task.FromResult(NotImplemented($"mime-type {string.Join(", ", mimes)} is not supported; the reference agent speaks didcomm/aip2;env=rfc19"));
            // "inbound_transports": which of the agent's listening endpoints it advertises; [] = no inbound endpoint
            // (an edge agent that relies on return-route). Outbound: HTTP and WS are always available.
            if (p["inbound_transports"] is null)
            {
                // AATH: "If the property is left out the agent should use default configuration."
                agent.Options.Endpoints.Clear();
                agent.Options.Endpoints.AddRange(agent.DefaultEndpoints);
            }
            else if (p["inbound_transports"] is JsonArray inbound)
            {
                var wanted = inbound.Select(x => x?.ToString() ?? "").ToList();
                var unknown = wanted.Where(w => !agent.ListeningEndpoints.ContainsKey(w)).ToList();
                if (unknown.Count > 0) throw new BadRequest($"unknown inbound transport(s): {string.Join(", ", unknown)} (http, ws)");
                agent.Options.Endpoints.Clear();
                agent.Options.Endpoints.AddRange(wanted.Select(w => agent.ListeningEndpoints[w]));
            }
            return Task.FromResult(Results.Json(new { status = "active", endpoints = agent.Options.Endpoints }));
        }));

        // ------------------------------------------------------------- connection (RFC 0160)
        cmd.MapGet("/connection", () => Results.Json(agent.Store.Connections().Select(ConnectionResponse).ToList()));
        cmd.MapGet("/connection/{id}", (string id) => Handle(() =>
            Task.FromResult(Results.Json(ConnectionResponse(Connection(agent, id))))));
        cmd.MapPost("/connection/create-invitation", (JsonObject? body) => Handle(async () =>
        {
            var data = body?["data"] as JsonObject;
            var (record, invitation, url) = await agent.Connections.CreateInvitationAsync(new ConnectionsInvitationOptions
            {
                MediatorConnectionId = Str(data, "mediator_connection_id"),
                MultiUse = Bool(data, "multi_use") ?? false,
                AutoAccept = false,
            });
            return Results.Json(new JsonObject
            {
                ["connection_id"] = record.ConnectionId,
                ["invitation"] = invitation.DeepClone(),
                ["invitation_url"] = url,
            });
        }));
        cmd.MapPost("/connection/receive-invitation", (JsonObject? body) => Handle(async () =>
        {
            var data = body?["data"] as JsonObject ?? throw new BadRequest("data (the invitation) is required");
            var invitation = InvitationFrom(data);
            var mediator = Str(invitation, "mediator_connection_id");
            invitation.Remove("mediator_connection_id");
            var c = await agent.Connections.ReceiveInvitationAsync(invitation, autoAccept: false, mediatorConnectionId: mediator);
            return Results.Json(new { connection_id = c.Id, state = AathConnectionState(c) });
        }));
        cmd.MapPost("/connection/accept-invitation", (JsonObject? body) => Handle(async () =>
        {
            var c = await agent.Connections.AcceptInvitationAsync(Id(body));
            return Results.Json(new { connection_id = c.Id, state = AathConnectionState(c) });
        }));
        cmd.MapPost("/connection/accept-request", (JsonObject? body) => Handle(async () =>
        {
            var c = await agent.Connections.AcceptRequestAsync(Id(body));
            return Results.Json(new { connection_id = c.Id, state = AathConnectionState(c) });
        }));
        cmd.MapPost("/connection/send-ping", (JsonObject? body) => Handle(async () =>
        {
            var c = Connection(agent, Id(body));
            await agent.TrustPing.SendPingAsync(c, Str(body?["data"] as JsonObject, "comment"));
            return Results.Json(new { connection_id = c.Id, state = AathConnectionState(c) });
        }));

        // ------------------------------------------------------------- did (public DID, implicit invitations)
        cmd.MapGet("/did", () => Handle(() =>
        {
            if (agent.PublicDid is not { } pd) throw new NotFound("this agent has no public DID");
            return Task.FromResult(Results.Json(new { did = pd.Did, verkey = pd.Verkey }));
        }));

        // ------------------------------------------------------------- did-exchange (RFC 0023)
        cmd.MapGet("/did-exchange/{id}", (string id) => Handle(() =>
        {
            var c = Connection(agent, id);
            return Task.FromResult(Results.Json(new { connection_id = c.Id, state = AathDidExchangeState(c), connection = Record(c) }));
        }));
        app.MapGet("/agent/response/did-exchange/{invitationId}", (string invitationId) => Handle(() =>
        {
            var c = agent.Store.FindConnection(x => x.InvitationId == invitationId || x.ParentThreadId == invitationId)
                    ?? throw new NotFound($"no connection made from invitation {invitationId}");
            return Task.FromResult(Results.Json(new { connection_id = c.Id }));
        }));
        cmd.MapPost("/did-exchange/send-request", (JsonObject? body) => Handle(async () =>
        {
            var c = await agent.DidExchange.SendRequestAsync(Id(body));
            return Results.Json(new { connection_id = c.Id, state = AathDidExchangeState(c) });
        }));
        cmd.MapPost("/did-exchange/send-response", (JsonObject? body) => Handle(async () =>
        {
            var c = await agent.DidExchange.AcceptRequestAsync(Id(body));
            return Results.Json(new { connection_id = c.Id, state = AathDidExchangeState(c) });
        }));
        cmd.MapPost("/did-exchange/create-request-resolvable-did", (JsonObject? body) => Handle(async () =>
        {
            var data = body?["data"] as JsonObject ?? throw new BadRequest("data is required");
            var theirPublicDid = Str(data, "their_public_did") ?? throw new BadRequest("their_public_did is required");
            var c = await agent.DidExchange.CreateRequestToPublicDidAsync(theirPublicDid, autoAccept: false);
            return Results.Json(new { connection_id = c.Id, state = AathDidExchangeState(c) });
        }));
        // AATH T005-RFC0023 "Bob receives the request with their public DID": the request itself arrives on the
        // DIDComm endpoint; this answers with the newest connection made from our public DID (the implicit invitation).
        cmd.MapPost("/did-exchange/receive-request-resolvable-did", () => Handle(() =>
        {
            var did = agent.PublicDid?.Did ?? throw new NotFound("this agent has no public DID");
            var c = agent.Store.FindConnections(x => x.InvitationId != null && x.InvitationId.StartsWith(did, StringComparison.Ordinal))
                        .LastOrDefault() ?? throw new NotFound($"no request to the public DID {did} has arrived");
            return Task.FromResult(Results.Json(new { connection_id = c.Id, state = AathDidExchangeState(c) }));
        }));

        // ------------------------------------------------------------- out-of-band (RFC 0434)
        cmd.MapPost("/out-of-band/send-invitation-message", (JsonObject? body) => Handle(async () =>
        {
            var data = body?["data"] as JsonObject ?? new JsonObject();
            var handshakes = (data["handshake_protocols"] as JsonArray)?.Select(x => x!.GetValue<string>()).ToList();
            var attachments = (data["attachments"] as JsonArray)?.OfType<JsonObject>().Select(a => (JsonObject)a.DeepClone()).ToList() ?? [];
            // AATH: "If both handshake_protocols and attachments are not provided, default to didexchange/1.0."
            if (handshakes == null && attachments.Count == 0) handshakes = ["https://didcomm.org/didexchange/1.0"];
            var record = await agent.OutOfBand.CreateInvitationAsync(new OobInvitationOptions
            {
                HandshakeProtocols = handshakes ?? [],
                Attachments = attachments,
                UsePublicDid = Bool(data, "use_public_did") ?? false,
                MediatorConnectionId = Str(data, "mediator_connection_id"),
                GoalCode = Str(data, "goal_code"),
                Goal = Str(data, "goal"),
                MultiUse = Bool(data, "multi_use") ?? false,
                AutoAccept = false,
                // Extension (not AATH): "same_services_as": "<@id of an earlier invitation of this agent>".
                SameServicesAs = Str(data, "same_services_as"),
            });
            return Results.Json(new JsonObject
            {
                ["state"] = "invitation-sent",
                ["connection_id"] = record.ConnectionId,
                ["invitation"] = record.Invitation.DeepClone(),
                ["invitation_url"] = Conformance.Wire.Invitations.InvitationUrl.Encode(record.Invitation,
                    agent.Endpoint ?? "https://example.invalid/", Conformance.Wire.Invitations.InvitationParameter.OutOfBand),
            });
        }));
        cmd.MapPost("/out-of-band/receive-invitation", (JsonObject? body) => Handle(async () =>
        {
            var data = body?["data"] as JsonObject ?? throw new BadRequest("data (the invitation) is required");
            var invitation = InvitationFrom(data);
            var reuse = Bool(invitation, "use_existing_connection") ?? false;
            var mediator = Str(invitation, "mediator_connection_id");
            invitation.Remove("use_existing_connection");
            invitation.Remove("mediator_connection_id");
            var r = await agent.OutOfBand.ReceiveInvitationAsync(invitation, new OobReceiveOptions
            {
                UseExistingConnection = reuse,
                MediatorConnectionId = mediator,
                AutoAccept = false,
            });
            return Results.Json(new JsonObject
            {
                ["connection_id"] = r.Connection?.Id,
                ["state"] = r.Connection is { } c ? AathDidExchangeState(c) : r.State,
                ["reused"] = r.Reused,
            });
        }));

        // ------------------------------------------------------------- mediation (RFC 0211)
        cmd.MapGet("/mediation/{id}", (string id) => Handle(() =>
        {
            var m = agent.Store.GetMediation(id) ?? throw new NotFound($"no mediation record for connection {id}");
            return Task.FromResult(Results.Json(new { connection_id = m.ConnectionId, state = m.State, role = m.Role }));
        }));
        cmd.MapPost("/mediation/send-request", (JsonObject? body) => Handle(async () =>
        {
            var m = await agent.Mediation.RequestMediationAsync(Id(body));
            return Results.Json(new { connection_id = m.ConnectionId, state = m.State });
        }));
        cmd.MapPost("/mediation/send-grant", (JsonObject? body) => Handle(async () =>
        {
            var m = await agent.Mediation.GrantAsync(Id(body));
            return Results.Json(new { connection_id = m.ConnectionId, state = m.State });
        }));
        cmd.MapPost("/mediation/send-deny", (JsonObject? body) => Handle(async () =>
        {
            var m = await agent.Mediation.DenyAsync(Id(body));
            return Results.Json(new { connection_id = m.ConnectionId, state = m.State });
        }));

        // Anything else in the AATH API (credentials, proofs, ...) is out of scope: say so, don't 404.
        app.MapFallback((HttpContext ctx) => ctx.Request.Path.StartsWithSegments("/agent")
            ? NotImplemented($"{ctx.Request.Method} {ctx.Request.Path} is not implemented by the reference agent backchannel")
            : Results.NotFound());
    }

    public const string Version = "conformance-reference-1.0";

    // ------------------------------------------------------------------ state vocabularies

    /// <summary>AATH ConnectionState: invitation | request | response | active.</summary>
    public static string AathConnectionState(ConnectionRecord c) => c.State switch
    {
        "invited" or "invitation-sent" or "invitation-received" or "start" => "invitation",
        "requested" or "request-sent" or "request-received" => "request",
        "responded" or "response-sent" or "response-received" => "response",
        "complete" or "completed" => "active",
        "abandoned" or "error" => "error",
        _ => c.State,
    };

    /// <summary>AATH DidExchangeState: start, invitation-sent, invitation-received, request-sent, request-received, response-sent, response-received, abandoned, completed.</summary>
    public static string AathDidExchangeState(ConnectionRecord c) => c.State switch
    {
        "invited" => c.Role == ConnectionRole.Inviter ? "invitation-sent" : "invitation-received",
        "requested" => c.Role == ConnectionRole.Inviter ? "request-received" : "request-sent",
        "responded" => c.Role == ConnectionRole.Inviter ? "response-sent" : "response-received",
        "complete" => "completed",
        "error" => "abandoned",
        _ => c.State,
    };

    private static JsonObject ConnectionResponse(ConnectionRecord c) => new()
    {
        ["connection_id"] = c.Id,
        ["state"] = AathConnectionState(c),
        ["connection"] = Record(c),
    };

    private static JsonNode Record(ConnectionRecord c) => JsonSerializer.SerializeToNode(c)!;

    // ------------------------------------------------------------------ plumbing

    private static ConnectionRecord Connection(ReferenceAgent agent, string id) =>
        agent.Store.GetConnection(id) ?? throw new NotFound($"no connection {id}");

    private static string Id(JsonObject? body) =>
        Str(body, "id") ?? Str(body?["data"] as JsonObject, "id") ?? throw new BadRequest("id is required");

    /// <summary>
    /// The invitation of a receive-invitation call: the AATH form (the invitation object itself), or — an extension of
    /// this backchannel, so the harness can test URL decoding (RFC 0160: padded and unpadded base64url) —
    /// <c>{"invitation_url": "https://…?c_i=…"}</c>. Other fields of data (use_existing_connection, …) are kept.
    /// </summary>
    private static JsonObject InvitationFrom(JsonObject data)
    {
        var copy = (JsonObject)data.DeepClone();
        if (Str(copy, "invitation_url") is not { } url) return copy;
        var decoded = (JsonObject)Conformance.Wire.Invitations.InvitationUrl.Decode(url).Message.DeepClone();
        copy.Remove("invitation_url");
        foreach (var (k, v) in copy) decoded[k] = v?.DeepClone();
        return decoded;
    }

    private static string? Str(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    private static bool? Bool(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    private static IResult NotImplemented(string why) => Results.Json(new { error = why }, statusCode: 501);

    private static async Task<IResult> Handle(Func<Task<IResult>> action)
    {
        try { return await action(); }
        catch (NotFound e) { return Results.Json(new { error = e.Message }, statusCode: 404); }
        catch (BadRequest e) { return Results.Json(new { error = e.Message }, statusCode: 400); }
        catch (NotImplementedException e) { return NotImplemented(e.Message); }
        catch (InvalidOperationException e) { return Results.Json(new { error = e.Message }, statusCode: 400); }
        catch (ProblemReportException e) { return Results.Json(new { error = e.Explain, problem_code = e.Code }, statusCode: 400); }
        catch (Exception e) when (e is Conformance.Wire.Dids.DidException or Conformance.Wire.Invitations.InvitationException
                                      or Conformance.Wire.Messages.MessageFormatException or Transport.DeliveryException or HttpRequestException)
        {
            return Results.Json(new { error = e.Message }, statusCode: 400);
        }
        catch (Exception e)
        {
            return Results.Json(new { error = "internal error: " + e.GetType().Name }, statusCode: 500);
        }
    }

    private sealed class NotFound(string m) : Exception(m);
    private sealed class BadRequest(string m) : Exception(m);
}
