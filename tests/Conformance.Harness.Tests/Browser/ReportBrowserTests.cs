using Conformance.Agent;
using Conformance.Harness.Browser;
using Conformance.Harness.Drivers;
using Conformance.Harness.Faults;
using Conformance.Harness.Grading;
using Conformance.Harness.Reports;
using Conformance.Suites;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Conformance.Harness.Tests.Browser;

/// <summary>
/// The HTML report as a person uses it, in Chromium: a real run (browser and fault cases against the reference agent
/// and against failing doubles) is written to reports/&lt;run&gt;/; the test opens index.html, filters to the failing
/// cases, opens one and reads its wire log, and checks that a browser case's page shows its screenshot. It saves
/// reports/&lt;run&gt;/summary.png (the summary table) and the pages it looked at, next to the report.
/// </summary>
public class ReportBrowserTests
{
    private static readonly IReadOnlyList<CaseInfo> Catalog = CaseCatalog.Discover(SuitesAssembly.Assembly);

    private static async Task<CaseResult> Run(string caseId, IAgentDriver driver)
    {
        await using var _ = driver;
        return await CaseRunner.RunAsync(Catalog.Single(c => c.Id == caseId), driver, new RunSettings { MessageTimeout = TimeSpan.FromSeconds(3) });
    }

    [Test]
    public async Task Filter_to_failing_open_one_and_read_its_wire_log()
    {
        await using var chromium = await BrowserTestSupport.LaunchAsync();

        // A small real run: PASS, FAIL and WARN cases, one of them with a screenshot attachment.
        var started = DateTimeOffset.UtcNow;
        await using var relay = await FaultRelay.StartAsync();
        relay.GetHandler = ctx => { ctx.Response.StatusCode = 404; return ctx.Response.WriteAsync("not here"); };
        var results = new List<CaseResult>
        {
            await Run("BROWSER-INVITATION-001", new ReferenceDriver()),
            await Run("FAULTS-DUPLICATE-002", new ReferenceDriver()),
            await Run("FAULTS-DUPLICATE-002", new ReferenceDriver("no-duplicate-detection", a => a.Misbehaviour.TreatRepeatedRequestsAsNew = true)),
            await Run("BROWSER-INVITATION-001", new ReferenceDriver("hides-invitation", (ReferenceAgent a) => a.Options.Endpoints.Add(relay.Url))),
        };
        Assert.That(results.Select(r => r.Grade), Is.EqualTo(new[] { Grade.PASS, Grade.PASS, Grade.FAIL, Grade.WARN }),
            string.Join(" | ", results.Select(r => $"{r.Id}/{r.Agent}: {r.Grade} {r.Expected} {r.Observed} {r.Reason}")));
        // Same id twice: give the doubles' results their own ids so each gets its own case page.
        results[2].Id += "-no-duplicate-detection";
        results[3].Id += "-hides-invitation";

        var runId = "browser-check-" + DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss") + "-" + Environment.ProcessId;
        var dir = Path.Combine(TestPaths.RepoRoot, "reports", runId);
        var report = new RunReport
        {
            RunId = runId, Started = started, Finished = DateTimeOffset.UtcNow, Agents = ["reference", "doubles"],
            Runtime = "in-process", Cases = results, Settings = new() { ["suites"] = "BROWSER-INVITATION-001, FAULTS-DUPLICATE-002" },
        };
        var paths = ReportWriter.Write(report, dir);
        TestContext.Progress.WriteLine("report: " + paths.IndexHtml);

        var page = await chromium.NewPageAsync(1100, 900);
        await page.GotoAsync(new Uri(paths.IndexHtml).AbsoluteUri);
        var summary = Path.Combine(dir, "summary.png");
        await page.Locator("#summary").ScreenshotAsync(new() { Path = summary });
        TestContext.Progress.WriteLine("summary screenshot: " + summary);
        Assert.That(await page.Locator("tr.case-row:visible").CountAsync(), Is.EqualTo(4));

        // Filter to the failing cases.
        await page.ClickAsync("#filter-FAIL");
        Assert.That(await page.GetAttributeAsync("#filter-FAIL", "aria-pressed"), Is.EqualTo("true"));
        var visible = page.Locator("tr.case-row:visible");
        Assert.That(await visible.CountAsync(), Is.EqualTo(1));
        Assert.That(await visible.First.GetAttributeAsync("data-grade"), Is.EqualTo("FAIL"));
        Assert.That(await page.InnerTextAsync("#shown-count"), Does.StartWith("1 of 4"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "index-failing.png"), FullPage = true });

        // Open it and read its wire log.
        await visible.First.Locator("a.case-link").ClickAsync();
        await page.WaitForURLAsync("**/cases/FAULTS-DUPLICATE-002-no-duplicate-detection.html");
        Assert.That(await page.InnerTextAsync("#grade"), Is.EqualTo("FAIL"));
        Assert.That(await page.InnerTextAsync("#expected"), Does.Contain("1 connection"));
        Assert.That(await page.InnerTextAsync("#observed"), Does.Contain("2 connections"));
        var log = page.Locator("#wire-log");
        Assert.That(await log.IsVisibleAsync(), Is.True);
        Assert.That(await log.Locator("article.wire-msg").CountAsync(), Is.EqualTo(3), "the request and the relay's two forwards of it");
        Assert.That(await log.InnerTextAsync(), Does.Contain("connections/1.0/request").And.Contain("forwarded again (2 of 2, same bytes)"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, "case-failing.png"), FullPage = true });

        // A browser case's page carries the screenshot the case took.
        await page.GotoAsync(new Uri(Path.Combine(dir, "cases", "BROWSER-INVITATION-001.html")).AbsoluteUri);
        var img = page.Locator("#attachments img.attachment").First;
        Assert.That(await img.GetAttributeAsync("src"), Does.EndWith("landing-page.png"));
        Assert.That(await img.EvaluateAsync<int>("i => i.naturalWidth"), Is.GreaterThan(400), "the screenshot loads from the report folder");
        Assert.That(File.Exists(Path.Combine(dir, "cases", "BROWSER-INVITATION-001", "BROWSER-INVITATION-001-landing-page.png")), Is.True);
        await page.Context.CloseAsync();
        Assert.That(new FileInfo(summary).Length, Is.GreaterThan(1000));
    }
}
