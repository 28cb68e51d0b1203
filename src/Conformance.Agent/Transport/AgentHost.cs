using System.Net;
using System.Net.WebSockets;
using Conformance.Agent.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Agent.Transport;

public sealed class AgentHostOptions
{
    /// <summary>DIDComm inbound port (HTTP and WebSocket on the same port); 0 = pick a free one.</summary>
    public int Port { get; set; }
    /// <summary>Backchannel (AATH control API) port; 0 = pick a free one; -1 = no backchannel.</summary>
    public int BackchannelPort { get; set; } = -1;
    /// <summary>Address to bind. Loopback by default: only loopback and our own containers are traffic targets.</summary>
    public IPAddress Bind { get; set; } = IPAddress.Loopback;
    /// <summary>Advertise the HTTP endpoint, the WebSocket endpoint, or both (first one listed is preferred).</summary>
    public bool AdvertiseHttp { get; set; } = true;
    public bool AdvertiseWs { get; set; }
    /// <summary>An edge agent: no inbound endpoint is advertised; replies come back over return-route.</summary>
    public bool NoInbound { get; set; }
    /// <summary>Give the agent a public DID (did:web served from this host) once it listens: an implicit invitation.</summary>
    public bool PublicDid { get; set; }
}

/// <summary>
/// Kestrel hosting for one reference agent: DIDComm inbound over HTTP POST and WebSocket on one port, and the AATH
/// backchannel on another (127.0.0.1). Accepts <c>application/didcomm-envelope-enc</c> and the legacy
/// <c>application/ssi-agent-wire</c> (and plain JSON, which some agents send). Status codes: 202 accepted,
/// 200 with a body when a return-routed reply travels back, 400 rejected (with a one-line reason), 413 too large,
/// 415 unsupported media type. Never a stack trace on the wire.
/// </summary>
public sealed class AgentHost : IAsyncDisposable
{
    private readonly WebApplication _didcomm;
    private readonly WebApplication? _backchannel;

    private AgentHost(ReferenceAgent agent, WebApplication didcomm, WebApplication? backchannel, Uri http, Uri ws, Uri? bc)
    {
        Agent = agent;
        _didcomm = didcomm;
        _backchannel = backchannel;
        HttpEndpoint = http;
        WsEndpoint = ws;
        BackchannelUrl = bc;
    }

    public ReferenceAgent Agent { get; }
    public Uri HttpEndpoint { get; }
    public Uri WsEndpoint { get; }
    public Uri? BackchannelUrl { get; }

    public static async Task<AgentHost> StartAsync(ReferenceAgent agent, AgentHostOptions options, CancellationToken ct = default)
    {
        var didcomm = Build(options.Bind, options.Port, agent.Options.MaxInboundBytes);
        didcomm.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        MapDidComm(didcomm, agent);
        PublicPages.Map(didcomm, agent);
        await didcomm.StartAsync(ct);
        var port = BoundPort(didcomm);
        var host = options.Bind.Equals(IPAddress.Any) ? "127.0.0.1" : options.Bind.ToString();
        var http = new Uri($"http://{host}:{port}/");
        var ws = new Uri($"ws://{host}:{port}/");

        agent.ListeningEndpoints["http"] = http.ToString().TrimEnd('/');
        agent.ListeningEndpoints["ws"] = ws.ToString().TrimEnd('/');
        if (!options.NoInbound && agent.Options.Endpoints.Count == 0)
        {
            if (options.AdvertiseHttp) agent.Options.Endpoints.Add(http.ToString().TrimEnd('/'));
            if (options.AdvertiseWs) agent.Options.Endpoints.Add(ws.ToString().TrimEnd('/'));
        }

        agent.DefaultEndpoints.Clear();
        agent.DefaultEndpoints.AddRange(agent.Options.Endpoints);
        if (options.PublicDid && !options.NoInbound) DidExchange.PublicDids.Ensure(agent);

        WebApplication? backchannel = null;
        Uri? bcUrl = null;
        if (options.BackchannelPort >= 0)
        {
            backchannel = Build(IPAddress.Loopback, options.BackchannelPort, 1024 * 1024);
            Backchannel.BackchannelApi.Map(backchannel, agent);
            await backchannel.StartAsync(ct);
            bcUrl = new Uri($"http://127.0.0.1:{BoundPort(backchannel)}/");
        }
        return new AgentHost(agent, didcomm, backchannel, http, ws, bcUrl);
    }

    private static WebApplication Build(IPAddress bind, int port, int maxBody)
    {
        // The empty builder: Kestrel's core (HTTP/1.1 and HTTP/2; no TLS, no QUIC) and routing, nothing else — no
        // configuration files read from the working directory (or watched), no logging providers, no host filtering.
        // It starts in a fraction of the time of the default builder (`conformance bench handshake` measures it).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(bind, port);
            k.Limits.MaxRequestBodySize = maxBody + 1;
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        return builder.Build();
    }

