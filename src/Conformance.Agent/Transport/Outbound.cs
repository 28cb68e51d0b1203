using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Crypto;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Transport;

/// <summary>
/// Sending: pack (RFC 0019 authcrypt, or anoncrypt without a sender key), wrap for each routing key (RFC 0094),
/// then deliver: on an open return-route session of the recipient if there is one (RFC 0092), else to the endpoint
/// over HTTP or WebSocket, else — for an endpoint-less recipient — into the store's queue for pickup.
/// Replies that come back on an HTTP response body or on a WebSocket we opened are fed to the inbound pipeline.
/// </summary>
public sealed class Outbound : IDisposable
{
    public const string MediaType = "application/didcomm-envelope-enc";
    public const string LegacyMediaType = "application/ssi-agent-wire";

    private readonly ReferenceAgent _agent;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, IInboundSession> _returnRoutes = new();
    private readonly ConcurrentDictionary<string, OutboundSocket> _sockets = new();

    public Outbound(ReferenceAgent agent)
    {
        _agent = agent;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64 })
        { Timeout = agent.Options.OutboundTimeout };
    }

    /// <summary>The media type put on outbound HTTP posts (the harness can switch to the legacy one).</summary>
    public string ContentType { get; set; } = MediaType;

    /// <summary>How envelopes are packed (cipher, padding); the harness varies it to test other agents' unpackers.</summary>
    public PackOptions PackOptions { get; set; } = PackOptions.Default;

    /// <summary>Remembers that replies to <paramref name="theirVerkey"/> may travel back on <paramref name="session"/>.</summary>
    public void RegisterReturnRoute(string theirVerkey, IInboundSession session)
    {
        if (session.ReturnRoute is "all" or "thread") _returnRoutes[theirVerkey] = session;
    }

    /// <summary>Sends a message on a connection, from the connection's key to the other side's service.</summary>
    public async Task SendAsync(AgentMessage message, ConnectionRecord connection, CancellationToken ct = default)
    {
        var service = connection.TheirService ?? throw new InvalidOperationException($"connection {connection.Id} has no service to send to");
        var sender = connection.MyVerkey is { } vk ? _agent.Wallet.Get(vk) : null;
        await SendToServiceAsync(message, service, sender, connection.Id, ct);
        // RFC 0160 §3: "After a message is sent, the invitee [is] in the complete state." (A problem report confirms nothing.)
        if (!ProblemReport.ProblemReports.IsProblemReport(message.Type)) _agent.Connections.OnMessageSent(connection);
    }

    /// <summary>Sends a message to a service block (invitation or DID doc); <paramref name="sender"/> null = anoncrypt.</summary>
    public async Task SendToServiceAsync(AgentMessage message, ServiceRecord service, Ed25519KeyPair? sender, string? connectionId, CancellationToken ct = default)
    {
        if (service.RecipientKeys.Count == 0) throw new InvalidOperationException("the service has no recipient keys");
        var json = message.Json;
        // An agent without an endpoint asks for replies on the same transport (RFC 0092).
        if (_agent.Endpoint == null && json["~transport"] == null)
            json["~transport"] = new JsonObject { ["return_route"] = "all" };

        var plan = _agent.Misbehaviour.Apply(message, _agent);
        json = plan.Message.Json;
        var plaintext = json.ToJsonString();
        var signer = plan.SenderOverride ?? sender;
        var packed = Rfc0019.Pack(System.Text.Encoding.UTF8.GetBytes(plaintext), service.RecipientKeys, signer, _agent.Entropy, PackOptions);
        var wrapped = Rfc0094.Wrap(packed, service.RecipientKeys[0], service.RoutingKeys, _agent.Entropy);
        var bytes = System.Text.Encoding.UTF8.GetBytes(wrapped);

        try
        {
            for (int i = 0; i < plan.Copies; i++)
                await DeliverAsync(bytes, wrapped, json, plan.Message.Type.ToString(), service, sender?.Verkey, connectionId, ct);
        }
        catch (Exception e) when (_agent.Misbehaviour.SwallowDeliveryFailures && e is DeliveryException or HttpRequestException or TaskCanceledException or WebSocketException)
        {
            _agent.Debug($"delivery to {service.Endpoint} failed and was swallowed (test double): {e.Message}");
        }
    }

    /// <summary>
    /// Hands on an envelope that is already packed — a mediator passing a forwarded message (RFC 0094) to its
    /// recipient: on an open return-route session of the recipient, else to its http/ws endpoint. Returns false,
    /// without queueing anything, when there is neither (the caller keeps the message for pickup); throws
    /// <see cref="DeliveryException"/> (or <see cref="HttpRequestException"/>) when the endpoint refuses it.
    /// </summary>
    public Task<bool> DeliverPackedAsync(byte[] envelope, ServiceRecord service, string? connectionId, CancellationToken ct = default)
    {
        if (service.RecipientKeys.Count == 0) throw new InvalidOperationException("the service has no recipient keys");
        return DeliverAsync(envelope, System.Text.Encoding.UTF8.GetString(envelope), null, null, service, null, connectionId, ct, queueWhenNoRoute: false);
    }

    private async Task<bool> DeliverAsync(byte[] bytes, string wrapped, JsonObject? plaintext, string? type, ServiceRecord service, string? senderVerkey, string? connectionId, CancellationToken ct,
        bool queueWhenNoRoute = true)
    {
        var recipient = service.RecipientKeys[0];
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        void Tap(string transport, string? note = null) => _agent.Emit(new WireEvent(_agent.Clock.Now(), "out", type, plaintext, wrapped, transport,
            service.Endpoint, senderVerkey, recipient, connectionId, note, started));

        // 1. An open return-route session from the recipient (edge agent without endpoint, or it asked for it).
        foreach (var key in service.RecipientKeys)
        {
            if (_returnRoutes.TryGetValue(key, out var session) && session.IsOpen && await session.TrySendAsync(bytes, ct))
            {
                Tap("return-route");
                return true;
            }
        }

        var endpoint = service.Endpoint;
        if (endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue(ContentType);
            HttpResponseMessage sent;
            try { sent = await _http.PostAsync(endpoint, content, ct); }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                Tap("http", $"no answer within {_http.Timeout.TotalSeconds:0} s");
                throw new DeliveryException($"POST {endpoint}: no answer within {_http.Timeout.TotalSeconds:0} s");
            }
            catch (HttpRequestException e)
            {
                Tap("http", "not delivered: " + e.Message);
                throw new DeliveryException($"POST {endpoint}: {e.Message}");
            }
            using var response = sent;
            Tap("http", "HTTP " + (int)response.StatusCode);
            if (!response.IsSuccessStatusCode)
                throw new DeliveryException($"POST {endpoint} answered HTTP {(int)response.StatusCode}");
            var reply = await response.Content.ReadAsByteArrayAsync(ct);
            if (reply.Length > 0 && Rfc0019.LooksLikeEnvelope(reply))
                await _agent.ReceiveAsync(reply, null, ct);
            return true;
        }
        if (endpoint.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || endpoint.StartsWith("wss://", StringComparison.OrdinalIgnoreCase))
        {
            var socket = await SocketFor(endpoint, ct);
            // Recorded before the send: the answer can come back on this socket (and be recorded by its reader)
            // before SendAsync returns, and the wire log must show the message before its answer.
            Tap("ws");
            await socket.SendAsync(bytes, ct);
            return true;
        }
        if (!queueWhenNoRoute) return false;
        // No usable endpoint (e.g. "didcomm:transport/queue" or none): hold it for the recipient to pick up.
        _agent.Store.Enqueue(recipient, _agent.NewId(), bytes, _agent.Clock.Now());
        Tap("queue");
        return true;
    }

    private async Task<OutboundSocket> SocketFor(string endpoint, CancellationToken ct)
    {
        if (_sockets.TryGetValue(endpoint, out var existing) && (existing.IsOpen || _agent.Misbehaviour.ReuseDeadSockets)) return existing;
        var s = new OutboundSocket(_agent, endpoint);
        await s.ConnectAsync(ct);
        _sockets[endpoint] = s;
        return s;
    }

    public void Dispose()
    {
        foreach (var s in _sockets.Values) s.Dispose();
        _http.Dispose();
    }

    /// <summary>A WebSocket we opened to a peer; whatever the peer sends back on it is inbound traffic.</summary>
    private sealed class OutboundSocket(ReferenceAgent agent, string endpoint) : IDisposable, IInboundSession
    {
        private readonly ClientWebSocket _ws = new();
        private readonly SemaphoreSlim _sendGate = new(1, 1);
        private readonly CancellationTokenSource _cts = new();

        public string Transport => "ws";
        public string ReturnRoute { get; set; } = "all";
        public string? ReturnRouteThread { get; set; }
        public bool IsOpen => _ws.State == WebSocketState.Open;

        public async Task ConnectAsync(CancellationToken ct)
        {
            await _ws.ConnectAsync(new Uri(endpoint), ct);
            _ = Task.Run(ReceiveLoop);
        }

        public async Task SendAsync(byte[] bytes, CancellationToken ct)
        {
            await _sendGate.WaitAsync(ct);
            try { await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct); }
            finally { _sendGate.Release(); }
        }

        public async Task<bool> TrySendAsync(byte[] envelope, CancellationToken ct)
        {
            if (!IsOpen) return false;
            await SendAsync(envelope, ct);
            return true;
        }

        private async Task ReceiveLoop()
        {
            try
            {
                while (IsOpen)
                {
                    var body = await WebSocketFrames.ReadMessageAsync(_ws, agent.Options.MaxInboundBytes, _cts.Token);
                    if (body == null) break;
                    await agent.ReceiveAsync(body, this, _cts.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                agent.Debug($"outbound socket {endpoint} closed: {e.Message}");
            }
        }

        public void Dispose()
        {
            _cts.Cancel();
            _ws.Dispose();
        }
    }
}

/// <summary>A message could not be delivered (connection refused, HTTP error, socket closed).</summary>
public sealed class DeliveryException(string message) : Exception(message);

public static class WebSocketFrames
{
    /// <summary>Reads one whole WebSocket message; null when the peer closed; throws if it exceeds <paramref name="max"/>.</summary>
    public static async Task<byte[]?> ReadMessageAsync(WebSocket ws, int max, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buffer, 0, r.Count);
            if (ms.Length > max) throw new WebSocketException("message too large");
            if (r.EndOfMessage) return ms.ToArray();
        }
    }
}
