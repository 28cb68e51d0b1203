using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Conformance.Harness.Grading;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Harness.Tap;

/// <summary>One message that crossed a <see cref="RecordingRelay"/>, exactly as it crossed.</summary>
/// <param name="Seq">1, 2, … in the order the relay saw them.</param>
/// <param name="AtMs">Milliseconds since the relay started.</param>
/// <param name="At">Wall-clock time (UTC).</param>
/// <param name="From">Who sent it: the relay's client name or its target name.</param>
/// <param name="To">Who it was forwarded to.</param>
/// <param name="Transport">"http" or "ws".</param>
/// <param name="Method">HTTP method of the request (for a response: of the request it answers); null for WS.</param>
/// <param name="Path">Request path and query (for WS: of the upgrade request).</param>
/// <param name="MediaType">Content-Type of this body (HTTP); "text" or "binary" frame type (WS).</param>
/// <param name="Status">HTTP status the target answered (on the request and on the response); null for WS.</param>
/// <param name="Body">The bytes as they crossed (an encrypted envelope stays encrypted).</param>
/// <param name="Note">What else happened: "target unreachable", "close 1000", …</param>
public sealed record RelayRecord(
    int Seq, long AtMs, DateTimeOffset At, string From, string To, string Transport, string? Method, string? Path,
    string? MediaType, int? Status, byte[] Body, string? Note)
{
    /// <summary>True when the message went from the target back to the client (an HTTP response body, a WS frame from the target).</summary>
    public bool FromTarget { get; init; }

    /// <summary>The body as UTF-8 text, or null when it is not valid UTF-8.</summary>
    public string? Text
    {
        get
        {
            try { return new UTF8Encoding(false, true).GetString(Body); }
            catch (DecoderFallbackException) { return null; }
        }
    }
}

/// <summary>Options of a <see cref="RecordingRelay"/>.</summary>
public sealed class RelayOptions
{
    /// <summary>Port to listen on (0 = a free one); always on 127.0.0.1 unless <see cref="Bind"/> says otherwise.</summary>
    public int Port { get; init; }
    public IPAddress Bind { get; init; } = IPAddress.Loopback;
    /// <summary>Names for the two sides, used in records and <see cref="WireRecord.Direction"/> ("alice -> bob").</summary>
    public string ClientName { get; init; } = "client";
    public string TargetName { get; init; } = "agent";
    public int MaxBodyBytes { get; init; } = 16 * 1024 * 1024;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// A recording relay in front of an agent's DIDComm endpoint: HTTP and WebSocket on one loopback port, every request
/// and frame forwarded to the target unchanged (method, path, query, body bytes, media type; the target's status,
/// media type and body back) and recorded as it passed. Used to capture the wire between two agents the harness does
/// not control (e.g. Credo ↔ Credo): point one agent at <see cref="Endpoint"/> instead of the other's endpoint.
/// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded; everything else is.
/// </summary>
public sealed class RecordingRelay : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length",
        "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _http;
    private readonly RelayOptions _options;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<RelayRecord> _records = [];
    private readonly Lock _gate = new();
    private readonly List<(Func<RelayRecord, bool> Match, TaskCompletionSource<RelayRecord> Done)> _waiters = [];
    private readonly CancellationTokenSource _stopping = new();

