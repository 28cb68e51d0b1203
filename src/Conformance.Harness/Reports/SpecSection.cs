using System.Text;
using System.Text.RegularExpressions;

namespace Conformance.Harness.Reports;

/// <summary>
/// Finds the text of a section in a copy of a Markdown spec, by the anchor GitHub gives its heading
/// ("## 1. Connection Request" → <c>#1-connection-request</c>; repeated headings get -1, -2 …), so a case page can
/// quote the section its requirement comes from.
/// </summary>
public static partial class SpecSection
{
    /// <summary>
    /// The section named by <paramref name="section"/> ("aries-rfcs/0160-connection-protocol/README.md#errors",
    /// relative to <paramref name="specsRoot"/>): its heading and body up to the next heading of the same or a higher
    /// level, at most <paramref name="maxChars"/> characters. Null when the file or the anchor is not found.
    /// </summary>
    public static string? Read(string specsRoot, string section, int maxChars = 6000)
    {
        try
        {
            var hash = section.IndexOf('#');
            var file = hash < 0 ? section : section[..hash];
            var anchor = hash < 0 ? null : section[(hash + 1)..];
            var root = Path.GetFullPath(specsRoot);
            var path = Path.GetFullPath(Path.Combine(root, file));
            if (!path.StartsWith(root, StringComparison.Ordinal) || !File.Exists(path)) return null;
            var lines = File.ReadAllLines(path);
            int start = -1, level = 0;
            if (string.IsNullOrEmpty(anchor)) start = 0;
            else
            {
                var seen = new Dictionary<string, int>(StringComparer.Ordinal);
                var fence = false;
                for (var i = 0; i < lines.Length && start < 0; i++)
                {
                    if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) fence = !fence;
                    if (fence) continue;
                    var m = Heading().Match(lines[i]);
                    if (!m.Success) continue;
                    var slug = Slug(m.Groups[2].Value);
                    var n = seen.GetValueOrDefault(slug);
                    seen[slug] = n + 1;
                    if (n > 0) slug += "-" + n;
                    if (string.Equals(slug, Uri.UnescapeDataString(anchor), StringComparison.OrdinalIgnoreCase)) { start = i; level = m.Groups[1].Length; }
                }
                if (start < 0) return null;
            }
            var sb = new StringBuilder();
            var inFence = false;
            for (var i = start; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
                if (i > start && level > 0 && !inFence && Heading().Match(lines[i]) is { Success: true } h && h.Groups[1].Length <= level) break;
                sb.Append(lines[i]).Append('\n');
                if (sb.Length > maxChars) { sb.Length = maxChars; sb.Append("\n…"); break; }
            }
            return sb.ToString().TrimEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>GitHub's heading anchor: lower case, punctuation removed (except '-' and '_'), spaces to '-'.</summary>
    public static string Slug(string heading)
    {
        var sb = new StringBuilder();
        foreach (var c in heading.Trim().ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_') sb.Append(c);
            else if (c == ' ') sb.Append('-');
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();
}
