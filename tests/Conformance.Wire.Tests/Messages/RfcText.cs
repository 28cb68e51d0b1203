using System.Text.RegularExpressions;

namespace Conformance.Wire.Tests.Messages;

/// <summary>Reads example text straight out of the Aries RFCs in shared/specs, so known answers cite their source.</summary>
internal static class RfcText
{
    public static string Path(string rfcFolder, string file = "README.md")
        => System.IO.Path.Combine(TestPaths.Shared, "specs", "aries-rfcs", rfcFolder, file);

    public static string Read(string rfcFolder, string file = "README.md") => File.ReadAllText(Path(rfcFolder, file));

    /// <summary>The first match of <paramref name="pattern"/> in the RFC text (fails the test if absent).</summary>
    public static string Find(string rfcFolder, string pattern)
    {
        var m = Regex.Match(Read(rfcFolder), pattern);
        Assert.That(m.Success, Is.True, $"pattern {pattern} not found in RFC {rfcFolder}");
        return m.Value;
    }
}
