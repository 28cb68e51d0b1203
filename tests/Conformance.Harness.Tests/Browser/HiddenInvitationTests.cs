using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Transport;
using Conformance.Harness.Drivers;
using Conformance.Harness.Faults;
using Conformance.Harness.Grading;
using Conformance.Suites;
using Microsoft.AspNetCore.Http;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// The browser cases PASS against the reference agent, and test doubles whose invitation URL leads to a page that
/// hides the invitation make them WARN (the landing page is a SHOULD: RFC 0160 "should return human readable
/// instructions") or FAIL (a QR code that is shown MUST be the URL). The double is the reference agent behind a fault
/// relay that advertises the relay's address, so its invitation URLs point at the relay, whose GET handler serves the
/// double's page.
/// </summary>
public class HiddenInvitationTests
{
    private static readonly IReadOnlyList<CaseInfo> Catalog = CaseCatalog.Discover(SuitesAssembly.Assembly);

    [OneTimeSetUp]
    public async Task NeedsChromium() => await (await BrowserTestSupport.LaunchAsync()).DisposeAsync();

    private static async Task<CaseResult> Run(string caseId, Func<HttpContext, Task>? page)
    {
        var info = Catalog.Single(c => c.Id == caseId);
        await using var relay = await FaultRelay.StartAsync();
        relay.GetHandler = page;
        await using var driver = new ReferenceDriver(page == null ? "reference" : "hides-invitation", page == null ? null : (ReferenceAgent a) =>
        {
            a.Options.Endpoints.Add(relay.Url);   // invitation URLs now lead to the relay's page
        });
        var r = await CaseRunner.RunAsync(info, driver, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(3) });
        TestContext.Progress.WriteLine($"{caseId}: {r.Grade} — expected: {r.Expected} — observed: {r.Observed} {r.Reason}");
        return r;
    }

    private static Func<HttpContext, Task> Html(string html, int status = 200) => async ctx =>
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        await ctx.Response.WriteAsync(html);
    };

    [TestCase("BROWSER-INVITATION-001")]
    [TestCase("BROWSER-INVITATION-002")]
    [TestCase("BROWSER-INVITATION-003")]
    [TestCase("BROWSER-INVITATION-004")]
    [TestCase("BROWSER-INVITATION-005")]
    public async Task The_reference_agent_passes(string caseId)
    {
        var r = await Run(caseId, null);
        Assert.That(r.Grade, Is.EqualTo(Grade.PASS), $"{r.Expected} / {r.Observed} / {r.Reason}");
        Assert.That(r.Attachments.Any(a => a.EndsWith("landing-page.png") && File.Exists(a)), Is.True, "the screenshot is attached");
    }

    [Test]
    public async Task A_404_at_the_invitation_url_warns()
    {
        var r = await Run("BROWSER-INVITATION-001", Html("<!doctype html><title>Not Found</title><h1>404</h1>", 404));
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN), "a SHOULD of RFC 0160");
        Assert.That(r.Expected, Is.EqualTo("HTTP 200"));
        Assert.That(r.Observed, Does.StartWith("HTTP 404"));
    }

    [Test]
    public async Task A_blank_page_warns_and_shows_no_qr()
    {
        var blank = Html("<!doctype html><html><head><title></title></head><body></body></html>");
        var r = await Run("BROWSER-INVITATION-001", blank);
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.Contain("human-readable"));
        Assert.That(r.Observed, Does.Contain("0 words"));
        var qr = await Run("BROWSER-INVITATION-003", blank);
        Assert.That(qr.Grade, Is.EqualTo(Grade.UNSUPPORTED), "a QR code is optional");
        Assert.That(qr.Reason, Does.Contain("no QR code"));
    }

    [Test]
    public async Task A_page_that_only_echoes_the_encoded_invitation_as_json_warns()
    {
        var r = await Run("BROWSER-INVITATION-001", async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(new JsonObject { ["c_i"] = ctx.Request.Query["c_i"].ToString() }.ToJsonString());
        });
        Assert.That(r.Grade, Is.EqualTo(Grade.WARN));
        Assert.That(r.Observed, Does.Contain("application/json"));
    }

    [Test]
    public async Task A_qr_code_of_another_url_fails()
    {
        // Instructions are there, but the QR code sends the scanner elsewhere.
        var elsewhere = "https://attacker.example/?c_i=eyJAdHlwZSI6ImV2aWwifQ";
        var png = Convert.ToBase64String(InvitationPage.QrPng(elsewhere));
        var r = await Run("BROWSER-INVITATION-003", Html($"""
            <!doctype html><html><body><h1>Acme invites you to connect</h1>
            <p>Scan the code below with your wallet app to accept this invitation and connect with Acme securely.</p>
            <img src="data:image/png;base64,{png}" alt="invitation QR code">
            </body></html>
            """));
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL), "a QR code that is shown MUST be the invitation URL");
        Assert.That(r.Observed, Is.EqualTo(elsewhere).Or.StartsWith(elsewhere));
        Assert.That(r.Expected, Does.Contain("?c_i="));
        Assert.That(r.Attachments.Any(a => a.EndsWith("-qr.png")), Is.True, "the QR picture that was read is attached");
    }

    [Test]
    public async Task A_qr_code_that_cannot_be_read_fails()
    {
        // A real QR code of the right URL, with a third of its modules blacked out: found, but not readable.
        var r = await Run("BROWSER-INVITATION-003", async ctx =>
        {
            var url = $"{ctx.Request.Scheme}://{ctx.Request.Host}{ctx.Request.QueryString}";   // the URL as the agent issued it (no path)
            var png = Convert.ToBase64String(InvitationPage.QrPng(url));
            ctx.Response.ContentType = "text/html";
            await ctx.Response.WriteAsync($"""
                <!doctype html><html><body><h1>Acme invites you</h1><p>Scan the code below with your wallet app to connect with Acme securely today.</p>
                <div style="position:relative;display:inline-block"><img src="data:image/png;base64,{png}" style="image-rendering:pixelated">
                <div style="position:absolute;left:35%;top:30%;width:40%;height:45%;background:#000"></div></div></body></html>
                """);
        });
        Assert.That(r.Grade, Is.EqualTo(Grade.FAIL));
        Assert.That(r.Checks.Single(k => !k.Ok).Requirement, Does.Contain("can be read"));
    }
}