    private static int BoundPort(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    private static readonly string[] AcceptedMediaTypes =
        ["application/didcomm-envelope-enc", "application/ssi-agent-wire", "application/json"];

    private static void MapDidComm(WebApplication app, ReferenceAgent agent)
    {
        app.MapPost("/", async (HttpContext ctx) =>
        {
            var mediaType = ctx.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            if (mediaType != null && !AcceptedMediaTypes.Contains(mediaType))
                return Results.Json(new { error = $"unsupported media type {mediaType}; use application/didcomm-envelope-enc" }, statusCode: 415);
            byte[] body;
            try { body = await ReadBody(ctx.Request, agent.Options.MaxInboundBytes, ctx.RequestAborted); }
            catch (BadHttpRequestException) { return Results.Json(new { error = "message too large" }, statusCode: 413); }
            var session = new HttpInboundSession();
            var result = await agent.ReceiveAsync(body, session, ctx.RequestAborted);
            session.Close();
            return result.Outcome switch
            {
                InboundOutcome.TooLarge => Results.Json(new { error = result.Error }, statusCode: 413),
                InboundOutcome.Rejected => Results.Json(new { error = result.Error }, statusCode: 400),
                _ when session.Reply != null => Results.Bytes(session.Reply, Outbound.MediaType),
                _ => Results.StatusCode(202),
            };
        });

        // WebSocket upgrades are taken here, ahead of the endpoints: as an endpoint, "/" would lose the GET upgrade
        // request to the landing page (PublicPages' MapGet("/") is the more specific match).
        app.Use(async (HttpContext ctx, Func<Task> next) =>
        {
            if (!ctx.WebSockets.IsWebSocketRequest || ctx.Request.Path != "/")
            {
                await next();
                return;
            }
            using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
            var session = new WsInboundSession(ws);
            // A stopping host ends its sockets rather than waiting out Kestrel's shutdown timeout for peers to close them.
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, app.Lifetime.ApplicationStopping);
            try
            {
                while (ws.State == WebSocketState.Open)
                {
                    var body = await WebSocketFrames.ReadMessageAsync(ws, agent.Options.MaxInboundBytes, ended.Token);
                    if (body == null) break;
                    await agent.ReceiveAsync(body, session, ended.Token);
                }
                if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                agent.Debug("inbound websocket ended: " + e.Message);
            }
        });
    }

    private static async Task<byte[]> ReadBody(HttpRequest request, int max, CancellationToken ct)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms, ct);
        if (ms.Length > max) throw new BadHttpRequestException("too large", 413);
        return ms.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _didcomm.StopAsync();
        await _didcomm.DisposeAsync();
        if (_backchannel != null)
        {
            await _backchannel.StopAsync();
            await _backchannel.DisposeAsync();
        }
    }

    /// <summary>An HTTP request: it can carry one reply back in its response body while it is open.</summary>
    private sealed class HttpInboundSession : IInboundSession
    {
        private readonly Lock _gate = new();
        private bool _closed;
        public string Transport => "http";
        public string ReturnRoute { get; set; } = "none";
        public string? ReturnRouteThread { get; set; }
        public byte[]? Reply { get; private set; }
        public bool IsOpen { get { lock (_gate) return !_closed && Reply == null && ReturnRoute != "none"; } }

        public Task<bool> TrySendAsync(byte[] envelope, CancellationToken ct)
        {
            lock (_gate)
            {
                if (_closed || Reply != null || ReturnRoute == "none") return Task.FromResult(false);
                Reply = envelope;
                return Task.FromResult(true);
            }
        }

        public void Close() { lock (_gate) _closed = true; }
    }

    /// <summary>An inbound WebSocket: carries any number of replies while it is open and return-route was asked for.</summary>
    private sealed class WsInboundSession(WebSocket ws) : IInboundSession
    {
        private readonly SemaphoreSlim _sendGate = new(1, 1);
        public string Transport => "ws";
        public string ReturnRoute { get; set; } = "none";
        public string? ReturnRouteThread { get; set; }
        public bool IsOpen => ws.State == WebSocketState.Open && ReturnRoute != "none";

        public async Task<bool> TrySendAsync(byte[] envelope, CancellationToken ct)
        {
            if (!IsOpen) return false;
            await _sendGate.WaitAsync(ct);
            try
            {
                await ws.SendAsync(envelope, WebSocketMessageType.Text, true, ct);
                return true;
            }
            catch (WebSocketException) { return false; }
            finally { _sendGate.Release(); }
        }
    }
}