    private RecordingRelay(Uri target, RelayOptions options, WebApplication app)
    {
        Target = target;
        _options = options;
        _app = app;
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
        }) { Timeout = options.Timeout };
    }

    /// <summary>The agent endpoint being relayed to (http(s):// or ws(s)://).</summary>
    public Uri Target { get; }
    /// <summary>The relay's HTTP endpoint, with the target's path: give this to the other agent.</summary>
    public Uri Endpoint { get; private set; } = null!;
    /// <summary>The same endpoint as ws://.</summary>
    public Uri WsEndpoint { get; private set; } = null!;

    public IReadOnlyList<RelayRecord> Records { get { lock (_gate) return _records.ToList(); } }

    /// <summary>Raised for each record, on the relay's thread.</summary>
    public event Action<RelayRecord>? Recorded;

    public static async Task<RecordingRelay> StartAsync(Uri target, RelayOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Scheme is not ("http" or "https" or "ws" or "wss"))
            throw new ArgumentException($"relay target must be http(s):// or ws(s)://, not {target.Scheme}://", nameof(target));
        options ??= new RelayOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Listen(options.Bind, options.Port);
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        var relay = new RecordingRelay(target, options, app);
        app.UseWebSockets();
        app.Run(relay.HandleAsync);
        await app.StartAsync(ct);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var host = options.Bind.Equals(IPAddress.Any) ? "127.0.0.1" : options.Bind.ToString();
        relay.Endpoint = new Uri($"http://{host}:{port}{target.AbsolutePath}");
        relay.WsEndpoint = new Uri($"ws://{host}:{port}{target.AbsolutePath}");
        return relay;
    }

    // ------------------------------------------------------------------ forwarding

    private Task HandleAsync(HttpContext ctx) =>
        ctx.WebSockets.IsWebSocketRequest ? RelayWebSocketAsync(ctx) : RelayHttpAsync(ctx);

    /// <summary>The target URL for a request path: the target's scheme, host and port, the request's path and query.</summary>
    private Uri TargetFor(HttpRequest request, bool websocket)
    {
        var scheme = (Target.Scheme, websocket) switch
        {
            ("http" or "ws", false) => "http",
            ("https" or "wss", false) => "https",
            ("http" or "ws", true) => "ws",
            _ => "wss",
        };
        return new Uri($"{scheme}://{Target.Authority}{request.Path.Value}{request.QueryString.Value}");
    }

    private async Task RelayHttpAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var pathAndQuery = req.Path.Value + req.QueryString.Value;
        byte[] body;
        try
        {
            using var ms = new MemoryStream();
            await req.Body.CopyToAsync(ms, ctx.RequestAborted);
            body = ms.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            Record(false, "http", req.Method, pathAndQuery, req.ContentType, e.StatusCode, [], $"rejected by the relay: {e.Message}");
            ctx.Response.StatusCode = e.StatusCode;
            return;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(req.Method), TargetFor(req, websocket: false));
        if (body.Length > 0 || req.ContentType != null || req.ContentLength != null)
            forward.Content = new ByteArrayContent(body);
        foreach (var (name, values) in req.Headers)
        {
            if (HopByHop.Contains(name)) continue;
            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
                forward.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(forward, HttpCompletionOption.ResponseContentRead, ctx.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            var note = e is TaskCanceledException ? "target timed out" : $"target unreachable: {e.Message}";
            Record(false, "http", req.Method, pathAndQuery, req.ContentType, 502, body, note);
            ctx.Response.StatusCode = 502;
            ctx.Response.ContentType = "text/plain";
            await ctx.Response.WriteAsync($"relay: {note}\n");
            return;
        }
        using (response)
        {
            var responseBody = await response.Content.ReadAsByteArrayAsync(ctx.RequestAborted);
            var responseType = response.Content.Headers.ContentType?.ToString();
            var status = (int)response.StatusCode;
            Record(false, "http", req.Method, pathAndQuery, req.ContentType, status, body, null);
            if (responseBody.Length > 0)
                Record(true, "http", req.Method, pathAndQuery, responseType, status, responseBody, null);

            ctx.Response.StatusCode = status;
            foreach (var h in response.Headers.Concat(response.Content.Headers))
                if (!HopByHop.Contains(h.Key))
                    ctx.Response.Headers[h.Key] = h.Value.ToArray();
            if (responseBody.Length > 0)
            {
                ctx.Response.ContentLength = responseBody.Length;
                await ctx.Response.Body.WriteAsync(responseBody, ctx.RequestAborted);
            }
        }
    }

    private async Task RelayWebSocketAsync(HttpContext ctx)
    {
        var req = ctx.Request;
        var pathAndQuery = req.Path.Value + req.QueryString.Value;
        using var upstream = new ClientWebSocket();
        foreach (var p in ctx.WebSockets.WebSocketRequestedProtocols) upstream.Options.AddSubProtocol(p);
        upstream.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
            connect.CancelAfter(_options.Timeout);
            await upstream.ConnectAsync(TargetFor(req, websocket: true), connect.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            Record(false, "ws", null, pathAndQuery, null, 502, [], $"target refused the WebSocket: {e.Message}");
            ctx.Response.StatusCode = 502;
            return;
        }

        using var downstream = await ctx.WebSockets.AcceptWebSocketAsync(upstream.SubProtocol);
        Record(false, "ws", null, pathAndQuery, null, null, [], "open");
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        var toTarget = PumpAsync(downstream, upstream, fromTarget: false, pathAndQuery, both.Token);
        var toClient = PumpAsync(upstream, downstream, fromTarget: true, pathAndQuery, both.Token);
        await Task.WhenAny(toTarget, toClient);
        // One side closed: give the other a moment to finish its close handshake, then end both.
        await Task.WhenAny(Task.WhenAll(toTarget, toClient), Task.Delay(2000));
        both.Cancel();
        try { await Task.WhenAll(toTarget, toClient); } catch (OperationCanceledException) { }
    }

    /// <summary>Copies whole messages from <paramref name="from"/> to <paramref name="to"/>, recording each; passes the close on.</summary>
    private async Task PumpAsync(WebSocket from, WebSocket to, bool fromTarget, string path, CancellationToken ct)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (from.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult r;
                do
                {
                    r = await from.ReceiveAsync(buffer, ct);
                    if (r.MessageType == WebSocketMessageType.Close) break;
                    message.Write(buffer, 0, r.Count);
                    if (message.Length > _options.MaxBodyBytes)
                    {
                        Record(fromTarget, "ws", null, path, null, null, [], $"message over {_options.MaxBodyBytes} bytes: closed");
                        await CloseQuietly(from, WebSocketCloseStatus.MessageTooBig, "too large");
                        await CloseQuietly(to, WebSocketCloseStatus.MessageTooBig, "too large");
                        return;
                    }
                } while (!r.EndOfMessage);

                if (r.MessageType == WebSocketMessageType.Close)
                {
                    var status = from.CloseStatus ?? WebSocketCloseStatus.NormalClosure;
                    Record(fromTarget, "ws", null, path, null, null, [], $"close {(int)status}{(string.IsNullOrEmpty(from.CloseStatusDescription) ? "" : " " + from.CloseStatusDescription)}");
                    await CloseQuietly(to, status, from.CloseStatusDescription);
                    return;
                }
                var bytes = message.ToArray();
                Record(fromTarget, "ws", null, path, r.MessageType == WebSocketMessageType.Text ? "text" : "binary", null, bytes, null);
                if (to.State == WebSocketState.Open)
                    await to.SendAsync(bytes, r.MessageType, endOfMessage: true, ct);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            if (!ct.IsCancellationRequested) Record(fromTarget, "ws", null, path, null, null, [], $"connection lost: {e.Message}");
            if (!ct.IsCancellationRequested) await CloseQuietly(to, WebSocketCloseStatus.EndpointUnavailable, "peer connection lost");
        }
    }

    private static async Task CloseQuietly(WebSocket ws, WebSocketCloseStatus status, string? description)
    {
        try
        {
            if (ws.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var t = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                // Statuses a peer may not send on the wire (1005, 1006, 1015) are replaced by 1000.
                if ((int)status is 1005 or 1006 or 1015) status = WebSocketCloseStatus.NormalClosure;
                await ws.CloseOutputAsync(status, description, t.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    // ------------------------------------------------------------------ records

    private void Record(bool fromTarget, string transport, string? method, string path, string? mediaType, int? status, byte[] body, string? note)
    {
        RelayRecord rec;
        lock (_gate)
        {
            rec = new RelayRecord(_records.Count + 1, _clock.ElapsedMilliseconds, DateTimeOffset.UtcNow,
                fromTarget ? _options.TargetName : _options.ClientName, fromTarget ? _options.ClientName : _options.TargetName,
                transport, method, path, mediaType, status, body, note) { FromTarget = fromTarget };
            _records.Add(rec);
            foreach (var w in _waiters.ToList())
                if (w.Match(rec))
                {
                    _waiters.Remove(w);
                    w.Done.TrySetResult(rec);
                }
        }
        Recorded?.Invoke(rec);
    }

    /// <summary>Waits for a record matching <paramref name="match"/> (recorded ones count); null on timeout.</summary>
    public async Task<RelayRecord?> WaitAsync(Func<RelayRecord, bool> match, TimeSpan timeout, CancellationToken ct = default)
    {
        TaskCompletionSource<RelayRecord> tcs;
        lock (_gate)
        {
            var existing = _records.FirstOrDefault(match);
            if (existing != null) return existing;
            tcs = new TaskCompletionSource<RelayRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, tcs));
        }
        var done = await Task.WhenAny(tcs.Task, Task.Delay(timeout, ct));
        if (done == tcs.Task) return await tcs.Task;
        lock (_gate) _waiters.RemoveAll(w => w.Done == tcs);
        return null;
    }

    /// <summary>
    /// The recorded messages as report records (<see cref="WireRecord"/>): one per body that crossed (WS open/close
    /// and bodiless HTTP exchanges are kept as notes). The envelope is the body as text (base64 when not UTF-8);
    /// a body that is a plaintext DIDComm message (has @type or type) also fills Type and Plaintext.
    /// </summary>
    public List<WireRecord> ToWireRecords()
    {
        var list = new List<WireRecord>();
        foreach (var r in Records)
        {
            var text = r.Text;
            string? type = null;
            JsonObject? plaintext = null;
            if (text is { Length: > 0 })
            {
                try
                {
                    if (JsonNode.Parse(text) is JsonObject o && !o.ContainsKey("protected") && !o.ContainsKey("ciphertext")
                        && (o["@type"] ?? o["type"]) is JsonValue tv && tv.TryGetValue(out string? t))
                    {
                        type = t;
                        plaintext = o;
                    }
                }
                catch (System.Text.Json.JsonException) { }
            }
            var envelope = r.Body.Length == 0 ? null : text ?? Convert.ToBase64String(r.Body);
            var what = r.Transport == "http"
                ? $"{r.Method} {r.Path}{(r.Status is { } s ? $" → {s}" : "")}{(r.MediaType is null ? "" : " " + r.MediaType)}{(r.FromTarget ? " (response body)" : "")}"
                : $"ws {r.Path}{(r.MediaType is null ? "" : " " + r.MediaType + " frame")}";
            var note = r.Note is null ? what : $"{what}; {r.Note}";
            if (text is null && r.Body.Length > 0) note += "; body in base64";
            list.Add(new WireRecord(r.Seq, r.AtMs, $"{r.From} -> {r.To}", type, r.Transport,
                new Uri(Target, r.Path ?? "/").ToString(), envelope, plaintext, note));
        }
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
        _stopping.Dispose();
    }
}
