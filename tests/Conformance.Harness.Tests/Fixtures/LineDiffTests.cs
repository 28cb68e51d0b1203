using Conformance.Harness.Fixtures;

namespace Conformance.Harness.Tests.Fixtures;

public class LineDiffTests
{
    [Test]
    public void Equal_texts_have_no_diff() => Assert.That(LineDiff.Unified("a\nb\n", "a\r\nb\r\n", "x", "y"), Is.Empty);

    [Test]
    public void A_changed_line_shows_with_context_in_unified_form()
    {
        var a = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"line {i}")) + "\n";
        var b = a.Replace("line 10\n", "line ten\n");
        var d = LineDiff.Unified(a, b, "a.json", "b.json");
        // Hand-written expectation in the format of `diff -u` (3 lines of context).
        Assert.That(d, Is.EqualTo(
            "--- a.json\n+++ b.json\n@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n"));
    }

    [Test]
    public void Insertions_deletions_and_the_line_cap()
    {
        var d = LineDiff.Unified("a\nb\nc\n", "a\nc\nd\n", "x", "y");
        Assert.That(d, Does.Contain("-b\n"));
        Assert.That(d, Does.Contain("+d\n"));
        Assert.That(d, Does.Not.Contain("-a"));

        var big = LineDiff.Unified(string.Join("\n", Enumerable.Range(0, 500)), string.Join("\n", Enumerable.Range(1000, 500)), "x", "y", maxLines: 10);
        Assert.That(big, Does.EndWith("… (more differences)\n"));
        Assert.That(big.Split('\n'), Has.Length.LessThan(16));
    }
}
