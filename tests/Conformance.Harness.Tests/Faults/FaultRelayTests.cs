using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Conformance.Harness.Faults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Harness.Tests.Faults;

/// <summary>
/// The fault relay on its own, against a recording target: each fault does what it says (and only that) to the
/// delivery it is programmed for, and says so in its records.
/// </summary>
public class FaultRelayTests
{
    /// <summary>A target that records every POST body and WebSocket message (and whether a socket ended mid-message).</summary>
    private sealed class Target : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public List<string> Bodies { get; } = [];
        public List<string> WsMessages { get; } = [];
        public List<string> WsEnds { get; } = [];
        public Uri Url { get; }

        private Target(WebApplication app, Uri url) { _app = app; Url = url; }

        public static async Task<Target> StartAsync()
        {
            var b = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
            b.Logging.ClearProviders();
            b.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = b.Build();
            Target? self = null;
            app.UseWebSockets();
            app.Run(async ctx =>
            {
                if (ctx.WebSockets.IsWebSocketRequest)
                {
                    using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
                    var buffer = new byte[64 * 1024];
                    var partial = new MemoryStream();
                    try
                    {
                        while (true)
                        {
                            var r = await ws.ReceiveAsync(buffer, CancellationToken.None);
                            if (r.MessageType == WebSocketMessageType.Close) { lock (self!) self.WsEnds.Add("closed"); break; }
                            partial.Write(buffer, 0, r.Count);
                            if (!r.EndOfMessage) continue;
                            lock (self!) self.WsMessages.Add(Encoding.UTF8.GetString(partial.ToArray()));
                            partial.SetLength(0);
                        }
                    }
                    catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
                    {
                        lock (self!) self.WsEnds.Add($"aborted with {partial.Length} bytes of an unfinished message");
                    }
                    return;
                }
                using var sr = new StreamReader(ctx.Request.Body);
                var body = await sr.ReadToEndAsync();
                lock (self!) self.Bodies.Add(body);
                ctx.Response.StatusCode = 202;
            });
            await app.StartAsync();
            var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
            self = new Target(app, new Uri($"http://127.0.0.1:{port}/"));
            return self;
        }

