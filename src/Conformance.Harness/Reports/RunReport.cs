using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

/// <summary>Everything a run's reports are made of: metadata, the graded cases, and optional interop pairings.</summary>
public sealed class RunReport
{
    public string RunId { get; set; } = "";
    public DateTimeOffset Started { get; set; }
    public DateTimeOffset Finished { get; set; }

    /// <summary>The agent(s) under test (one for a conformance run, several for an interop run).</summary>
    public List<string> Agents { get; set; } = [];

    /// <summary>The runtime the harness ran on, e.g. ".NET 10.0.0 linux-x64".</summary>
    public string Runtime { get; set; } = DefaultRuntime;

    /// <summary>Run settings worth showing (seed, deterministic, timeouts, suites filter …), shown in insertion order.</summary>
    public Dictionary<string, string> Settings { get; set; } = [];

    public List<CaseResult> Cases { get; set; } = [];

    /// <summary>Interop results (inviter × invitee × protocol); empty for a conformance run.</summary>
    public List<Pairing> Pairings { get; set; } = [];

    public TimeSpan WallTime => Finished >= Started ? Finished - Started : TimeSpan.Zero;

    public static string DefaultRuntime =>
        $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.RuntimeIdentifier}";

    /// <summary>Counts by grade (every grade present, in enum order).</summary>
    public Dictionary<Grade, int> CountByGrade() => Count(Cases);

    /// <summary>Counts by RFC (in first-appearance order) and grade.</summary>
    public List<(string Rfc, Dictionary<Grade, int> Counts)> CountByRfc() =>
        Cases.GroupBy(c => c.Rfc).Select(g => (g.Key, Count(g))).ToList();

    private static Dictionary<Grade, int> Count(IEnumerable<CaseResult> cases)
    {
        var d = Enum.GetValues<Grade>().ToDictionary(g => g, _ => 0);
        foreach (var c in cases) d[c.Grade]++;
        return d;
    }
}

/// <summary>One interop result: an inviter agent and an invitee agent ran a protocol together and got a grade.</summary>
public sealed record Pairing(
    [property: JsonPropertyName("inviter")] string Inviter,
    [property: JsonPropertyName("invitee")] string Invitee,
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("grade")] Grade Grade,
    [property: JsonPropertyName("case_id")] string? CaseId = null);

/// <summary>How reports are written.</summary>
public sealed class ReportOptions
{
    /// <summary>
    /// The absolute path of shared/specs, if known: section links are then computed relative to it (and the case pages
    /// quote the section's text from it). Unset, links assume the standard layout: reports/&lt;run&gt;/cases/ inside the
    /// repository, with shared/ beside the repository: <c>../../../../shared/specs/</c>.
    /// </summary>
    public string? SpecsRoot { get; set; }

    /// <summary>Longest section text quoted on a case page.</summary>
    public int MaxSectionChars { get; set; } = 6000;
}

/// <summary>The files <see cref="ReportWriter.Write"/> produced.</summary>
public sealed record ReportPaths(
    string Directory, string ResultsJson, string JunitXml, string IndexHtml,
    IReadOnlyList<string> CasePages, string AllureResults);
