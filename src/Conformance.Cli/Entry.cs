// `conformance`: the command-line entry point. Dispatches `conformance <verb words> [options] [args]` to the
// verbs listed in Verbs below; each verb group lives in its own file under Verbs/.
//
// Conventions every verb follows (and Entry enforces):
//   * results are JSON on stdout (indented, UTF-8, no needless escaping), exit 0;
//   * bad input: ONE line `conformance: <reason>` on stderr, exit 2; usage errors (unknown verb or option, missing
//     argument) are the same one line with the usage appended;
//   * never a stack trace, unless CONFORMANCE_DEBUG=1; an unexpected exception is an internal error, exit 1;
//   * values of options marked Secret are scrubbed from everything written to stderr;
//   * `--help` / `-h` on any verb prints its help on stdout, exit 0.
using System.Text;
using Conformance.Cli.Verbs;
using Conformance.Wire.Crypto;
using Conformance.Wire.Dids;
using Conformance.Wire.Envelopes;
using Conformance.Wire.Invitations;
using Conformance.Wire.Messages;
using Conformance.Wire.Signatures;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Conformance.Cli.Tests")]

namespace Conformance.Cli;

public static class Entry
{
    /// <summary>
    /// The verb table. To add verbs, create Verbs/YourVerbs.cs with a <c>public static IReadOnlyList&lt;Verb&gt; All</c>
    /// and add ONE line here. Verb names may share a first word ("envelope pack", "envelope unpack"); the longest
    /// name matching the command line wins.
    /// </summary>
    public static IReadOnlyList<Verb> Verbs { get; } =
    [
        .. InvitationVerbs.All,   // invitation decode
        .. DidVerbs.All,          // did resolve
        .. EnvelopeVerbs.All,     // envelope pack, envelope unpack
        .. SigVerbs.All,          // sig verify
        .. VersionVerbs.All,      // version
        .. RunVerbs.All,          // run, fixtures
        .. ServerVerbs.All,       // agent
        .. MediatorVerbs.All,     // mediator, bench mediator
        .. ConnectionVerbs.All,   // connection fingerprint
        .. InteropVerbs.All,      // interop
        .. BenchVerbs.All,        // bench handshake
    ];

    /// <summary>
    /// Exception types that mean "the input is bad" (exit 2, message shown as is). Their messages are one line and
    /// never contain secret key material. Add your room's domain exception here. Anything else escaping a verb is a
    /// bug: "internal error", exit 1.
    /// </summary>
    public static IReadOnlyList<Type> BadInputExceptions { get; } =
    [
        typeof(CliException),
        typeof(EnvelopeException),
        typeof(SignatureException),
        typeof(InvitationException),
        typeof(DidException),
        typeof(CryptoException),
        typeof(MessageFormatException),
    ];

    public const int ExitOk = 0;
    public const int ExitFailed = 1;
    public const int ExitUsage = 2;