        public async ValueTask DisposeAsync() { await _app.StopAsync(); await _app.DisposeAsync(); }
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, FaultRelay relay, string body) =>
        await http.PostAsync(relay.Url, new StringContent(body, Encoding.UTF8, "application/didcomm-envelope-enc"));

    private static async Task Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(20);
    }

    [Test]
    public async Task Pass_status_drop_and_duplicate_per_delivery_number()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        relay.On(2, Fault.Status(503)).On(3, Fault.Drop).On(4, Fault.Duplicate).On(5, Fault.Status(500));
        using var http = new HttpClient();

        Assert.That((int)(await Post(http, relay, "one")).StatusCode, Is.EqualTo(202));
        var unavailable = await Post(http, relay, "two");
        Assert.That((int)unavailable.StatusCode, Is.EqualTo(503));
        Assert.That(unavailable.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That((int)(await Post(http, relay, "three")).StatusCode, Is.EqualTo(202), "a drop looks accepted");
        Assert.That((int)(await Post(http, relay, "four")).StatusCode, Is.EqualTo(202));
        Assert.That((int)(await Post(http, relay, "five")).StatusCode, Is.EqualTo(500));
        Assert.That((int)(await Post(http, relay, "six")).StatusCode, Is.EqualTo(202));

        Assert.That(target.Bodies, Is.EqualTo(new[] { "one", "four", "four", "six" }));
        Assert.That(relay.Deliveries, Is.EqualTo(6));
        Assert.That(relay.Records.Select(r => r.ToString()), Has.Some.StartsWith("#2 http: answered HTTP 503, not forwarded")
            .And.Some.StartsWith("#3 http: answered 202, dropped").And.Some.StartsWith("#4 http: forwarded again (2 of 2"));
    }

    [Test]
    public async Task Reorder_delivers_the_held_message_after_the_next_one_or_after_the_window()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        relay.On(1, Fault.Reorder).On(3, Fault.Reorder);
        relay.ReorderWindow = TimeSpan.FromMilliseconds(300);
        using var http = new HttpClient();
        await Post(http, relay, "A");
        await Post(http, relay, "B");
        await Eventually(() => target.Bodies.Count == 2);
        Assert.That(target.Bodies, Is.EqualTo(new[] { "B", "A" }));

        await Post(http, relay, "C");   // nothing follows: released when the window ends
        await Eventually(() => target.Bodies.Count == 3);
        Assert.That(target.Bodies[2], Is.EqualTo("C"));
        Assert.That(relay.Records.Last().Action, Does.StartWith("released after 300 ms"));
    }

    [Test]
    public async Task Delay_holds_and_refuse_resets()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        relay.On(1, Fault.Delay(TimeSpan.FromMilliseconds(400))).On(2, Fault.Refuse);
        using var http = new HttpClient();
        var sw = Stopwatch.StartNew();
        await Post(http, relay, "slow");
        Assert.That(sw.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(380));
        await Assert.ThatAsync(() => Post(http, relay, "refused"), Throws.InstanceOf<HttpRequestException>());
        relay.Refusing = true;
        using var fresh = new HttpClient();
        await Assert.ThatAsync(() => Post(fresh, relay, "dead"), Throws.InstanceOf<HttpRequestException>());
        relay.Refusing = false;
        using var again = new HttpClient();
        await Post(again, relay, "alive");
        Assert.That(target.Bodies, Is.EqualTo(new[] { "slow", "alive" }));
        Assert.That(relay.Records.Any(r => r.Action == "refused connection"), Is.True);
    }

    [Test]
    public async Task Replay_sends_the_same_bytes_again_and_a_dead_endpoint_refuses()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        using var http = new HttpClient();
        await Post(http, relay, "original");
        Assert.That(await relay.ReplayAsync(1), Is.EqualTo(202));
        Assert.That(target.Bodies, Is.EqualTo(new[] { "original", "original" }));
        await Assert.ThatAsync(() => relay.ReplayAsync(7), Throws.InstanceOf<InvalidOperationException>());
        await Assert.ThatAsync(() => http.PostAsync(FaultRelay.DeadEndpoint(), new StringContent("x")), Throws.InstanceOf<HttpRequestException>());
    }

    [Test]
    public async Task A_websocket_is_cut_in_the_middle_of_the_programmed_message()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        relay.On(2, Fault.CutWebSocket);
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri(relay.WsUrl), CancellationToken.None);
        await ws.SendAsync(Encoding.UTF8.GetBytes("first"), WebSocketMessageType.Text, true, CancellationToken.None);
        var second = new string('x', 1000);
        await ws.SendAsync(Encoding.UTF8.GetBytes(second), WebSocketMessageType.Text, true, CancellationToken.None);
        await Eventually(() => target.WsEnds.Count == 1);
        Assert.That(target.WsMessages, Is.EqualTo(new[] { "first" }), "the cut message never completed");
        Assert.That(target.WsEnds.Single(), Is.EqualTo("aborted with 500 bytes of an unfinished message"));
        // The sender's socket is dead too: its next receive fails or reports the end.
        var buffer = new byte[16];
        Assert.That(async () =>
        {
            var r = await ws.ReceiveAsync(buffer, new CancellationTokenSource(2000).Token);
            if (r.MessageType != WebSocketMessageType.Close) throw new InvalidOperationException("still open");
            throw new WebSocketException("closed");
        }, Throws.InstanceOf<WebSocketException>());
        Assert.That(relay.Records.Single(r => r.Number == 2).Action, Does.StartWith("cut mid-message: 500 of 1000 bytes"));
    }

    [Test]
    public async Task Gets_go_to_the_target_unless_the_relay_serves_its_own_page()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await FaultRelay.StartAsync(target.Url);
        using var http = new HttpClient();
        Assert.That((int)(await http.GetAsync(relay.Url + "/?c_i=x")).StatusCode, Is.EqualTo(202), "passed to the target (which answers 202 to anything)");
        relay.GetHandler = ctx => { ctx.Response.StatusCode = 404; return Task.CompletedTask; };
        Assert.That((int)(await http.GetAsync(relay.Url + "/?c_i=x")).StatusCode, Is.EqualTo(404));
        Assert.That(relay.Deliveries, Is.EqualTo(0), "GETs are not deliveries");
    }
}
