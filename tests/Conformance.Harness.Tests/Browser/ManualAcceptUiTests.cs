using System.Net;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Harness.Browser;
using Conformance.Harness.Drivers;
using Conformance.Harness.Tap;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// The reference agent's manual-accept page (/ui/pending) driven in Chromium like a person would: a peer's request
/// appears with Accept and Reject buttons; Accept sends the RFC 0160 response and the connection completes; Reject
/// sends a request_not_accepted problem report threaded to the request. Posts without the page's form token, or from
/// another origin, change nothing.
/// </summary>
public class ManualAcceptUiTests
{
    private Chromium _chromium = null!;

    [OneTimeSetUp] public async Task Launch() => _chromium = await BrowserTestSupport.LaunchAsync();
    [OneTimeTearDown] public async Task Close() { if (_chromium != null) await _chromium.DisposeAsync(); }

    private sealed class Scene : IAsyncDisposable
    {
        public required ReferenceAgent Agent { get; init; }
        public required AgentHost Host { get; init; }
        public required ReferencePeer Peer { get; init; }
        public required WireTap Tap { get; init; }
        public required string PeerConnectionId { get; init; }
        public required string AgentConnectionId { get; init; }
        public string PendingUrl => Host.HttpEndpoint + "ui/pending";

        public async ValueTask DisposeAsync()
        {
            await Peer.DisposeAsync();
            await Host.DisposeAsync();
            await Agent.DisposeAsync();
        }
    }

    /// <summary>A manual-accept inviter with one pending request from "Bob".</summary>
    private static async Task<Scene> PendingRequestAsync()
    {
        var agent = new ReferenceAgent(new AgentOptions { Label = "Acme (manual accept)", AutoAccept = false, Seed = "ui/acme" });
        var host = await AgentHost.StartAsync(agent, new AgentHostOptions());
        var tap = new WireTap(System.Diagnostics.Stopwatch.StartNew());
        var peer = await ReferencePeer.StartAsync("Bob", tap, "ui/bob", o => o.AutoAccept = true);
        var (record, invitation, _) = await agent.Connections.CreateInvitationAsync(new() { AutoAccept = false });
        var pc = await peer.Agent.Connections.ReceiveInvitationAsync(invitation, autoAccept: true);
        await Until(() => agent.Store.GetConnection(record.ConnectionId!)?.State == "requested", "the request reaches Acme");
        return new Scene { Agent = agent, Host = host, Peer = peer, Tap = tap, PeerConnectionId = pc.Id, AgentConnectionId = record.ConnectionId! };
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.That(condition(), Is.True, what);
    }

