// The pieces every verb is built from: a declarative Verb (name, usage, options, handler), the parsed
// arguments, and the Invocation a handler receives (input, JSON output, cancellation).
// Verbs live in Verbs/*.cs, one file per group; Entry.cs lists them (one line per group).
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Cli;

/// <summary>One option of a verb: <c>--name VALUE</c> (or <c>--name=VALUE</c>), or a flag when <see cref="ValueName"/> is null.</summary>
/// <param name="Name">With the dashes: <c>--secret</c>.</param>
/// <param name="ValueName">Placeholder shown in usage (<c>KEY</c>); null for a flag.</param>
/// <param name="Help">One line for <c>--help</c>.</param>
/// <param name="Repeatable">May be given several times (values accumulate in order).</param>
/// <param name="Secret">The value is key material: it is scrubbed from every error line and never echoed.</param>
/// <param name="Required">Must be given at least once.</param>
public sealed record Option(string Name, string? ValueName, string Help, bool Repeatable = false, bool Secret = false, bool Required = false)
{
    public bool IsFlag => ValueName is null;

    public string Synopsis => IsFlag ? Name : $"{Name} {ValueName}";
}

/// <summary>
/// A verb: <see cref="Name"/> is the words typed after <c>conformance</c> ("envelope unpack").
/// <see cref="Arguments"/> is the positional synopsis shown in usage ("[FILE|-]"); <see cref="MinArgs"/> /
/// <see cref="MaxArgs"/> bound the positional count. The handler returns the exit code; it reports bad input by
/// throwing <see cref="CliException"/> (or a domain exception, see <see cref="Entry"/>).
/// </summary>
public sealed record Verb(
    string Name,
    string Summary,
    string Arguments,
    int MinArgs,
    int MaxArgs,
    IReadOnlyList<Option> Options,
    Func<Invocation, Task<int>> Handler,
    string? Details = null)
{
    public string[] Words { get; } = Name.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The verb parses its own arguments (long-running servers such as <c>agent</c> and <c>mediator</c>): everything
    /// after the verb words, <c>--help</c> included, arrives unparsed in <see cref="ParsedArgs.Positionals"/>.
    /// </summary>
    public bool PassThrough { get; init; }

    /// <summary>One line: <c>conformance envelope pack --to KEY... [--from-secret SECRET] [FILE|-]</c>.</summary>
    public string UsageLine
    {
        get
        {
            var sb = new StringBuilder("conformance ").Append(Name);
            foreach (var o in Options)
            {
                var s = o.Synopsis + (o.Repeatable ? "..." : "");
                sb.Append(' ').Append(o.Required ? s : "[" + s + "]");
            }
            if (Arguments.Length > 0) sb.Append(' ').Append(Arguments);
            return sb.ToString();
        }
    }

    public string Help
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append("usage: ").AppendLine(UsageLine).AppendLine().AppendLine(Summary);
            if (Details is not null) sb.AppendLine().AppendLine(Details.TrimEnd());
            if (Options.Count > 0)
            {
                sb.AppendLine().AppendLine("options:");
                var width = Options.Max(o => o.Synopsis.Length) + 2;
                foreach (var o in Options)
                    sb.Append("  ").Append(o.Synopsis.PadRight(width)).Append(o.Help)
                      .AppendLine(o.Repeatable ? " (repeatable)" : "");
                sb.Append("  ").Append("--help".PadRight(width)).AppendLine("show this help");
            }
            return sb.ToString();
        }
    }
}

/// <summary>Bad input or bad usage: printed as one line <c>conformance: message</c>, exit 2.</summary>
public class CliException(string message) : Exception(message.ReplaceLineEndings(" "));

/// <summary>A usage error (unknown option, missing argument): the one line ends with the verb's usage.</summary>
public sealed class UsageException(string message, Verb? verb) : CliException(message)
{
    public Verb? Verb { get; } = verb;
}

