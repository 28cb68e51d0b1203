using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Conformance.Wire.Tests.DidComm2;

/// <summary>
/// Runs tests/interop/didcomm-node/interop.js (SICPA didcomm-rust via the npm package didcomm-node) one JSON command at a time.
/// Installs the locked npm dependencies once (<c>npm ci</c>) when node_modules is missing; the install is serialised by an
/// in-process lock and a lock file in the temp folder, so parallel fixtures or test processes do not race. Tests are Inconclusive (with the reason)
/// only when node or the installed package is still unavailable after that.
/// </summary>
internal static class NodeInterop
{
    private static readonly Lock Gate = new();
    private static string? _unavailable;
    private static bool _checked;

    public static string Dir => Path.Combine(TestPaths.RepoRoot, "tests", "interop", "didcomm-node");
    private static string PackageJson => Path.Combine(Dir, "node_modules", "didcomm-node", "package.json");

    /// <summary>Makes sure node and didcomm-node are there, or marks the calling test Inconclusive with the reason.</summary>
    public static void Require()
    {
        lock (Gate)
        {
            if (!_checked)
            {
                _unavailable = Prepare();
                _checked = true;
            }
        }
        if (_unavailable is not null) Assert.Inconclusive(_unavailable);
    }

    private static string? Prepare()
    {
        var (nodeRc, nodeOut) = Exec("node", "--version", Dir, "", TimeSpan.FromSeconds(30));
        if (nodeRc != 0) return "node is not installed (needed for the didcomm-node interop tests): " + nodeOut;
        if (File.Exists(PackageJson)) return null;

        // One-time install of package-lock.json's exact versions. A lock file keeps concurrent test processes from
        // running npm ci in the same folder at once.
        var lockPath = Path.Combine(Path.GetTempPath(),
            "conformance-npm-ci-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Dir)))[..16] + ".lock");
        var deadline = DateTime.UtcNow.AddMinutes(6);
        while (true)
        {
            try
            {
                using var fileLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
                if (File.Exists(PackageJson)) return null;
                var (rc, output) = Exec("npm", "ci --ignore-scripts --no-audit --no-fund", Dir, "", TimeSpan.FromMinutes(5));
                if (File.Exists(PackageJson)) return null;
                var tail = string.Join(" | ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
                return $"tests/interop/didcomm-node/node_modules is absent and `npm ci` failed (exit {rc}): {tail}";
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(500); // another process holds the lock and is installing
            }
            catch (IOException e)
            {
                return "could not take the npm install lock in tests/interop/didcomm-node: " + e.Message;
            }
        }
    }

    /// <summary>Sends one command to interop.js and returns its JSON result; fails the test if node itself fails.</summary>
    public static JsonObject Run(JsonObject command)
    {
        Require();
        var (rc, output) = Exec("node", "interop.js", Dir, command.ToJsonString(), TimeSpan.FromSeconds(60), stdoutOnly: true);
        Assert.That(rc, Is.EqualTo(0), "node interop.js exited with " + rc + ": " + output);
        return JsonNode.Parse(output)!.AsObject();
    }

    private static (int ExitCode, string Output) Exec(string file, string args, string cwd, string stdin, TimeSpan timeout, bool stdoutOnly = false)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = cwd,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { return (-1, $"{file} could not be started: {e.Message}"); }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            if (!p.WaitForExit(timeout))
            {
                p.Kill(entireProcessTree: true);
                return (-1, $"{file} {args} timed out after {timeout.TotalSeconds}s");
            }
            p.WaitForExit();
            return (p.ExitCode, stdoutOnly && p.ExitCode == 0 ? stdout.Result : stdout.Result + stderr.Result);
        }
    }
}
