using System.Net;
using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;
using Conformance.Harness.Browser;
using Conformance.Wire.Invitations;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// The reference agent's invitation landing page, seen through Chromium: it explains the invitation (label, handshake
/// protocols, goal, how to accept), its QR code — read back from the screenshot's pixels — is exactly the invitation
/// URL the agent issued, hostile labels stay text, and a damaged link gets a page that says so.
/// </summary>
public class LandingPageTests
{
    private Chromium _chromium = null!;

    [OneTimeSetUp] public async Task Launch() => _chromium = await BrowserTestSupport.LaunchAsync();
    [OneTimeTearDown] public async Task Close() { if (_chromium != null) await _chromium.DisposeAsync(); }

    private static async Task<(ReferenceAgent Agent, AgentHost Host)> StartAsync(string label)
    {
        var agent = new ReferenceAgent(new AgentOptions { Label = label, Seed = "landing-page/" + label });
        return (agent, await AgentHost.StartAsync(agent, new AgentHostOptions()));
    }

    [Test]
    public async Task Connection_invitation_page_explains_and_its_qr_is_the_exact_url()
    {
        var (agent, host) = await StartAsync("Faber College");
        await using var _ = host;
        var (_, _, url) = await agent.Connections.CreateInvitationAsync(new() { AutoAccept = false });
        var shot = Path.Combine(BrowserTestSupport.ScreenshotDir("landing"), "connection-invitation.png");
        var visit = await PageProbe.VisitAsync(_chromium, url, shot);
        TestContext.Progress.WriteLine("screenshot: " + shot);

        Assert.That(visit.Status, Is.EqualTo(200));
        Assert.That(visit.IsHumanReadable, Is.True, visit.Summary);
        Assert.That(visit.VisibleText, Does.Contain("Faber College invites you to connect"));
        Assert.That(visit.VisibleText, Does.Contain("connections/1.0"));
        Assert.That(visit.VisibleText, Does.Contain("How to accept"));
        Assert.That(visit.Qr.Outcome, Is.EqualTo(QrOutcome.Read), visit.Qr.Detail);
        Assert.That(visit.Qr.Text, Is.EqualTo(url), "the QR code decodes to the exact URL the agent issued (no '/' added, padding kept)");
        Assert.That(visit.Qr.Where, Is.EqualTo("img#invitation-qr-image"));
    }

    [Test]
    public async Task Oob_invitation_page_shows_handshake_protocols_and_goal()
    {
        var (agent, host) = await StartAsync("Faber College");
        await using var _ = host;
        var record = await agent.OutOfBand.CreateInvitationAsync(new Conformance.Agent.OutOfBand.OobInvitationOptions
        {
            HandshakeProtocols = ["https://didcomm.org/didexchange/1.1"],
            Goal = "To issue a Faber College Graduate credential",
            GoalCode = "issue-vc",
        });
        var url = InvitationUrl.Encode(record.Invitation, agent.Endpoint!, InvitationParameter.OutOfBand);
        var visit = await PageProbe.VisitAsync(_chromium, url, Path.Combine(BrowserTestSupport.ScreenshotDir("landing"), "oob-invitation.png"));
        Assert.That(visit.VisibleText, Does.Contain("out-of-band invitation (Aries RFC 0434)"));
        Assert.That(visit.VisibleText, Does.Contain("https://didcomm.org/didexchange/1.1 (RFC 0023)"));
        Assert.That(visit.VisibleText, Does.Contain("To issue a Faber College Graduate credential"));
        Assert.That(visit.Qr.Text, Is.EqualTo(url));
    }

    [Test]
    public async Task A_hostile_label_is_shown_as_text_and_no_script_runs()
    {
        const string label = "<script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">";
        var (agent, host) = await StartAsync(label);
        await using var _ = host;
        var (_, _, url) = await agent.Connections.CreateInvitationAsync(new() { AutoAccept = false });
        var page = await _chromium.NewPageAsync();
        await page.GotoAsync(url);
        Assert.That(await page.TitleAsync(), Is.Not.EqualTo("owned"), "no script changed the title");
        Assert.That(await page.InnerTextAsync("#invitation-label"), Is.EqualTo(label), "shown literally");
        Assert.That(await page.EvaluateAsync<int>("() => document.querySelectorAll('script').length"), Is.EqualTo(0));
        await page.Context.CloseAsync();

        using var http = new HttpClient();
        var response = await http.GetAsync(url);
        Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'none'"));
    }

    [Test]
    public async Task A_damaged_link_gets_a_page_that_says_so()
    {
        var (_, host) = await StartAsync("Acme");
        await using var _ = host;
        using var http = new HttpClient();
        var response = await http.GetAsync(host.HttpEndpoint + "?c_i=not-base64-json!!");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("This invitation link is damaged"));
    }

    [Test]
    public void The_qr_png_of_a_long_url_decodes_back_exactly()
    {
        // Independent of the browser: the PNG the page embeds, decoded as it is.
        var invitation = JsonNode.Parse("""{"@type":"https://didcomm.org/connections/1.0/invitation","@id":"12345678900987654321","label":"Alice","recipientKeys":["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"],"serviceEndpoint":"https://example.com/endpoint","routingKeys":["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"]}""")!.AsObject();
        var url = InvitationUrl.Encode(invitation, "http://example.com/ssi", InvitationParameter.ConnectionInvitation, padded: true);
        Assert.That(QrDecoder.DecodePng(InvitationPage.QrPng(url)).Text, Is.EqualTo(url));
    }
}
