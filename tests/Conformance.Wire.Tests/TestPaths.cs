namespace Conformance.Wire.Tests;

/// <summary>Finds the repository root and the shared spec/vector folder next to it.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>../shared beside the checkout (CI clones with shared/ beside it); CONFORMANCE_SHARED overrides.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("CONFORMANCE_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Vectors => Path.Combine(Shared, "vectors");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Conformance.sln not found above " + AppContext.BaseDirectory);
    }
}