    [Test]
    public async Task Accepting_a_pending_request_in_the_browser_completes_the_connection()
    {
        await using var s = await PendingRequestAsync();
        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(s.PendingUrl);
        var row = page.Locator("tr.pending-request", new() { HasText = "Bob" });
        Assert.That(await row.CountAsync(), Is.EqualTo(1), "Bob's request is listed");
        Assert.That(await row.GetAttributeAsync("data-connection"), Is.EqualTo(s.AgentConnectionId));
        var shot = Path.Combine(BrowserTestSupport.ScreenshotDir("manual-accept"), "pending.png");
        await page.ScreenshotAsync(new() { Path = shot, FullPage = true });
        TestContext.Progress.WriteLine("screenshot: " + shot);

        await row.Locator("button.accept").ClickAsync();
        await page.WaitForURLAsync(s.PendingUrl);
        Assert.That(await page.Locator(".notice").InnerTextAsync(), Does.Contain("Accepted the request from Bob"));
        Assert.That(await page.Locator("#no-pending").CountAsync(), Is.EqualTo(1), "nothing is pending any more");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserTestSupport.ScreenshotDir("manual-accept"), "accepted.png"), FullPage = true });

        // The response went out; Bob (auto-accepting) takes it and acknowledges with a trust ping: complete on both sides.
        await Until(() => s.Peer.Agent.Store.GetConnection(s.PeerConnectionId)?.State == "complete", "Bob's connection completes");
        await Until(() => s.Agent.Store.GetConnection(s.AgentConnectionId)?.State == "complete", "Acme's connection completes");
        Assert.That(s.Tap.Received("response"), Has.Count.EqualTo(1));
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Rejecting_a_pending_request_sends_request_not_accepted_threaded_to_it()
    {
        await using var s = await PendingRequestAsync();
        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(s.PendingUrl);
        await page.Locator("tr.pending-request", new() { HasText = "Bob" }).Locator("button.reject").ClickAsync();
        await page.WaitForURLAsync(s.PendingUrl);
        Assert.That(await page.Locator(".notice").InnerTextAsync(), Does.Contain("Rejected the request from Bob"));

        await Until(() => s.Tap.Received("problem_report").Count == 1, "Bob receives a problem report");
        var report = s.Tap.Received("problem_report")[0].Plaintext!;
        var request = s.Tap.Outbound.First(e => WireTap.TypeNameIs(e, "request")).Plaintext!;
        Assert.That(report["problem-code"]!.GetValue<string>(), Is.EqualTo("request_not_accepted"));
        Assert.That(report["~thread"]!["thid"]!.GetValue<string>(), Is.EqualTo(request["@id"]!.GetValue<string>()));
        Assert.That(s.Agent.Store.GetConnection(s.AgentConnectionId)!.State, Is.EqualTo("error"));
        Assert.That(s.Peer.Agent.Store.GetConnection(s.PeerConnectionId)!.State, Is.EqualTo("requested"), "Bob's side only records the report");
        await page.Context.CloseAsync();
    }

    [Test]
    public async Task Accepting_a_didexchange_request_in_the_browser_completes_it()
    {
        var agent = new ReferenceAgent(new AgentOptions { Label = "Acme (manual accept)", AutoAccept = false, Seed = "ui/acme-dx" });
        await using var host = await AgentHost.StartAsync(agent, new AgentHostOptions());
        var tap = new WireTap(System.Diagnostics.Stopwatch.StartNew());
        await using var peer = await ReferencePeer.StartAsync("Carol", tap, "ui/carol", o => o.AutoAccept = true);
        var oob = await agent.OutOfBand.CreateInvitationAsync(new Conformance.Agent.OutOfBand.OobInvitationOptions
        {
            HandshakeProtocols = ["https://didcomm.org/didexchange/1.1"],
            AutoAccept = false,
        });
        var received = await peer.Agent.OutOfBand.ReceiveInvitationAsync(oob.Invitation, new Conformance.Agent.OutOfBand.OobReceiveOptions { AutoAccept = true });
        var carolId = received.Connection!.Id;
        await Until(() => agent.Store.Connections().Any(c => c.State == "request-received"), "Carol's didexchange request reaches Acme");

        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(host.HttpEndpoint + "ui/pending");
        var row = page.Locator("tr.pending-request", new() { HasText = "Carol" });
        Assert.That(await row.InnerTextAsync(), Does.Contain("didexchange/1.1"));
        await row.Locator("button.accept").ClickAsync();
        await page.WaitForURLAsync(host.HttpEndpoint + "ui/pending");
        Assert.That(await page.Locator(".notice").InnerTextAsync(), Does.Contain("Accepted the request from Carol"));
        await Until(() => peer.Agent.Store.GetConnection(carolId)?.State == "completed", "Carol's exchange completes");
        await Until(() => agent.Store.Connections().Any(c => c.Protocol.StartsWith("didexchange/") && c.State == "completed"), "Acme's exchange completes");
        await page.Context.CloseAsync();
        await agent.DisposeAsync();
    }

    [Test]
    public async Task Forged_posts_change_nothing()
    {
        await using var s = await PendingRequestAsync();
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var url = s.Host.HttpEndpoint + $"ui/pending/{s.AgentConnectionId}/accept";

        // No token (a form on another site cannot know it).
        var noToken = await http.PostAsync(url, new FormUrlEncodedContent([new("token", "00")]));
        Assert.That(noToken.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        // The right token from another origin.
        var html = await http.GetStringAsync(s.PendingUrl);
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"token\" value=\"([0-9A-F]+)\"").Groups[1].Value;
        Assert.That(token, Has.Length.EqualTo(32));
        using var cross = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([new("token", token)]) };
        cross.Headers.Add("Origin", "https://evil.example");
        Assert.That((await http.SendAsync(cross)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        // A GET never changes state.
        Assert.That((await http.GetAsync(url)).StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed).Or.EqualTo(HttpStatusCode.NotFound));
        Assert.That(s.Agent.Store.GetConnection(s.AgentConnectionId)!.State, Is.EqualTo("requested"), "still pending");
        Assert.That(s.Tap.Received("response"), Is.Empty);

        // The page itself: scripts are not allowed to run on it.
        var page = await http.GetAsync(s.PendingUrl);
        Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'none'"));

        // And the genuine form post works.
        using var genuine = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([new("token", token)]) };
        genuine.Headers.Add("Origin", s.Host.HttpEndpoint.GetLeftPart(UriPartial.Authority));
        Assert.That((int)(await http.SendAsync(genuine)).StatusCode, Is.EqualTo(302));
        await Until(() => s.Peer.Agent.Store.GetConnection(s.PeerConnectionId)?.State == "complete", "Bob's connection completes");
    }
}
