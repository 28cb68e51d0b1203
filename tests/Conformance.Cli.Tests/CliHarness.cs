using System.Text.Json.Nodes;

namespace Conformance.Cli.Tests;

/// <summary>Finds the shared spec/vector folder: ../shared beside the repo root (CONFORMANCE_SHARED overrides).</summary>
public static class CliPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Shared =>
        Environment.GetEnvironmentVariable("CONFORMANCE_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Vectors => Path.Combine(Shared, "vectors");

    public static string Specs => Path.Combine(Shared, "specs");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Conformance.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The outcome of one in-process run of <see cref="Entry.Run"/>.</summary>
public sealed record CliResult(int Code, string Stdout, string Stderr)
{
    public JsonObject Json => JsonNode.Parse(Stdout)?.AsObject() ?? throw new AssertionException("stdout is not a JSON object: " + Stdout);

    public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

public static class Cli
{
    /// <summary>Runs <c>conformance args...</c> in-process with <paramref name="stdin"/> as standard input.</summary>
    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        using var input = new StringReader(stdin);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Entry.Run(args, input, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    public static CliResult Run(params string[] args) => RunWithInput("", args);

    /// <summary>Exit 0, nothing on stderr, stdout one JSON object.</summary>
    public static JsonObject AssertOk(CliResult r)
    {
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stderr, Is.Empty, r.ToString());
        return r.Json;
    }

    /// <summary>
    /// The bad-input contract: exit 2, nothing on stdout, exactly one line "conformance: ..." on stderr, no stack
    /// trace, and none of <paramref name="secrets"/> anywhere in the output.
    /// </summary>
    public static string AssertBadInput(CliResult r, params string[] secrets)
    {
        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.Stdout, Is.Empty, r.ToString());
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(lines[0], Does.StartWith("conformance: "));
        Assert.That(r.Stderr, Does.Not.Contain("   at ").And.Not.Contain("Exception:"), r.ToString());
        foreach (var s in secrets)
        {
            Assert.That(r.Stderr, Does.Not.Contain(s), "a secret leaked to stderr");
            Assert.That(r.Stdout, Does.Not.Contain(s), "a secret leaked to stdout");
        }
        return lines[0];
    }

    /// <summary>Writes <paramref name="content"/> to a fresh temporary file and returns its path.</summary>
    public static string TempFile(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), "conformance-cli-" + Guid.NewGuid().ToString("N") + ".json");
        File.WriteAllText(path, content);
        lock (Created) Created.Add(path);
        return path;
    }

    internal static readonly List<string> Created = [];
}

[SetUpFixture]
public sealed class TempFileCleanup
{
    [OneTimeTearDown]
    public void DeleteTempFiles()
    {
        lock (Cli.Created)
        {
            foreach (var f in Cli.Created) File.Delete(f);
            Cli.Created.Clear();
        }
    }
}