/// <summary>Parsed options and positional arguments of one invocation.</summary>
public sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    /// <summary>Arguments of a pass-through verb, unparsed.</summary>
    public static ParsedArgs Raw(IEnumerable<string> args)
    {
        var p = new ParsedArgs();
        p.Positionals.AddRange(args);
        return p;
    }

    internal void Add(string option, string value)
    {
        if (!_values.TryGetValue(option, out var list)) _values[option] = list = [];
        list.Add(value);
    }

    /// <summary>All values of an option, in order (empty if absent). For flags the values are "true".</summary>
    public IReadOnlyList<string> Values(string option) => _values.TryGetValue(option, out var l) ? l : [];

    /// <summary>The single value of an option, or null.</summary>
    public string? Value(string option) => _values.TryGetValue(option, out var l) ? l[^1] : null;

    public bool Has(string option) => _values.ContainsKey(option);

    /// <summary>The positional at <paramref name="index"/>, or null.</summary>
    public string? Arg(int index) => index < Positionals.Count ? Positionals[index] : null;
}

/// <summary>What a verb handler gets: its arguments, the three streams and a cancellation token (Ctrl+C).</summary>
public sealed class Invocation(Verb verb, ParsedArgs args, TextReader stdin, TextWriter stdout, TextWriter stderr, bool stdinIsTerminal, CancellationToken cancellation)
{
    /// <summary>Indented, UTF-8, only the escaping JSON requires (no \u002B for '+', no \uXXXX for letters).</summary>
    public static readonly JsonSerializerOptions OutputJson = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Input JSON is parsed strictly: duplicate member names are an error (they mean different things to different parsers).</summary>
    public static readonly JsonDocumentOptions InputJson = new()
    {
        AllowDuplicateProperties = false,
        MaxDepth = 64,
    };

    public Verb Verb { get; } = verb;
    public ParsedArgs Args { get; } = args;
    public TextReader Stdin { get; } = stdin;
    public TextWriter Stdout { get; } = stdout;
    public TextWriter Stderr { get; } = stderr;
    public bool StdinIsTerminal { get; } = stdinIsTerminal;
    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>A usage error for this verb (exit 2, usage appended).</summary>
    public UsageException Usage(string message) => new(message, Verb);

    /// <summary>
    /// Reads the text input named by <paramref name="pathOrDash"/>: a file path, or <c>-</c> / null for stdin.
    /// Refuses to wait on an interactive terminal when no input was named. <paramref name="what"/> names the
    /// input in error messages ("the envelope").
    /// </summary>
    public string ReadInput(string? pathOrDash, string what)
    {
        string text;
        if (pathOrDash is null or "-")
        {
            if (pathOrDash is null && StdinIsTerminal)
                throw Usage($"no input: give {what} as a FILE, or pipe it into stdin");
            text = Stdin.ReadToEnd();
        }
        else
        {
            try { text = File.ReadAllText(pathOrDash, new UTF8Encoding(false, true)); }
            catch (FileNotFoundException) { throw new CliException($"cannot read {what}: no such file '{pathOrDash}'"); }
            catch (DirectoryNotFoundException) { throw new CliException($"cannot read {what}: no such file '{pathOrDash}'"); }
            catch (UnauthorizedAccessException) { throw new CliException($"cannot read {what}: permission denied for '{pathOrDash}'"); }
            catch (DecoderFallbackException) { throw new CliException($"cannot read {what}: '{pathOrDash}' is not UTF-8 text"); }
            catch (IOException e) { throw new CliException($"cannot read {what} from '{pathOrDash}': {e.Message}"); }
        }
        text = text.TrimStart('\uFEFF').Trim();
        if (text.Length == 0) throw new CliException($"{what} is empty");
        return text;
    }

    /// <summary>Parses input JSON; any failure is a one-line <see cref="CliException"/> naming <paramref name="what"/>.</summary>
    public static JsonNode ParseJson(string text, string what)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: InputJson) ?? throw new CliException($"{what} is JSON null");
        }
        catch (JsonException e)
        {
            throw new CliException($"{what} is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Parses input that must be a JSON object.</summary>
    public static JsonObject ParseObject(string text, string what)
        => ParseJson(text, what) as JsonObject ?? throw new CliException($"{what} must be a JSON object");

    /// <summary>Writes <paramref name="node"/> as indented JSON plus a newline.</summary>
    public void WriteJson(JsonNode node)
    {
        Stdout.Write(node.ToJsonString(OutputJson));
        Stdout.Write('\n');
        Stdout.Flush();
    }
}
