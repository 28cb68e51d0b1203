using System.Text.Json.Nodes;

namespace Conformance.Cli.Tests;

/// <summary>Verb table, help, usage errors and the one-line error contract, independent of any verb's domain.</summary>
public class DispatchTests
{
    [Test]
    public void Verb_names_are_unique_and_every_verb_has_help_and_a_handler()
    {
        Assert.That(Entry.Verbs.Select(v => v.Name), Is.Unique);
        foreach (var v in Entry.Verbs)
        {
            Assert.That(v.Summary, Is.Not.Empty, v.Name);
            Assert.That(v.MinArgs, Is.LessThanOrEqualTo(v.MaxArgs), v.Name);
            Assert.That(v.Options.Select(o => o.Name), Is.Unique, v.Name);
            Assert.That(v.Options.Select(o => o.Name), Has.All.StartWith("--"), v.Name);
        }
    }

    [TestCase("invitation decode")]
    [TestCase("did resolve")]
    [TestCase("envelope pack")]
    [TestCase("envelope unpack")]
    [TestCase("sig verify")]
    [TestCase("version")]
    public void Each_verb_has_help(string verb)
    {
        foreach (var flag in new[] { "--help", "-h" })
        {
            var r = Cli.Run([.. verb.Split(' '), flag]);
            Assert.That(r.Code, Is.EqualTo(0), r.ToString());
            Assert.That(r.Stderr, Is.Empty);
            Assert.That(r.Stdout, Does.StartWith("usage: conformance " + verb));
        }
    }

    [Test]
    public void Help_wins_over_otherwise_invalid_arguments()
    {
        var r = Cli.Run("envelope", "unpack", "--bogus", "--help");
        Assert.That(r.Code, Is.EqualTo(0));
        Assert.That(r.Stdout, Does.Contain("--secret SECRET"));
    }

    [Test]
    public void General_help_lists_every_verb()
    {
        var r = Cli.Run("--help");
        Assert.That(r.Code, Is.EqualTo(0));
        foreach (var v in Entry.Verbs) Assert.That(r.Stdout, Does.Contain(v.Name));
        Assert.That(Cli.Run("help", "sig", "verify").Stdout, Does.StartWith("usage: conformance sig verify"));
    }

    [Test]
    public void No_arguments_is_a_usage_error_listing_the_verbs()
    {
        var line = Cli.AssertBadInput(Cli.Run());
        Assert.That(line, Does.Contain("no verb").And.Contain("envelope unpack"));
    }

    [Test]
    public void Unknown_verb()
    {
        var line = Cli.AssertBadInput(Cli.Run("frobnicate"));
        Assert.That(line, Does.Contain("unknown verb 'frobnicate'").And.Contain("did resolve"));
    }

    [Test]
    public void Unknown_verb_in_a_known_group_names_the_group_verbs()
    {
        var line = Cli.AssertBadInput(Cli.Run("envelope", "seal"));
        Assert.That(line, Does.Contain("envelope seal").And.Contain("pack, unpack"));
        line = Cli.AssertBadInput(Cli.Run("envelope"));
        Assert.That(line, Does.Contain("needs a verb: pack, unpack"));
    }

    [Test]
    public void Unknown_option_is_a_usage_error_with_the_usage_line()
    {
        var line = Cli.AssertBadInput(Cli.Run("version", "--bogus"));
        Assert.That(line, Does.Contain("unknown option '--bogus'").And.Contain("usage: conformance version"));
    }

    [Test]
    public void Unknown_option_with_inline_value_does_not_echo_the_value()
    {
        var line = Cli.AssertBadInput(Cli.Run("envelope", "unpack", "--secrte=HIDDENVALUE123"), "HIDDENVALUE123");
        Assert.That(line, Does.Contain("'--secrte'"));
    }

    [Test]
    public void Missing_positional_argument()
    {
        var line = Cli.AssertBadInput(Cli.Run("did", "resolve"));
        Assert.That(line, Does.Contain("missing <did>").And.Contain("usage: conformance did resolve"));
        Cli.AssertBadInput(Cli.Run("invitation", "decode"));
    }

    [Test]
    public void Missing_required_option_and_missing_option_value()
    {
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("{}", "envelope", "pack")), Does.Contain("missing --to KEY"));
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("{}", "envelope", "pack", "--to")), Does.Contain("--to needs a value"));
        // The next token is an option, not a value.
        Assert.That(Cli.AssertBadInput(Cli.RunWithInput("{}", "envelope", "pack", "--to", "--padded")), Does.Contain("--to needs a value"));
    }

    [Test]
    public void Too_many_arguments_and_repeated_single_options()
    {
        Cli.AssertBadInput(Cli.Run("version", "extra"));
        Cli.AssertBadInput(Cli.Run("did", "resolve", "did:key:a", "did:key:b"));
        Assert.That(Cli.AssertBadInput(Cli.Run("sig", "verify", "--field", "a", "--field", "b")), Does.Contain("more than once"));
    }

    [Test]
    public void Double_dash_ends_options()
    {
        // "--" lets a file named like an option through as a positional; it does not exist, so that is the error.
        var line = Cli.AssertBadInput(Cli.Run("sig", "verify", "--", "--weird-file-name"));
        Assert.That(line, Does.Contain("no such file '--weird-file-name'"));
    }

    [Test]
    public void Version_prints_json()
    {
        var json = Cli.AssertOk(Cli.Run("version"));
        Assert.That(json["name"]!.GetValue<string>(), Is.EqualTo("conformance"));
        Assert.That(json["version"]!.GetValue<string>(), Is.Not.Empty);
        Assert.That(json["runtime"]!.GetValue<string>(), Does.Contain(".NET"));
        Assert.That(JsonNode.DeepEquals(Cli.AssertOk(Cli.Run("--version")), json), Is.True);
    }

    [Test]
    public void Output_is_indented_utf8_without_needless_escaping()
    {
        // A raw JSON invitation with non-ASCII and '+' in it comes back verbatim, not as \u00E9 / \u002B.
        var r = Cli.Run("invitation", "decode", """{"@type":"https://didcomm.org/connections/1.0/invitation","label":"Café + Ünïcode ✓","recipientKeys":["8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"],"serviceEndpoint":"https://example.com/a+b"}""");
        Cli.AssertOk(r);
        Assert.That(r.Stdout, Does.Contain("\"label\": \"Café + Ünïcode ✓\""));
        Assert.That(r.Stdout, Does.Contain("https://example.com/a+b"));
        Assert.That(r.Stdout, Does.Not.Contain("\\u"));
        Assert.That(r.Stdout, Does.StartWith("{\n  \""));
    }
}
