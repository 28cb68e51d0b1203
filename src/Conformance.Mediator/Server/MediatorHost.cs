using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Encoding;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Mediator;

/// <summary>
/// The mediator as a Kestrel service: DIDComm over HTTP POST and WebSocket on ONE port (transports.md "HTTPS" and
/// "WebSockets"), bound to 127.0.0.1 unless told otherwise.
/// <list type="bullet">
/// <item><c>POST /</c> with <c>application/didcomm-encrypted+json</c> (or <c>-signed+json</c>; a missing or generic JSON
/// content type is tolerated): 202 and an empty body when there is nothing to return ("202 Accepted is recommended"),
/// 200 with the reply envelope when a return-routed reply goes back, 400 with a one-line JSON error
/// (<c>{"error":…,"code":…}</c>) when the message cannot be unpacked and names nobody to report to, 413 when too large,
/// 415 for another media type. Never a stack trace.</item>
/// <item><c>GET /</c> with a WebSocket upgrade: one DIDComm message per WebSocket message, in either direction.</item>
/// <item><c>GET /did</c> (the mediator DID as text), <c>GET /invitation</c> (an out-of-band 2.0 invitation with goal
/// <c>request-mediate</c>, as the Identus mediator serves), <c>GET /health</c>.</item>
/// </list>
/// The mediator's identity (its X25519 and Ed25519 secrets) is kept in the store, so a restart on the same database keeps
/// the same keys — and the same DID when the endpoints are the same; DIDs it had before stay accepted as recipients.
/// </summary>
public sealed class MediatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MediatorEngine _engine;
    private readonly Outbound _outbound;
    private readonly string? _tempDir;
    private bool _disposed;

    private MediatorHost(WebApplication app, MediatorEngine engine, Outbound outbound, Uri http, Uri ws, string? tempDir)
    {
        _app = app;
        _engine = engine;
        _outbound = outbound;
        HttpEndpoint = http;
        WsEndpoint = ws;
        _tempDir = tempDir;
    }

    /// <summary>The mediator's did:peer:2 (with DIDCommMessaging services for <see cref="HttpEndpoint"/> and <see cref="WsEndpoint"/>).</summary>
    public string Did => _engine.Identity.Did;
    public Uri HttpEndpoint { get; }
    public Uri WsEndpoint { get; }
    public IMessageQueue Queue => _engine.Queue;
    public IMediationStore Mediation => _engine.Mediation;
    public MediatorCounters Counters => _engine.Counters;

    /// <summary>One JSON line: did, http, ws, store.</summary>
    public string DescribeJson() => new JsonObject
    {
        ["did"] = Did,
        ["http"] = HttpEndpoint.ToString(),
        ["ws"] = WsEndpoint.ToString(),
        ["store"] = Queue.Description,
    }.ToJsonString();

    public static async Task<MediatorHost> StartAsync(MediatorOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? tempDir = null;
        IMessageQueue queue;
        if (options.Store is not null) queue = options.Store;
        else if (options.PostgresConnectionString is { } pg) queue = await PostgresMediatorStore.OpenAsync(pg, options.Sqlite.ReplayWindow, ct);
        else if (options.InMemory) queue = new MemoryMediatorStore(options.Sqlite.ReplayWindow);
        else
        {
            var path = options.DatabasePath;
            if (path is null)
            {
                tempDir = Directory.CreateTempSubdirectory("mediator-").FullName;
                path = Path.Combine(tempDir, "mediator.db");
            }
            queue = SqliteMediatorStore.Open(path, options.Sqlite);
        }
        if (queue is not IMediationStore mediation)
            throw new ArgumentException("the store must implement both IMessageQueue and IMediationStore", nameof(options));

        var app = Build(options);
        MediatorEngine? engine = null;
        Outbound? outbound = null;
        try
        {
            // Kestrel needs its routes before it starts, and the engine needs the bound port for its DID: map against a
            // holder that is filled in right after start, before any request can be useful.
            var holder = new EngineHolder();
            Map(app, holder, options);
            await app.StartAsync(ct);
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            var host = options.PublicHost ?? (options.Bind.Equals(IPAddress.Any) || options.Bind.Equals(IPAddress.IPv6Any) ? "127.0.0.1" : options.Bind.ToString());
            if (host.Contains(':') && !host.StartsWith('[')) host = "[" + host + "]";
            var http = new Uri($"http://{host}:{port}/");
            var ws = new Uri($"ws://{host}:{port}/");

            var endpoints = options.AdvertisedEndpoints ?? [http.ToString(), ws.ToString()];
            var (identity, ownDids) = LoadIdentity(mediation, endpoints, options);
            outbound = new Outbound(V2Resolver.Shared, options.Log);
            engine = new MediatorEngine(options, identity, ownDids, queue, mediation, outbound);
            holder.Engine = engine;
            return new MediatorHost(app, engine, outbound, http, ws, tempDir);
        }
        catch
        {
            await app.DisposeAsync();
            outbound?.Dispose();
            await queue.DisposeAsync();
            throw;
        }
    }

    private sealed class EngineHolder
    {
        public MediatorEngine? Engine;
    }

    /// <summary>Reuses the identity stored in the database (the same keys after a restart), or makes one.</summary>
    private static (V2Identity, IReadOnlyCollection<string>) LoadIdentity(IMediationStore store, IReadOnlyList<string> endpoints, MediatorOptions options)
    {
        byte[] x, ed;
        if (store.GetSetting("identity.x25519") is { } xs && store.GetSetting("identity.ed25519") is { } eds
            && Base64Url.TryDecode(xs, out x) && Base64Url.TryDecode(eds, out ed) && x.Length == 32 && ed.Length == 32)
        {
            // keep
        }
        else
        {
            x = options.Entropy.Bytes(32);
            ed = options.Entropy.Bytes(32);
            store.SetSetting("identity.x25519", Base64Url.Encode(x));
            store.SetSetting("identity.ed25519", Base64Url.Encode(ed));
        }
        var identity = V2Identity.FromSecrets(x, ed, endpoints);
        var known = (store.GetSetting("identity.dids") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!known.Contains(identity.Did))
        {
            known.Add(identity.Did);
            store.SetSetting("identity.dids", string.Join('\n', known.TakeLast(16)));
        }
        return (identity, known.ToHashSet(StringComparer.Ordinal));
    }

    private static WebApplication Build(MediatorOptions options)
    {
        // No appsettings reload: the default host would watch the current directory for changes (CPU for nothing).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(options.Bind, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxMessageBytes + 1L;
            k.AddServerHeader = false;
        });
        return builder.Build();
    }

    private static readonly string[] AcceptedMediaTypes =
        [MediaTypes.Encrypted, MediaTypes.Signed, MediaTypes.Plain, "application/json", "didcomm-encrypted+json", "didcomm-signed+json"];

    private static void Map(WebApplication app, EngineHolder holder, MediatorOptions options)
    {
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

        app.Map("/", (HttpContext ctx) => HttpMethods.IsPost(ctx.Request.Method) ? PostAsync(ctx, holder, options) : WebSocketOrInfoAsync(ctx, holder, options));
        app.MapGet("/did", (HttpContext ctx) => holder.Engine is { } e ? Results.Text(e.Identity.Did) : Results.StatusCode(503));
        app.MapGet("/health", () => Results.Text("ok"));
        app.MapGet("/invitation", (HttpContext ctx) =>
        {
            if (holder.Engine is not { } e) return Results.StatusCode(503);
            var invitation = new V2Message
            {
                Id = e.Options.Entropy.NewUuid(),
                Type = MessageTypes.Invitation,
                From = e.Identity.Did,
                Body = new JsonObject { ["goal_code"] = "request-mediate", ["goal"] = "RequestMediate", ["accept"] = new JsonArray("didcomm/v2") },
            };
            return Results.Text(invitation.ToJson(), "application/json");
        });
    }

    private static async Task PostAsync(HttpContext ctx, EngineHolder holder, MediatorOptions options)
    {
        var engine = holder.Engine;
        if (engine is null) { ctx.Response.StatusCode = 503; return; }
        var mediaType = ctx.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(mediaType) && !AcceptedMediaTypes.Contains(mediaType))
        {
            await Error(ctx, 415, $"unsupported media type {mediaType}; use {MediaTypes.Encrypted}", null);
            return;
        }
        byte[] body;
        try { body = await ReadBodyAsync(ctx.Request, options.MaxMessageBytes, ctx.RequestAborted); }
        catch (BadHttpRequestException) { await Error(ctx, 413, $"the message is larger than {options.MaxMessageBytes} bytes", ProblemCodes.TooBig); return; }
        catch (IOException) { return; }
        var channel = new HttpReplyChannel();
        InboundResult result;
        try { result = await engine.ReceiveAsync(body, channel, ctx.RequestAborted); }
        catch (OperationCanceledException) { return; }
        switch (result.Outcome)
        {
            case InboundOutcome.TooLarge: await Error(ctx, 413, result.Error!, result.Code); return;
            case InboundOutcome.Rejected: await Error(ctx, 400, result.Error!, result.Code); return;
        }
        if (channel.Reply is { } reply)
        {
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = channel.MediaType;
            await ctx.Response.WriteAsync(reply, ctx.RequestAborted);
            return;
        }
        ctx.Response.StatusCode = 202;
    }

    private static async Task WebSocketOrInfoAsync(HttpContext ctx, EngineHolder holder, MediatorOptions options)
    {
        var engine = holder.Engine;
        if (!ctx.WebSockets.IsWebSocketRequest)
        {
            if (HttpMethods.IsGet(ctx.Request.Method) && engine is not null)
            {
                ctx.Response.ContentType = "text/plain; charset=utf-8";
                await ctx.Response.WriteAsync($"DIDComm v2 mediator\n{engine.Identity.Did}\n");
                return;
            }
            ctx.Response.StatusCode = 405;
            return;
        }
        if (engine is null) { ctx.Response.StatusCode = 503; return; }
        using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
        var session = new WsSession(ws);
        try
        {
            while (ws.State == WebSocketState.Open)
            {
                var body = await ReadMessageAsync(ws, options.MaxMessageBytes, ctx.RequestAborted);
                if (body is null) break;
                if (body.Length > options.MaxMessageBytes)
                {
                    await ws.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", CancellationToken.None);
                    break;
                }
                await engine.ReceiveAsync(body, session, ctx.RequestAborted);
            }
            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
        finally
        {
            if (session.LiveOwner is { } owner) engine.Live.Remove(owner, session);
            await session.DisposeAsync();
        }
    }

    private static Task Error(HttpContext ctx, int status, string error, string? code)
    {
        ctx.Response.StatusCode = status;
        var o = new JsonObject { ["error"] = error.ReplaceLineEndings(" ") };
        if (code is not null) o["code"] = code;
        return ctx.Response.WriteAsJsonAsync(o, ctx.RequestAborted);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.ContentLength is { } len)
        {
            if (len > max) throw new BadHttpRequestException("too large", 413);
            var buffer = new byte[len];
            await request.Body.ReadExactlyAsync(buffer, ct);
            return buffer;
        }
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms, ct);
        if (ms.Length > max) throw new BadHttpRequestException("too large", 413);
        return ms.ToArray();
    }

    /// <summary>One whole WebSocket message (text or binary); null when the peer closed. Returns an array longer than
    /// <paramref name="max"/> (and stops reading) when the message is too big.</summary>
    internal static async Task<byte[]?> ReadMessageAsync(WebSocket ws, int max, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await ws.ReceiveAsync(buffer, ct);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buffer, 0, r.Count);
            if (ms.Length > max) return new byte[max + 1];
            if (r.EndOfMessage) return ms.ToArray();
        }
    }

    public async Task StopAsync()
    {
        if (_disposed) return;
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        try { await _app.StopAsync(); } catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { }
        await _app.DisposeAsync();
        _outbound.Dispose();
        await _engine.Queue.DisposeAsync();
        if (_tempDir is not null)
        {
            try { Directory.Delete(_tempDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
