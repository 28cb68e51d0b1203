namespace Conformance.Cli.Tests;

/// <summary>Entry's error contract with a verb table of its own: internal errors, cancellation, terminal stdin.</summary>
public class EntryContractTests
{
    private static readonly Option SecretOption = new("--key", "K", "a secret", Secret: true);

    private static readonly Verb[] Table =
    [
        new Verb("boom", "throws a bug", "", 0, 0, [SecretOption], _ => throw new InvalidOperationException("bug with key " + "TOPSECRETVALUE")),
        new Verb("wait", "waits until cancelled", "", 0, 0, [], async inv => { await Task.Delay(Timeout.Infinite, inv.Cancellation); return 0; }),
        new Verb("read", "reads its input", "[FILE|-]", 0, 1, [], inv => { inv.ReadInput(inv.Args.Arg(0), "the input"); return Task.FromResult(0); }),
        new Verb("group one", "first of a group", "", 0, 0, [], _ => Task.FromResult(0)),
        new Verb("group two", "second of a group", "", 0, 0, [], _ => Task.FromResult(0)),
    ];

    private static CliResult Run(bool terminal, CancellationToken ct, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = Entry.RunAsync(Table, args, new StringReader("x"), output, error, terminal, ct).GetAwaiter().GetResult();
        return new CliResult(code, output.ToString(), error.ToString());
    }

    [Test]
    public void Unexpected_exception_is_one_line_exit_1_without_stack_trace_or_secret()
    {
        var r = Run(false, default, "boom", "--key", "TOPSECRETVALUE");
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.Stderr, Does.StartWith("conformance: internal error in 'boom': InvalidOperationException"));
        Assert.That(r.Stderr, Does.Not.Contain("   at ").And.Not.Contain("TOPSECRETVALUE"));
        Assert.That(r.Stderr, Does.Contain("<secret>"));
    }

    [Test]
    public void Cancellation_is_reported_as_interrupted()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        var r = Run(false, cts.Token, "wait");
        Assert.That(r.Code, Is.EqualTo(130));
        Assert.That(r.Stderr, Is.EqualTo("conformance: interrupted" + Environment.NewLine));
    }

    [Test]
    public void Implicit_stdin_on_a_terminal_is_refused_but_explicit_dash_reads_it()
    {
        var r = Run(true, default, "read");
        Assert.That(r.Code, Is.EqualTo(2));
        Assert.That(r.Stderr, Does.Contain("no input"));
        Assert.That(Run(true, default, "read", "-").Code, Is.EqualTo(0));
        Assert.That(Run(false, default, "read").Code, Is.EqualTo(0));
    }

    [Test]
    public void Group_help_lists_the_group()
    {
        var r = Run(false, default, "group", "--help");
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Does.Contain("conformance group one").And.Contain("conformance group two"));
        Assert.That(Run(false, default, "group", "one").Code, Is.EqualTo(0));
        Assert.That(Run(false, default, "group").Code, Is.EqualTo(2));
    }
}
