using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Mediator;

/// <summary>
/// A client's own HTTP endpoint on 127.0.0.1 (what the Identus test suite runs on port 9999 as "recipient"): it receives
/// messages sent to the client asynchronously — replies without return_route — answers 202, and unpacks them with the
/// client's keys.
/// </summary>
public sealed class V2Inbox : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<V2Unpacked> _messages = Channel.CreateUnbounded<V2Unpacked>();
    private V2Client? _client;

    private V2Inbox(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    /// <summary>Bodies that arrived but could not be unpacked (one line each).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    internal static async Task<V2Inbox> StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => { k.Listen(IPAddress.Loopback, 0); k.AddServerHeader = false; });
        var app = builder.Build();
        V2Inbox? inbox = null;
        app.MapPost("/", async (HttpContext ctx) =>
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms, ctx.RequestAborted);
            inbox?.Accept(ms.ToArray());
            return Results.StatusCode(202);
        });
        await app.StartAsync(ct);
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        inbox = new V2Inbox(app, new Uri($"http://127.0.0.1:{port}/"));
        return inbox;
    }

    internal void Attach(V2Client client) => _client = client;

    private void Accept(byte[] body)
    {
        if (_client is null) { Errors.Enqueue("a message arrived before the client was ready"); return; }
        var text = System.Text.Encoding.UTF8.GetString(body);
        try
        {
            var u = _client.Unpack(body);
            _client.Observe("in", "inbox", Endpoint, text, u.Message);
            _messages.Writer.TryWrite(u);
        }
        catch (DidCommException e)
        {
            Errors.Enqueue($"{e.Code}: {e.Message}");
            _client.Observe("in", "inbox", Endpoint, text, null, "not unpacked: " + e.Message);
        }
    }

    /// <summary>The next message that arrived, or throws <see cref="TimeoutException"/>.</summary>
    public async Task<V2Unpacked> ReceiveAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { return await _messages.Reader.ReadAsync(cts.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new TimeoutException($"nothing arrived at the inbox within {timeout.TotalSeconds:0.#} s"); }
    }

    /// <summary>A message that already arrived, without waiting.</summary>
    public bool TryReceive(out V2Unpacked? message)
    {
        var ok = _messages.Reader.TryRead(out var m);
        message = m;
        return ok;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
