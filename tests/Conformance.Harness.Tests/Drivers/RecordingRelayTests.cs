using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Conformance.Agent;
using Conformance.Agent.Transport;
using Conformance.Harness.Tap;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>
/// RecordingRelay: forwards HTTP bodies and WebSocket frames unchanged, both ways, and records what crossed.
/// The media types are those of RFC 0025 (application/didcomm-envelope-enc) and the legacy application/ssi-agent-wire.
/// </summary>
[TestFixture]
public class RecordingRelayTests
{
    private const string Envelope = "application/didcomm-envelope-enc";

    /// <summary>A stand-in agent endpoint that remembers exactly what reached it.</summary>
    private sealed class Target : IAsyncDisposable
    {
        public WebApplication App = null!;
        public Uri Url = null!;
        public readonly List<(string Method, string Path, string? ContentType, byte[] Body)> Requests = [];
        public readonly List<(WebSocketMessageType Type, byte[] Body)> Frames = [];
        public WebSocketCloseStatus? ClosedWith;
        public readonly TaskCompletionSource Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static byte[] Echo(byte[] body) => [.. "echo:"u8, .. body];

        public static async Task<Target> StartAsync()
        {
            var t = new Target();
            var b = WebApplication.CreateSlimBuilder();
            b.Logging.ClearProviders();
            b.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
            var app = b.Build();
            app.UseWebSockets();
            app.Run(async ctx =>
            {
                if (ctx.WebSockets.IsWebSocketRequest)
                {
                    using var ws = await ctx.WebSockets.AcceptWebSocketAsync();
                    // The target speaks first (an unsolicited message, as a mediator delivering queued messages would).
                    await ws.SendAsync(Encoding.UTF8.GetBytes("hello from target"), WebSocketMessageType.Text, true, default);
                    var buf = new byte[64 * 1024];
                    while (true)
                    {
                        var r = await ws.ReceiveAsync(buf, default);
                        if (r.MessageType == WebSocketMessageType.Close)
                        {
                            t.ClosedWith = ws.CloseStatus;
                            await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, default);
                            t.Closed.TrySetResult();
                            return;
                        }
                        var body = buf[..r.Count];
                        lock (t.Frames) t.Frames.Add((r.MessageType, body));
                        // Echo back with the same frame type, behind a prefix.
                        await ws.SendAsync(Echo(body), r.MessageType, true, default);
                    }
                }
                using var ms = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(ms);
                lock (t.Requests) t.Requests.Add((ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Request.ContentType, ms.ToArray()));
                if (ctx.Request.Path == "/reply")
                {
                    // A return-routed reply: 200 with an envelope in the body.
                    ctx.Response.StatusCode = 200;
                    ctx.Response.ContentType = Envelope;
                    await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes("{\"protected\":\"cmVwbHk\"}"));
                    return;
                }
                ctx.Response.StatusCode = 202;
            });
            await app.StartAsync();
            t.App = app;
            t.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
            return t;
        }

        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }

    [Test]
    public async Task Forwards_a_POST_unchanged_and_records_media_type_and_status()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await RecordingRelay.StartAsync(target.Url, new RelayOptions { ClientName = "alice", TargetName = "bob" });
        Assert.That(relay.Endpoint.Port, Is.Not.EqualTo(target.Url.Port));
        Assert.That(relay.Endpoint.Host, Is.EqualTo("127.0.0.1"));

        // Bytes that a re-serialising proxy would change: odd spacing, key order, a non-ASCII character, no newline.
        var body = Encoding.UTF8.GetBytes("{\"protected\": \"eyJlbmMiOiJ4Y2hhY2hhMjBwb2x5MTMwNV9pZXRmIn0\",  \"iv\":\"AAA\",\"ciphertext\":\"x\",\"tag\":\"é\"}");
        using var http = new HttpClient();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(Envelope);
        using var r = await http.PostAsync(new Uri(relay.Endpoint, "/?x=1"), content);

        Assert.That((int)r.StatusCode, Is.EqualTo(202));
        Assert.That(target.Requests, Has.Count.EqualTo(1));
        var got = target.Requests[0];
        Assert.Multiple(() =>
        {
            Assert.That(got.Method, Is.EqualTo("POST"));
            Assert.That(got.Path, Is.EqualTo("/?x=1"));
            Assert.That(got.ContentType, Is.EqualTo(Envelope));
            Assert.That(got.Body, Is.EqualTo(body), "the body reaches the target byte for byte");
        });

        var rec = relay.Records.Single();
        Assert.Multiple(() =>
        {
            Assert.That(rec.Transport, Is.EqualTo("http"));
            Assert.That(rec.Method, Is.EqualTo("POST"));
            Assert.That(rec.Path, Is.EqualTo("/?x=1"));
            Assert.That(rec.MediaType, Is.EqualTo(Envelope));
            Assert.That(rec.Status, Is.EqualTo(202));
            Assert.That(rec.Body, Is.EqualTo(body));
            Assert.That(rec.From, Is.EqualTo("alice"));
            Assert.That(rec.To, Is.EqualTo("bob"));
            Assert.That(rec.FromTarget, Is.False);
        });

        var wire = relay.ToWireRecords().Single();
        Assert.Multiple(() =>
        {
            Assert.That(wire.Direction, Is.EqualTo("alice -> bob"));
            Assert.That(wire.Transport, Is.EqualTo("http"));
            Assert.That(wire.Envelope, Is.EqualTo(Encoding.UTF8.GetString(body)));
            Assert.That(wire.Type, Is.Null, "an encrypted envelope has no visible @type");
            Assert.That(wire.Note, Does.Contain("202").And.Contain(Envelope));
        });
    }

    [Test]
    public async Task A_return_routed_reply_in_the_response_body_is_forwarded_and_recorded_the_other_way()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await RecordingRelay.StartAsync(target.Url);
        using var http = new HttpClient();
        var content = new ByteArrayContent("{}"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/ssi-agent-wire");
        using var r = await http.PostAsync(new Uri(relay.Endpoint, "/reply"), content);

        Assert.That((int)r.StatusCode, Is.EqualTo(200));
        Assert.That(r.Content.Headers.ContentType!.MediaType, Is.EqualTo(Envelope));
        Assert.That(await r.Content.ReadAsStringAsync(), Is.EqualTo("{\"protected\":\"cmVwbHk\"}"));
        var records = relay.Records;
        Assert.That(records, Has.Count.EqualTo(2));
        Assert.That(records[0].MediaType, Is.EqualTo("application/ssi-agent-wire"));
        Assert.That(records[1].FromTarget, Is.True);
        Assert.That(records[1].MediaType, Is.EqualTo(Envelope));
        Assert.That(records[1].Status, Is.EqualTo(200));
        Assert.That(relay.ToWireRecords()[1].Direction, Is.EqualTo("agent -> client"));
    }

    [Test]
    public async Task Forwards_WebSocket_frames_both_ways_unchanged_and_records_them_in_order()
    {
        await using var target = await Target.StartAsync();
        await using var relay = await RecordingRelay.StartAsync(target.Url);
        using var ws = new ClientWebSocket();
        await ws.ConnectAsync(relay.WsEndpoint, default);
        var buf = new byte[64 * 1024];

        async Task<(WebSocketMessageType, byte[])> ReceiveAsync()
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            WebSocketReceiveResult r;
            try { r = await ws.ReceiveAsync(buf, cts.Token); }
            catch (WebSocketException e)
            {
                throw new AssertionException(e.Message + " records: " + string.Join(" | ", relay.Records.Select(x => $"{x.Seq} {x.From}->{x.To} {x.MediaType} {x.Body.Length} {x.Note}")));
            }
            return (r.MessageType, buf[..r.Count]);
        }

        var hello = await ReceiveAsync();
        Assert.That(Encoding.UTF8.GetString(hello.Item2), Is.EqualTo("hello from target"));

        var text = "{\"protected\":\"abc\",\"ciphertext\":\"ü\"}"u8.ToArray();
        await ws.SendAsync(text, WebSocketMessageType.Text, true, default);
        var echo1 = await ReceiveAsync();
        var binary = new byte[] { 0, 1, 2, 255, 254 };
        await ws.SendAsync(binary, WebSocketMessageType.Binary, true, default);
        var echo2 = await ReceiveAsync();

        Assert.Multiple(() =>
        {
            Assert.That(target.Frames[0].Body, Is.EqualTo(text));
            Assert.That(target.Frames[0].Type, Is.EqualTo(WebSocketMessageType.Text));
            Assert.That(target.Frames[1].Body, Is.EqualTo(binary));
            Assert.That(target.Frames[1].Type, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(echo1.Item2, Is.EqualTo(Target.Echo(text)));
            Assert.That(echo2.Item1, Is.EqualTo(WebSocketMessageType.Binary));
            Assert.That(echo2.Item2, Is.EqualTo(Target.Echo(binary)));
        });

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", default);
        Assert.That(await Task.WhenAny(target.Closed.Task, Task.Delay(5000)), Is.SameAs(target.Closed.Task), "the close reaches the target");
        Assert.That(target.ClosedWith, Is.EqualTo(WebSocketCloseStatus.NormalClosure));

        await relay.WaitAsync(r => r.Note?.StartsWith("close") == true && !r.FromTarget, TimeSpan.FromSeconds(5));
        var frames = relay.Records.Where(r => r.Body.Length > 0).ToList();
        Assert.That(frames.Select(f => (f.FromTarget, f.MediaType)), Is.EqualTo(new[]
        {
            (true, "text"), (false, "text"), (true, "text"), (false, "binary"), (true, "binary"),
        }));
        Assert.That(frames[1].Body, Is.EqualTo(text));
        Assert.That(frames[3].Body, Is.EqualTo(binary));
        Assert.That(relay.Records.First().Note, Is.EqualTo("open"));
        var wire = relay.ToWireRecords().Where(w => w.Envelope != null).ToList();
        Assert.That(wire[3].Envelope, Is.EqualTo(Convert.ToBase64String(binary)), "a body that is not UTF-8 is kept as base64");
        Assert.That(wire[3].Note, Does.Contain("base64"));
    }

    [Test]
    public async Task In_front_of_the_reference_agent_a_rejected_envelope_is_recorded_with_the_agents_status()
    {
        // The real thing: the relay in front of a reference agent's DIDComm endpoint.
        await using var agent = new ReferenceAgent(new Conformance.Agent.Core.AgentOptions { Label = "behind relay" });
        await using var host = await AgentHost.StartAsync(agent, new AgentHostOptions());
        await using var relay = await RecordingRelay.StartAsync(host.HttpEndpoint);
        using var http = new HttpClient();
        var content = new ByteArrayContent("not an envelope"u8.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue(Envelope);
        using var r = await http.PostAsync(relay.Endpoint, content);
        var rec = relay.Records[0];
        Assert.Multiple(() =>
        {
            Assert.That((int)r.StatusCode, Is.EqualTo(400), "the agent rejects it, and the relay passes its answer on");
            Assert.That(rec.Status, Is.EqualTo(400));
            Assert.That(rec.MediaType, Is.EqualTo(Envelope));
            Assert.That(rec.Body, Is.EqualTo("not an envelope"u8.ToArray()));
        });
        // A wrong media type: the agent says 415, the relay does not "fix" the header.
        var plain = new StringContent("x", Encoding.UTF8, "text/plain");
        using var r2 = await http.PostAsync(relay.Endpoint, plain);
        Assert.That((int)r2.StatusCode, Is.EqualTo(415));
        Assert.That(relay.Records.First(x => x.Status == 415).MediaType, Is.EqualTo("text/plain; charset=utf-8"));
    }

    [Test]
    public async Task An_unreachable_target_is_a_502_and_a_record_that_says_so()
    {
        var port = Conformance.Harness.Drivers.FreePorts.Pick(1)[0];
        await using var relay = await RecordingRelay.StartAsync(new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient();
        using var r = await http.PostAsync(relay.Endpoint, new StringContent("x"));
        Assert.That((int)r.StatusCode, Is.EqualTo(502));
        Assert.That(relay.Records.Single().Note, Does.StartWith("target unreachable"));
    }
}
