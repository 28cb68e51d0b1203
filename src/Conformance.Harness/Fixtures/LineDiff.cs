using System.Text;

namespace Conformance.Harness.Fixtures;

/// <summary>
/// A small unified-style line diff (longest common subsequence) for golden files: hunks with <c>@@ -a,b +c,d @@</c>
/// headers, 3 lines of context, "-" for baseline lines, "+" for received lines.
/// </summary>
public static class LineDiff
{
    /// <summary>Unified diff of two texts, at most <paramref name="maxLines"/> lines of hunks; "" when equal.</summary>
    public static string Unified(string baseline, string received, string baselineName, string receivedName, int context = 3, int maxLines = 60)
    {
        var a = Lines(baseline);
        var b = Lines(received);
        var ops = Diff(a, b);
        if (ops.All(o => o.Kind == ' ')) return "";

        var sb = new StringBuilder();
        sb.Append("--- ").Append(baselineName).Append('\n');
        sb.Append("+++ ").Append(receivedName).Append('\n');
        var written = 0;
        var i = 0;
        while (i < ops.Count)
        {
            if (ops[i].Kind == ' ') { i++; continue; }
            // A hunk: from `context` lines before this change to `context` lines after the last change that is
            // within 2*context of the previous one.
            var start = Math.Max(0, i - context);
            var end = i;
            while (true)
            {
                var next = end + 1;
                while (next < ops.Count && ops[next].Kind == ' ') next++;
                if (next < ops.Count && next - end <= 2 * context) { end = next; continue; }
                break;
            }
            end = Math.Min(ops.Count - 1, end + context);
            var hunk = ops.GetRange(start, end - start + 1);
            int aStart = hunk.First().A, bStart = hunk.First().B;
            sb.Append($"@@ -{aStart + 1},{hunk.Count(o => o.Kind != '+')} +{bStart + 1},{hunk.Count(o => o.Kind != '-')} @@\n");
            foreach (var o in hunk)
            {
                if (written++ >= maxLines)
                {
                    sb.Append("… (more differences)\n");
                    return sb.ToString();
                }
                sb.Append(o.Kind).Append(o.Text).Append('\n');
            }
            i = end + 1;
        }
        return sb.ToString();
    }

    private readonly record struct Op(char Kind, string Text, int A, int B);

    private static string[] Lines(string text)
    {
        var t = text.Replace("\r\n", "\n");
        if (t.EndsWith('\n')) t = t[..^1];
        return t.Length == 0 ? [] : t.Split('\n');
    }

    private static List<Op> Diff(string[] a, string[] b)
    {
        // Trim the common prefix and suffix, then LCS on the middle (fixtures are small; a cap keeps it bounded).
        int pre = 0;
        while (pre < a.Length && pre < b.Length && a[pre] == b[pre]) pre++;
        int suf = 0;
        while (suf < a.Length - pre && suf < b.Length - pre && a[^(suf + 1)] == b[^(suf + 1)]) suf++;
        int n = a.Length - pre - suf, m = b.Length - pre - suf;

        var ops = new List<Op>();
        for (var k = 0; k < pre; k++) ops.Add(new Op(' ', a[k], k, k));
        if ((long)n * m > 4_000_000)
        {
            for (var k = 0; k < n; k++) ops.Add(new Op('-', a[pre + k], pre + k, pre));
            for (var k = 0; k < m; k++) ops.Add(new Op('+', b[pre + k], pre + n, pre + k));
        }
        else
        {
            var lcs = new int[n + 1, m + 1];
            for (var x = n - 1; x >= 0; x--)
                for (var y = m - 1; y >= 0; y--)
                    lcs[x, y] = a[pre + x] == b[pre + y] ? lcs[x + 1, y + 1] + 1 : Math.Max(lcs[x + 1, y], lcs[x, y + 1]);
            int i = 0, j = 0;
            while (i < n || j < m)
            {
                if (i < n && j < m && a[pre + i] == b[pre + j]) { ops.Add(new Op(' ', a[pre + i], pre + i, pre + j)); i++; j++; }
                else if (i < n && (j == m || lcs[i + 1, j] >= lcs[i, j + 1])) { ops.Add(new Op('-', a[pre + i], pre + i, pre + j)); i++; }
                else { ops.Add(new Op('+', b[pre + j], pre + i, pre + j)); j++; }
            }
        }
        for (var k = 0; k < suf; k++) ops.Add(new Op(' ', a[a.Length - suf + k], a.Length - suf + k, b.Length - suf + k));
        return ops;
    }
}
