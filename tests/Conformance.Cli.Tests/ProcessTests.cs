using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Conformance.Cli.Tests;

/// <summary>
/// The real executable (conformance.dll copied beside the tests), to check what in-process runs cannot: the entry
/// point, stdout encoding under a non-UTF-8 locale, exit codes seen by a shell, CONFORMANCE_DEBUG.
/// </summary>
public class ProcessTests
{
    private static (int Code, string Stdout, string Stderr) Exec(string? stdin, Dictionary<string, string>? env, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "conformance.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = new UTF8Encoding(false, true),   // throws on anything that is not UTF-8
            StandardErrorEncoding = new UTF8Encoding(false, true),
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C";   // a locale without UTF-8: the tool must still write UTF-8
        psi.Environment["LANG"] = "C";
        psi.Environment.Remove("CONFORMANCE_DEBUG");
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            using var w = new StreamWriter(p.StandardInput.BaseStream, new UTF8Encoding(false));
            w.Write(stdin);
        }
        else
        {
            p.StandardInput.Close();
        }
        Assert.That(p.WaitForExit(60_000), Is.True, "the tool did not exit");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Test]
    public void Writes_utf8_json_under_the_C_locale_and_reads_stdin()
    {
        const string invitation = """{"@type":"https://didcomm.org/connections/1.0/invitation","label":"Café ✓","recipientKeys":["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"],"serviceEndpoint":"https://example.com"}""";
        var (code, stdout, stderr) = Exec(invitation, null, "invitation", "decode", "-");
        Assert.That(code, Is.EqualTo(0), stderr);
        Assert.That(stderr, Is.Empty);
        Assert.That(JsonNode.Parse(stdout)!["summary"]!["label"]!.GetValue<string>(), Is.EqualTo("Café ✓"));
    }

    [Test]
    public void Bad_input_is_one_line_and_exit_2()
    {
        var (code, stdout, stderr) = Exec("garbage", null, "envelope", "unpack", "--secret", "00000000000000000000000000000My1", "-");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith("conformance: ").And.Not.Contain("00000000000000000000000000000My1"));
    }

    [Test]
    public void Conformance_debug_adds_the_stack_trace_but_still_not_the_secret()
    {
        var (code, _, stderr) = Exec("garbage", new() { ["CONFORMANCE_DEBUG"] = "1" }, "envelope", "unpack", "--secret", "00000000000000000000000000000My1", "-");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("   at "));
        Assert.That(stderr, Does.Not.Contain("00000000000000000000000000000My1"));
    }

    [Test]
    public void Unknown_verb_exit_code()
    {
        var (code, stdout, stderr) = Exec(null, null, "frobnicate");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Does.StartWith("conformance: unknown verb"));
    }
}
