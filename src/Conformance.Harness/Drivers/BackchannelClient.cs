using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Conformance.Harness.Drivers;

/// <summary>
/// A client for the Aries Agent Test Harness backchannel (shared/specs/aath/backchannel-openapi.yml): the one API
/// through which the harness drives every agent, ours or external. Only the connection, did-exchange, out-of-band
/// and mediation topics are used. A 501 (or 404 on an unknown route) means the agent declares it does not do this:
/// <see cref="BackchannelUnsupportedException"/>, graded UNSUPPORTED. Other failures are
/// <see cref="BackchannelException"/> with the status and the agent's own words.
/// </summary>
public sealed class BackchannelClient : IDisposable
{
    private readonly HttpClient _http;

    public BackchannelClient(Uri baseUrl, TimeSpan? timeout = null)
    {
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUrl { get; }

    // ------------------------------------------------------------------ status

    public async Task<bool> IsActiveAsync(CancellationToken ct = default)
    {
        try
        {
            using var r = await _http.GetAsync("agent/command/status", ct);
            return r.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }

    public async Task<string> VersionAsync(CancellationToken ct = default)
    {
        using var r = await _http.GetAsync("agent/command/version", ct);
        return r.IsSuccessStatusCode ? (await r.Content.ReadAsStringAsync(ct)).Trim() : "unknown";
    }

    public Task<JsonObject> StartAsync(JsonObject parameters, CancellationToken ct = default) =>
        PostAsync("agent/command/agent/start", new JsonObject { ["data"] = new JsonObject { ["parameters"] = parameters } }, ct);

    // ------------------------------------------------------------------ connection (RFC 0160)

    public Task<JsonObject> ConnectionCreateInvitationAsync(JsonObject? data = null, CancellationToken ct = default) =>
        PostAsync("agent/command/connection/create-invitation", new JsonObject { ["data"] = data ?? new JsonObject() }, ct);

    public Task<JsonObject> ConnectionReceiveInvitationAsync(JsonObject invitation, CancellationToken ct = default) =>
        PostAsync("agent/command/connection/receive-invitation", new JsonObject { ["data"] = invitation }, ct);

    public Task<JsonObject> ConnectionAcceptInvitationAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/connection/accept-invitation", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> ConnectionAcceptRequestAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/connection/accept-request", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> ConnectionSendPingAsync(string connectionId, string comment, CancellationToken ct = default) =>
        PostAsync("agent/command/connection/send-ping", new JsonObject { ["id"] = connectionId, ["data"] = new JsonObject { ["comment"] = comment } }, ct);

    public Task<JsonObject> ConnectionAsync(string connectionId, CancellationToken ct = default) =>
        GetAsync($"agent/command/connection/{Uri.EscapeDataString(connectionId)}", ct);

    public async Task<JsonArray> ConnectionsAsync(CancellationToken ct = default) =>
        (await SendAsync(HttpMethod.Get, "agent/command/connection", null, ct)) as JsonArray ?? [];

    // ------------------------------------------------------------------ did-exchange (RFC 0023)

    public Task<JsonObject> DidExchangeSendRequestAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/did-exchange/send-request", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> DidExchangeSendResponseAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/did-exchange/send-response", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> DidExchangeAsync(string connectionId, CancellationToken ct = default) =>
        GetAsync($"agent/command/did-exchange/{Uri.EscapeDataString(connectionId)}", ct);

    public Task<JsonObject> DidExchangeByInvitationAsync(string invitationId, CancellationToken ct = default) =>
        GetAsync($"agent/response/did-exchange/{Uri.EscapeDataString(invitationId)}", ct);

    public Task<JsonObject> DidExchangeCreateRequestResolvableDidAsync(string theirPublicDid, string theirDid, CancellationToken ct = default) =>
        PostAsync("agent/command/did-exchange/create-request-resolvable-did",
            new JsonObject { ["data"] = new JsonObject { ["their_public_did"] = theirPublicDid, ["their_did"] = theirDid } }, ct);

    public Task<JsonObject> PublicDidAsync(CancellationToken ct = default) => GetAsync("agent/command/did", ct);

    // ------------------------------------------------------------------ out-of-band (RFC 0434)

    public Task<JsonObject> OobSendInvitationMessageAsync(JsonObject data, CancellationToken ct = default) =>
        PostAsync("agent/command/out-of-band/send-invitation-message", new JsonObject { ["data"] = data }, ct);

    public Task<JsonObject> OobReceiveInvitationAsync(JsonObject invitation, bool useExistingConnection, CancellationToken ct = default)
    {
        var data = (JsonObject)invitation.DeepClone();
        data["use_existing_connection"] = useExistingConnection;
        return PostAsync("agent/command/out-of-band/receive-invitation", new JsonObject { ["data"] = data }, ct);
    }

    // ------------------------------------------------------------------ mediation (RFC 0211)

    public Task<JsonObject> MediationSendRequestAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/mediation/send-request", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> MediationSendGrantAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/mediation/send-grant", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> MediationSendDenyAsync(string connectionId, CancellationToken ct = default) =>
        PostAsync("agent/command/mediation/send-deny", new JsonObject { ["id"] = connectionId }, ct);

    public Task<JsonObject> MediationAsync(string connectionId, CancellationToken ct = default) =>
        GetAsync($"agent/command/mediation/{Uri.EscapeDataString(connectionId)}", ct);

    // ------------------------------------------------------------------ plumbing

    public Task<JsonObject> PostAsync(string path, JsonObject body, CancellationToken ct) => AsObject(SendAsync(HttpMethod.Post, path, body, ct), path);
    public Task<JsonObject> GetAsync(string path, CancellationToken ct) => AsObject(SendAsync(HttpMethod.Get, path, null, ct), path);

    private static async Task<JsonObject> AsObject(Task<JsonNode?> t, string path) =>
        await t as JsonObject ?? throw new BackchannelException(path, 200, "expected a JSON object");

    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body != null) req.Content = JsonContent.Create(body);
        HttpResponseMessage r;
        try { r = await _http.SendAsync(req, ct); }
        catch (HttpRequestException e) { throw new BackchannelException(path, 0, "backchannel unreachable: " + e.Message); }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { throw new BackchannelException(path, 0, "backchannel timed out"); }
        using (r)
        {
            var text = await r.Content.ReadAsStringAsync(ct);
            if (r.StatusCode is HttpStatusCode.NotImplemented)
                throw new BackchannelUnsupportedException(path, text);
            if (!r.IsSuccessStatusCode)
                throw new BackchannelException(path, (int)r.StatusCode, text.Length > 500 ? text[..500] : text);
            if (string.IsNullOrWhiteSpace(text)) return new JsonObject();
            try { return JsonNode.Parse(text); }
            catch (System.Text.Json.JsonException) { return new JsonObject { ["text"] = text }; }
        }
    }

    public void Dispose() => _http.Dispose();
}

public class BackchannelException(string path, int status, string detail)
    : Exception($"backchannel {path}: {(status == 0 ? "" : "HTTP " + status + ": ")}{detail}")
{
    public string Path { get; } = path;
    public int Status { get; } = status;
    public string Detail { get; } = detail;
}

/// <summary>The agent says it does not support this operation (HTTP 501): graded UNSUPPORTED, not ERROR.</summary>
public sealed class BackchannelUnsupportedException(string path, string detail) : BackchannelException(path, 501, detail);
