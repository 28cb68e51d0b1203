using System.Diagnostics;
using System.Text;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>Paths and process helpers shared by the driver tests.</summary>
public static class DriverTestSupport
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>The CLI built next to its project (the test project references it, so building the tests builds it).</summary>
    public static string CliDll => Path.Combine(RepoRoot, "src", "Conformance.Cli", "bin", "Debug", "net10.0", "conformance.dll");

    /// <summary>A fresh folder under the test output for logs and scratch definitions.</summary>
    public static string Scratch(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "conformance-drivers-tests", $"{name}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Conformance.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Conformance.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Runs a command to completion: exit code and combined output (for engine/build scripts).</summary>
    public static (int Code, string Output) Run(string file, string args, TimeSpan timeout, string? cwd = null)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? RepoRoot,
        };
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var output = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalSeconds:0} s: {output}");
        }
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString().Trim());
    }
}
