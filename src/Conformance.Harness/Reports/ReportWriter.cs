// Writes a run's reports (DESIGN.md: reports/<run-id>/{results.json, junit.xml, index.html, cases/*.html,
// allure-results/}). Everything is rendered from sanitized copies of the case results: a value that looks like a
// private key is replaced by PrivateKeyGuard.Redacted (reports must still be written, so they redact; fixtures
// throw instead). Attachments that exist on disk are copied to cases/<case-id>/ so the report folder is
// self-contained.
using System.Text;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

public static class ReportWriter
{
    private static readonly UTF8Encoding Utf8 = new(false);

    public static ReportPaths Write(RunReport report, string outputDir, ReportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(outputDir);
        options ??= new ReportOptions();
        var dir = Path.GetFullPath(outputDir);
        var casesDir = Path.Combine(dir, "cases");
        var allureDir = Path.Combine(dir, "allure-results");
        Directory.CreateDirectory(casesDir);
        if (Directory.Exists(allureDir))
            foreach (var f in Directory.GetFiles(allureDir)) File.Delete(f);   // results of an earlier write of this run
        Directory.CreateDirectory(allureDir);

        var run = Sanitized(report);
        var resultsJson = Path.Combine(dir, "results.json");
        File.WriteAllText(resultsJson, ResultsJson.Render(report), Utf8);   // redacts itself, and counts redactions
        var junit = Path.Combine(dir, "junit.xml");
        File.WriteAllText(junit, JunitXml.Render(run), Utf8);
        var index = Path.Combine(dir, "index.html");
        File.WriteAllText(index, IndexPage.Render(run), Utf8);

        // Links: relative to the given specs root, else the standard layout (shared/ beside the repository).
        // Section text: from the given specs root, else from the standard location if it is there.
        var given = options.SpecsRoot != null && Directory.Exists(options.SpecsRoot) ? Path.GetFullPath(options.SpecsRoot) : null;
        var standard = Path.GetFullPath(Path.Combine(casesDir, CasePage.DefaultSpecsHref));
        var specsRoot = given ?? (Directory.Exists(standard) ? standard : null);
        var specsHrefFromCases = given != null ? Path.GetRelativePath(casesDir, given).Replace('\\', '/') : CasePage.DefaultSpecsHref;
        var pages = new List<string>();
        foreach (var c in run.Cases)
        {
            var sectionText = specsRoot != null ? SpecSection.Read(specsRoot, c.Section, options.MaxSectionChars) : null;
            var hrefs = CopyAttachments(c, casesDir);
            var page = Path.Combine(casesDir, Html.CaseFileName(c.Id));
            File.WriteAllText(page, CasePage.Render(run, c, specsHrefFromCases, sectionText, hrefs), Utf8);
            pages.Add(page);
        }

        // allure-results/ sits one level higher than cases/.
        var specsHrefFromAllure = given != null ? Path.GetRelativePath(allureDir, given).Replace('\\', '/') : CasePage.DefaultSpecsHref[3..];
        foreach (var (name, content) in AllureResults.Build(run, s => Html.Href(specsHrefFromAllure + "/" + s)))
            File.WriteAllText(Path.Combine(allureDir, name), content, Utf8);

        return new ReportPaths(dir, resultsJson, junit, index, pages, allureDir);
    }

    /// <summary>A copy of the report whose cases have every private-key-looking value redacted.</summary>
    public static RunReport Sanitized(RunReport r) => new()
    {
        RunId = r.RunId, Started = r.Started, Finished = r.Finished, Agents = r.Agents, Runtime = r.Runtime,
        Settings = r.Settings, Pairings = r.Pairings,
        Cases = r.Cases.Select(ResultsJson.Sanitized).ToList(),
    };

    private static Dictionary<string, string> CopyAttachments(CaseResult c, string casesDir)
    {
        var hrefs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (c.Attachments.Count == 0) return hrefs;
        var folder = Fixtures.GoldenFile.SafeName(c.Id);
        foreach (var a in c.Attachments)
        {
            try
            {
                if (!File.Exists(a)) continue;
                var target = Path.Combine(casesDir, folder, Fixtures.GoldenFile.SafeName(Path.GetFileName(a)));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                if (!string.Equals(Path.GetFullPath(a), target, StringComparison.Ordinal)) File.Copy(a, target, overwrite: true);
                hrefs[a] = folder + "/" + Path.GetFileName(target);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // Not copied: the page shows the path as text.
            }
        }
        return hrefs;
    }
}