    public static int Main(string[] args)
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        try
        {
            Console.OutputEncoding = utf8;
            Console.InputEncoding = utf8;
        }
        catch (IOException) { /* no console: the defaults will do */ }

        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cts.IsCancellationRequested) return;   // second Ctrl+C: let the runtime end the process
            e.Cancel = true;
            cts.Cancel();
        };
        // SIGTERM (docker stop, process drivers) stops long-running verbs gracefully, like Ctrl-C.
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            cts.Cancel();
        });
        return RunAsync(args, Console.In, Console.Out, Console.Error, !Console.IsInputRedirected, cts.Token).GetAwaiter().GetResult();
    }

    /// <summary>Runs one command line against the given streams and returns the exit code (stdin is not a terminal).</summary>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
        => RunAsync(args, stdin, stdout, stderr).GetAwaiter().GetResult();

    /// <summary>Runs one command line; <paramref name="stdinIsTerminal"/> makes verbs refuse to wait on an interactive stdin.</summary>
    public static Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        bool stdinIsTerminal = false, CancellationToken cancellation = default)
        => RunAsync(Verbs, args, stdin, stdout, stderr, stdinIsTerminal, cancellation);

    /// <summary>As <see cref="RunAsync(string[], TextReader, TextWriter, TextWriter, bool, CancellationToken)"/> with another verb table (tests).</summary>
    internal static async Task<int> RunAsync(IReadOnlyList<Verb> verbs, string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        bool stdinIsTerminal = false, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var secrets = new List<string>();
        var debug = Environment.GetEnvironmentVariable("CONFORMANCE_DEBUG") == "1";
        Verb? verb = null;
        try
        {
            if (args.Length == 0)
                throw new UsageException("no verb given; verbs: " + VerbList(verbs), null);
            if (args[0] is "--help" or "-h" or "help")
            {
                stdout.Write(args.Length > 1 ? HelpFor(verbs, args[1..]) : GeneralHelp(verbs));
                return ExitOk;
            }
            if (args[0] == "--version") args = ["version", .. args[1..]];
            if (Match(verbs, args) is null && WantsHelp(args))
            {
                // `conformance envelope --help`: the group's verbs.
                stdout.Write(HelpFor(verbs, args.TakeWhile(a => !a.StartsWith('-')).ToArray()));
                return ExitOk;
            }

            verb = Find(verbs, args, out var consumed);
            var rest = args[consumed..];
            secrets.AddRange(SecretValues(verb, rest));
            if (!verb.PassThrough && WantsHelp(rest))
            {
                stdout.Write(verb.Help);
                return ExitOk;
            }
            var parsed = verb.PassThrough ? ParsedArgs.Raw(rest) : Parse(verb, rest);
            var invocation = new Invocation(verb, parsed, stdin, stdout, stderr, stdinIsTerminal, cancellation);
            return await verb.Handler(invocation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            stderr.WriteLine("conformance: interrupted");
            return 130;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            var line = e is UsageException u
                ? e.Message + (u.Verb is null ? "; see conformance --help" : " (usage: " + u.Verb.UsageLine + ")")
                : e.Message;
            stderr.WriteLine("conformance: " + Scrub(OneLine(line), secrets));
            if (debug) stderr.WriteLine(Scrub(e.ToString(), secrets));
            return ExitUsage;
        }
        catch (Exception e)
        {
            stderr.WriteLine("conformance: internal error" + (verb is null ? "" : $" in '{verb.Name}'") + ": " +
                             Scrub(OneLine($"{e.GetType().Name}: {e.Message}"), secrets) +
                             (debug ? "" : " (set CONFORMANCE_DEBUG=1 for the stack trace)"));
            if (debug) stderr.WriteLine(Scrub(e.ToString(), secrets));
            return ExitFailed;
        }
        finally
        {
            try { stdout.Flush(); } catch (IOException) { }
        }
    }

    private static bool IsBadInput(Exception e) => BadInputExceptions.Any(t => t.IsInstanceOfType(e));

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    /// <summary>Replaces every secret value (as typed, and trimmed) with &lt;secret&gt;.</summary>
    private static string Scrub(string text, List<string> secrets)
    {
        foreach (var s in secrets.SelectMany(s => new[] { s, s.Trim() }).Where(s => s.Length >= 4).Distinct().OrderByDescending(s => s.Length))
            text = text.Replace(s, "<secret>", StringComparison.Ordinal);
        return text;
    }

    // ---------------------------------------------------------------- dispatch

    /// <summary>The verb with the longest name that the command line starts with, or null.</summary>
    private static Verb? Match(IReadOnlyList<Verb> verbs, string[] args)
    {
        Verb? best = null;
        foreach (var v in verbs)
            if (v.Words.Length <= args.Length && v.Words.AsSpan().SequenceEqual(args.AsSpan(0, v.Words.Length)) &&
                (best is null || v.Words.Length > best.Words.Length))
                best = v;
        return best;
    }

    private static Verb Find(IReadOnlyList<Verb> verbs, string[] args, out int consumed)
    {
        if (Match(verbs, args) is { } best)
        {
            consumed = best.Words.Length;
            return best;
        }

        var group = verbs.Where(v => v.Words.Length > 1 && v.Words[0] == args[0]).ToList();
        if (group.Count > 0)
        {
            var names = string.Join(", ", group.Select(v => string.Join(' ', v.Words[1..])));
            if (args.Length == 1 || args[1].StartsWith('-'))
                throw new UsageException($"'{args[0]}' needs a verb: {names}", null);
            throw new UsageException($"unknown verb '{Excerpt(args[0] + " " + args[1])}' ({args[0]} verbs: {names})", null);
        }
        throw new UsageException($"unknown verb '{Excerpt(args[0])}'; verbs: {VerbList(verbs)}", null);
    }

    private static bool WantsHelp(string[] rest)
    {
        foreach (var t in rest)
        {
            if (t == "--") return false;
            if (t is "--help" or "-h") return true;
        }
        return false;
    }

    /// <summary>The values given to Secret options, collected before parsing so that even a parse error cannot echo them.</summary>
    private static IEnumerable<string> SecretValues(Verb verb, string[] rest)
    {
        var secretNames = verb.Options.Where(o => o.Secret).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        if (secretNames.Count == 0) yield break;
        for (var i = 0; i < rest.Length; i++)
        {
            var eq = rest[i].IndexOf('=');
            if (eq > 0 && secretNames.Contains(rest[i][..eq])) yield return rest[i][(eq + 1)..];
            else if (secretNames.Contains(rest[i]) && i + 1 < rest.Length) yield return rest[i + 1];
        }
    }

    /// <summary>Parses options and positionals against the verb's declaration. Errors never echo option values.</summary>
    internal static ParsedArgs Parse(Verb verb, string[] tokens)
    {
        var parsed = new ParsedArgs();
        var endOfOptions = false;
        for (var i = 0; i < tokens.Length; i++)
        {
            var t = tokens[i];
            if (!endOfOptions && t == "--")
            {
                endOfOptions = true;
                continue;
            }
            if (endOfOptions || t == "-" || !t.StartsWith('-'))
            {
                parsed.Positionals.Add(t);
                continue;
            }

            var eq = t.IndexOf('=');
            var name = eq > 0 ? t[..eq] : t;
            var option = verb.Options.FirstOrDefault(o => o.Name == name)
                         ?? throw new UsageException($"unknown option '{Excerpt(name, 40)}' for '{verb.Name}'", verb);
            string value;
            if (option.IsFlag)
            {
                if (eq > 0) throw new UsageException($"option {name} takes no value", verb);
                value = "true";
            }
            else if (eq > 0)
            {
                value = t[(eq + 1)..];
            }
            else if (i + 1 < tokens.Length && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = tokens[++i];
            }
            else
            {
                throw new UsageException($"option {name} needs a value ({option.ValueName})", verb);
            }
            if (!option.IsFlag && value.Length == 0)
                throw new UsageException($"option {name} has an empty value", verb);
            if (!option.Repeatable && parsed.Has(name))
                throw new UsageException($"option {name} is given more than once", verb);
            parsed.Add(name, value);
        }

        foreach (var o in verb.Options.Where(o => o.Required && !parsed.Has(o.Name)))
            throw new UsageException($"missing {o.Synopsis}", verb);
        if (parsed.Positionals.Count < verb.MinArgs)
            throw new UsageException($"missing {verb.Arguments}", verb);
        if (parsed.Positionals.Count > verb.MaxArgs)
            throw new UsageException(verb.MaxArgs == 0
                ? $"'{verb.Name}' takes no arguments"
                : $"too many arguments: expected {verb.Arguments}, got {parsed.Positionals.Count}", verb);
        return parsed;
    }

    private static string Excerpt(string s, int max = 60)
    {
        var clean = string.Concat(s.Select(c => char.IsControl(c) ? ' ' : c));
        return clean.Length <= max ? clean : clean[..max] + "…";
    }

    // ---------------------------------------------------------------- help

    private static string VerbList(IReadOnlyList<Verb> verbs) => string.Join(", ", verbs.Select(v => v.Name));

    private static string HelpFor(IReadOnlyList<Verb> verbs, string[] words)
    {
        var exact = verbs.FirstOrDefault(v => v.Words.SequenceEqual(words));
        if (exact is not null) return exact.Help;
        var group = verbs.Where(v => v.Words.Length > words.Length && v.Words.Take(words.Length).SequenceEqual(words)).ToList();
        if (group.Count > 0) return string.Concat(group.Select(v => v.UsageLine + "\n    " + v.Summary + "\n"));
        throw new UsageException($"no verb '{Excerpt(string.Join(' ', words))}'; verbs: {VerbList(verbs)}", null);
    }

    private static string GeneralHelp(IReadOnlyList<Verb> verbs)
    {
        var sb = new StringBuilder();
        sb.AppendLine("conformance: DIDComm connection-protocol conformance and interop harness");
        sb.AppendLine();
        sb.AppendLine("usage: conformance <verb> [options] [arguments]");
        sb.AppendLine();
        sb.AppendLine("verbs:");
        var width = verbs.Max(v => v.Name.Length) + 2;
        foreach (var v in verbs) sb.Append("  ").Append(v.Name.PadRight(width)).AppendLine(v.Summary);
        sb.AppendLine();
        sb.AppendLine("`conformance <verb> --help` describes a verb. Output is JSON on stdout.");
        sb.AppendLine("exit codes: 0 ok, 1 failed (or internal error), 2 bad input or usage.");
        sb.AppendLine("CONFORMANCE_DEBUG=1 adds stack traces to error reports.");
        return sb.ToString();
    }
}
