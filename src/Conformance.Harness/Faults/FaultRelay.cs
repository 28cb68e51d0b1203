// A programmable faulty network in front of an agent's DIDComm endpoint: agents in the field meet dead, slow and
// flaky endpoints, and the FAULTS suite grades how the agent under test copes. Kestrel on 127.0.0.1, an ephemeral
// port; it forwards HTTP POSTs and WebSocket messages to a target endpoint and, per delivery number, can instead:
//   Refuse        reset the connection without an HTTP response (or, with Refusing = true, every new connection)
//   Status(n)     answer 500/503/... itself and forward nothing (503 carries Retry-After: 1)
//   Delay(t)      hold the delivery for t, then forward it (the sender waits)
//   Drop          answer 202 Accepted and forward nothing (a silently lost message)
//   Duplicate     forward the same bytes twice
//   Reorder       answer 202 at once, hold the delivery and forward it right after the next one (or after
//                 ReorderWindow when none comes)
//   CutWebSocket  on a WebSocket: forward the first half of the message as an unfinished frame, then drop both
//                 sockets without a close handshake (on HTTP it resets the connection like Refuse)
// Deliveries are numbered from 1 across HTTP and WebSocket in arrival order. Every decision is recorded (Records, and
// Observed for the wire tap) with what was done, so a case page shows which fault was injected where. GETs are
// passed to the target (the invitation landing page) unless GetHandler replaces them (a test double's page).
// The relay can also replay what it forwarded (ReplayAsync), byte for byte.
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Diagnostics;
using Conformance.Agent.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Harness.Faults;

public enum FaultKind { Pass, Refuse, Status, Delay, Drop, Duplicate, Reorder, CutWebSocket }

/// <summary>What the relay does to one delivery.</summary>
public sealed record Fault(FaultKind Kind, int StatusCode = 0, TimeSpan Wait = default)
{
    public static readonly Fault Pass = new(FaultKind.Pass);
    public static readonly Fault Refuse = new(FaultKind.Refuse);
    public static readonly Fault Drop = new(FaultKind.Drop);
    public static readonly Fault Duplicate = new(FaultKind.Duplicate);
    public static readonly Fault Reorder = new(FaultKind.Reorder);
    public static readonly Fault CutWebSocket = new(FaultKind.CutWebSocket);
    public static Fault Status(int code) => new(FaultKind.Status, code);
    public static Fault Delay(TimeSpan wait) => new(FaultKind.Delay, Wait: wait);

