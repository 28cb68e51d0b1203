using System.Text;
using Conformance.Harness.Grading;

namespace Conformance.Harness.Reports;

/// <summary>
/// The plain-text table ./run.sh prints at the end of a run: one row per RFC, one column per grade, a total row, then
/// the wall time. ASCII only (CI logs), columns right-aligned.
/// <code>
/// RFC      PASS  WARN  FAIL  UNSUPPORTED  ERROR  TOTAL
/// RFC0160     5     1     0            0      0      6
/// TOTAL       5     1     0            0      0      6
/// wall time 3.2 s (run 20250101-120000)
/// </code>
/// </summary>
public static class SummaryTable
{
    public static string Render(RunReport run)
    {
        var grades = Enum.GetValues<Grade>();
        var header = new List<string> { "RFC" };
        header.AddRange(grades.Select(g => g.ToString()));
        header.Add("TOTAL");

        var rows = new List<List<string>>();
        foreach (var (rfc, counts) in run.CountByRfc())
            rows.Add([rfc, .. grades.Select(g => counts[g].ToString()), counts.Values.Sum().ToString()]);
        var total = run.CountByGrade();
        rows.Add(["TOTAL", .. grades.Select(g => total[g].ToString()), run.Cases.Count.ToString()]);

        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToList();
        var sb = new StringBuilder();
        void Line(List<string> cells) =>
            sb.Append(string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd()).Append('\n');
        Line(header);
        foreach (var r in rows) Line(r);
        sb.Append($"wall time {Html.Duration(run.WallTime)} (run {run.RunId})\n");
        return sb.ToString();
    }
}