    public override string ToString() => Kind switch
    {
        FaultKind.Status => $"HTTP {StatusCode}",
        FaultKind.Delay => $"delay {Wait.TotalMilliseconds:0} ms",
        FaultKind.CutWebSocket => "cut websocket",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>One thing the relay did. <see cref="Number"/> is the delivery number (0 for connections refused before any request, GETs and replays).</summary>
public sealed record FaultRecord(int Number, string Transport, string Action, int Bytes, long AtMs, string? Detail = null)
{
    public override string ToString() => $"#{Number} {Transport}: {Action}{(Detail is { } d ? " — " + d : "")}";
}

public sealed class FaultRelay : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) }) { Timeout = TimeSpan.FromSeconds(60) };
    private readonly Dictionary<int, Fault> _plan = [];
    private readonly Lock _gate = new();
    private readonly List<FaultRecord> _records = [];
    private readonly List<(int Number, byte[] Body, string? ContentType)> _forwarded = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stopping = new();
    private (int Number, byte[] Body, string? ContentType, Timer Timer)? _held;
    private int _deliveries;

    private FaultRelay(WebApplication app) => _app = app;

    /// <summary>The relay's HTTP endpoint, <c>http://127.0.0.1:port</c> (no trailing slash, as agents advertise endpoints).</summary>
    public string Url { get; private set; } = "";

    /// <summary>The same port as a WebSocket endpoint.</summary>
    public string WsUrl => "ws" + Url[4..];

    /// <summary>Where deliveries go (http:// for POSTs; the ws:// form of it, or <see cref="WsTarget"/>, for WebSocket).</summary>
    public Uri? Target { get; set; }

    /// <summary>The WebSocket target, when it is not <see cref="Target"/> with a ws scheme.</summary>
    public Uri? WsTarget { get; set; }

    /// <summary>What happens to deliveries that have no rule of their own.</summary>
    public Fault Default { get; set; } = Fault.Pass;

    /// <summary>While true, every new TCP connection is reset as soon as it is accepted (a dead endpoint).</summary>
    public bool Refusing { get; set; }

    /// <summary>How long a reordered delivery waits for the next one before it is forwarded anyway.</summary>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Replaces GET handling (a test double's landing page); null = GETs go to the target.</summary>
    public Func<HttpContext, Task>? GetHandler { get; set; }

    /// <summary>Called with every record as it is made (e.g. to put it in a case's wire log).</summary>
    public event Action<FaultRecord>? Observed;

    public IReadOnlyList<FaultRecord> Records { get { lock (_gate) return _records.ToList(); } }

    /// <summary>Deliveries seen so far (HTTP POSTs and WebSocket messages).</summary>
    public int Deliveries { get { lock (_gate) return _deliveries; } }

    /// <summary>Programs delivery <paramref name="number"/> (1-based).</summary>
    public FaultRelay On(int number, Fault fault)
    {
        lock (_gate) _plan[number] = fault;
        return this;
    }

    /// <summary>Programs the next delivery (the one after those seen so far).</summary>
    public FaultRelay OnNext(Fault fault)
    {
        lock (_gate) _plan[_deliveries + 1] = fault;
        return this;
    }

    /// <summary>Waits until the relay has made a record matching <paramref name="match"/>; null on timeout.</summary>
    public async Task<FaultRecord?> WaitForAsync(Func<FaultRecord, bool> match, TimeSpan timeout)
    {
        var until = _clock.Elapsed + timeout;
        while (true)
        {
            var hit = Records.FirstOrDefault(match);
            if (hit != null || _clock.Elapsed > until) return hit;
            await Task.Delay(20);
        }
    }

    public static async Task<FaultRelay> StartAsync(Uri? target = null, CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        FaultRelay? self = null;
        builder.WebHost.UseKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
            k.Listen(IPAddress.Loopback, 0, listen => listen.Use(next => async connection =>
            {
                if (self is { Refusing: true })
                {
                    self.Record(0, "tcp", "refused connection", 0);
                    connection.Abort();
                    return;
                }
                await next(connection);
            }));
        });
        var app = builder.Build();
        self = new FaultRelay(app) { Target = target };
        app.UseWebSockets();
        app.Run(self.HandleAsync);
        await app.StartAsync(ct);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        self.Url = $"http://127.0.0.1:{port}";
        return self;
    }

    /// <summary>An http:// endpoint on which nothing listens (connection refused): a port that was bound, then released.</summary>
    public static string DeadEndpoint()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return $"http://127.0.0.1:{port}";
    }

    // ------------------------------------------------------------------ handling

    private async Task HandleAsync(HttpContext ctx)
    {
        if (ctx.WebSockets.IsWebSocketRequest)
        {
            await RelayWebSocketAsync(ctx);
            return;
        }
        if (HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method))
        {
            if (GetHandler is { } h) { Record(0, "http", "GET answered by the relay's own page", 0, ctx.Request.Path + ctx.Request.QueryString); await h(ctx); }
            else await ProxyGetAsync(ctx);
            return;
        }
        if (!HttpMethods.IsPost(ctx.Request.Method))
        {
            ctx.Response.StatusCode = 405;
            return;
        }

        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
        var body = ms.ToArray();
        var contentType = ctx.Request.ContentType;
        var (n, fault) = Next();
        switch (fault.Kind)
        {
            case FaultKind.Refuse:
            case FaultKind.CutWebSocket:
                Record(n, "http", "connection reset, no response", body.Length, fault.Kind == FaultKind.CutWebSocket ? "cut (HTTP)" : null);
                ctx.Abort();
                return;
            case FaultKind.Status:
                Record(n, "http", $"answered HTTP {fault.StatusCode}, not forwarded", body.Length);
                if (fault.StatusCode == 503) ctx.Response.Headers.RetryAfter = "1";
                ctx.Response.StatusCode = fault.StatusCode;
                await ctx.Response.WriteAsync($"fault relay: HTTP {fault.StatusCode} injected for delivery #{n}\n");
                return;
            case FaultKind.Drop:
                Record(n, "http", "answered 202, dropped (not forwarded)", body.Length);
                ctx.Response.StatusCode = 202;
                return;
            case FaultKind.Reorder:
                Hold(n, body, contentType);
                ctx.Response.StatusCode = 202;
                return;
            case FaultKind.Delay:
                Record(n, "http", $"held {fault.Wait.TotalMilliseconds:0} ms", body.Length);
                await Task.Delay(fault.Wait, ctx.RequestAborted);
                break;
        }
        var (status, replyType, reply) = await ForwardAsync(n, body, contentType, fault.Kind == FaultKind.Duplicate ? "forwarded (1 of 2)" : "forwarded");
        if (fault.Kind == FaultKind.Duplicate) await ForwardAsync(n, body, contentType, "forwarded again (2 of 2, same bytes)");
        await ReleaseHeldAsync(n);
        ctx.Response.StatusCode = status;
        if (reply.Length > 0)
        {
            if (replyType != null) ctx.Response.ContentType = replyType;
            await ctx.Response.Body.WriteAsync(reply, ctx.RequestAborted);
        }
    }

    private (int Number, Fault Fault) Next()
    {
        lock (_gate)
        {
            var n = ++_deliveries;
            return (n, _plan.GetValueOrDefault(n, Default));
        }
    }

    private async Task<(int Status, string? ContentType, byte[] Body)> ForwardAsync(int n, byte[] body, string? contentType, string action)
    {
        var target = Target ?? throw new InvalidOperationException("the fault relay has no target");
        using var content = new ByteArrayContent(body);
        if (contentType != null && MediaTypeHeaderValue.TryParse(contentType, out var mt)) content.Headers.ContentType = mt;
        try
        {
            using var response = await _http.PostAsync(target, content, _stopping.Token);
            var reply = await response.Content.ReadAsByteArrayAsync(_stopping.Token);
            lock (_gate) _forwarded.Add((n, body, contentType));
            Record(n, "http", action, body.Length, $"target answered HTTP {(int)response.StatusCode}");
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), reply);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Record(n, "http", action + " — failed", body.Length, e.Message);
            return (502, "text/plain", System.Text.Encoding.UTF8.GetBytes("fault relay: the target did not answer\n"));
        }
    }

    private void Hold(int n, byte[] body, string? contentType)
    {
        lock (_gate)
        {
            if (_held != null) { _ = ForwardHeldAsync("released early (another delivery was held)"); }
            var timer = new Timer(_ => _ = ForwardHeldAsync($"released after {ReorderWindow.TotalMilliseconds:0} ms (no later delivery came)"), null, ReorderWindow, Timeout.InfiniteTimeSpan);
            _held = (n, body, contentType, timer);
        }
        Record(n, "http", "answered 202, held to be delivered after the next one", body.Length);
    }

    private Task ReleaseHeldAsync(int after)
    {
        lock (_gate)
            if (_held is not { } h || h.Number >= after) return Task.CompletedTask;
        return ForwardHeldAsync($"forwarded after #{after} (reordered)");
    }

    private async Task ForwardHeldAsync(string action)
    {
        (int Number, byte[] Body, string? ContentType, Timer Timer) h;
        lock (_gate)
        {
            if (_held is not { } held) return;
            h = held;
            _held = null;
        }
        await h.Timer.DisposeAsync();
        await ForwardAsync(h.Number, h.Body, h.ContentType, action);
    }

    private async Task ProxyGetAsync(HttpContext ctx)
    {
        var target = Target ?? throw new InvalidOperationException("the fault relay has no target");
        var url = new Uri(target, ctx.Request.Path.Value + ctx.Request.QueryString.Value);
        try
        {
            using var response = await _http.GetAsync(url, ctx.RequestAborted);
            Record(0, "http", "GET passed to the target", 0, $"HTTP {(int)response.StatusCode}");
            ctx.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } ct) ctx.Response.ContentType = ct.ToString();
            foreach (var h in new[] { "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy" })
                if (response.Headers.TryGetValues(h, out var v)) ctx.Response.Headers[h] = v.ToArray();
            await ctx.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync(ctx.RequestAborted), ctx.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            ctx.Response.StatusCode = 502;
            await ctx.Response.WriteAsync("fault relay: the target did not answer: " + e.Message);
        }
    }

    /// <summary>Sends what was forwarded as delivery <paramref name="number"/> to the target again, byte for byte; returns the target's status.</summary>
    public async Task<int> ReplayAsync(int number)
    {
        (int Number, byte[] Body, string? ContentType) f;
        lock (_gate) f = _forwarded.LastOrDefault(x => x.Number == number);
        if (f.Body == null) throw new InvalidOperationException($"delivery #{number} was never forwarded over HTTP, so it cannot be replayed");
        var target = Target ?? throw new InvalidOperationException("the fault relay has no target");
        using var content = new ByteArrayContent(f.Body);
        if (f.ContentType != null && MediaTypeHeaderValue.TryParse(f.ContentType, out var mt)) content.Headers.ContentType = mt;
        using var response = await _http.PostAsync(target, content, _stopping.Token);
        Record(0, "http", $"replayed delivery #{number} (same bytes)", f.Body.Length, $"target answered HTTP {(int)response.StatusCode}");
        return (int)response.StatusCode;
    }

    // ------------------------------------------------------------------ WebSocket

    private async Task RelayWebSocketAsync(HttpContext ctx)
    {
        var target = WsTarget ?? (Target is { } t ? new UriBuilder(t) { Scheme = t.Scheme == "https" ? "wss" : "ws" }.Uri : null)
                     ?? throw new InvalidOperationException("the fault relay has no target");
        using var upstream = new ClientWebSocket();
        try { await upstream.ConnectAsync(target, ctx.RequestAborted); }
        catch (Exception e) when (e is WebSocketException or HttpRequestException)
        {
            Record(0, "ws", "could not open the target WebSocket; upgrade refused", 0, e.Message);
            ctx.Response.StatusCode = 502;
            return;
        }
        using var client = await ctx.WebSockets.AcceptWebSocketAsync();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _stopping.Token);
        Record(0, "ws", "socket opened (relayed to " + target + ")", 0);

        // Target → client: replies (return route) pass untouched.
        var back = Task.Run(async () =>
        {
            try
            {
                while (upstream.State == WebSocketState.Open && !done.IsCancellationRequested)
                {
                    var m = await WebSocketFrames.ReadMessageAsync(upstream, 16 * 1024 * 1024, done.Token);
                    if (m == null) break;
                    await client.SendAsync(m, WebSocketMessageType.Text, true, done.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        });

        try
        {
            while (client.State == WebSocketState.Open)
            {
                var m = await WebSocketFrames.ReadMessageAsync(client, 16 * 1024 * 1024, done.Token);
                if (m == null) break;
                var (n, fault) = Next();
                switch (fault.Kind)
                {
                    case FaultKind.CutWebSocket:
                    case FaultKind.Refuse:
                        var half = Math.Max(1, m.Length / 2);
                        await upstream.SendAsync(m.AsMemory(0, half), WebSocketMessageType.Text, endOfMessage: false, done.Token);
                        Record(n, "ws", fault.Kind == FaultKind.CutWebSocket ? $"cut mid-message: {half} of {m.Length} bytes forwarded, then both sockets dropped" : "socket reset", m.Length);
                        upstream.Abort();
                        client.Abort();
                        ctx.Abort();
                        return;
                    case FaultKind.Drop:
                    case FaultKind.Status:
                        Record(n, "ws", "dropped (not forwarded)", m.Length);
                        continue;
                    case FaultKind.Delay:
                        Record(n, "ws", $"held {fault.Wait.TotalMilliseconds:0} ms", m.Length);
                        await Task.Delay(fault.Wait, done.Token);
                        break;
                }
                await upstream.SendAsync(m, WebSocketMessageType.Text, true, done.Token);
                Record(n, "ws", fault.Kind == FaultKind.Duplicate ? "forwarded (1 of 2)" : "forwarded", m.Length);
                if (fault.Kind == FaultKind.Duplicate)
                {
                    await upstream.SendAsync(m, WebSocketMessageType.Text, true, done.Token);
                    Record(n, "ws", "forwarded again (2 of 2, same bytes)", m.Length);
                }
            }
            if (upstream.State == WebSocketState.Open) await upstream.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            if (client.State is WebSocketState.Open or WebSocketState.CloseReceived) await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            Record(0, "ws", "socket ended", 0, e.Message);
        }
        finally
        {
            done.Cancel();
            await back;
        }
    }

    private void Record(int n, string transport, string action, int bytes, string? detail = null)
    {
        var r = new FaultRecord(n, transport, action, bytes, _clock.ElapsedMilliseconds, detail);
        lock (_gate) _records.Add(r);
        Observed?.Invoke(r);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        lock (_gate) _held?.Timer.Dispose();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try { await _app.StopAsync(cts.Token); }
        catch (OperationCanceledException) { }
        await _app.DisposeAsync();
        _http.Dispose();
    }
}

public static class FaultRelayTap
{
    /// <summary>Puts every action of the relay into the case's wire log, as a note under <paramref name="name"/>.</summary>
    public static FaultRelay AttachTo(this FaultRelay relay, Tap.WireTap tap, string name)
    {
        relay.Observed += r => tap.Record(new Agent.Core.WireEvent(DateTimeOffset.UtcNow, "relay", null, null, null, r.Transport, null, null, null, null,
            r.ToString()), name);
        return relay;
    }
}
