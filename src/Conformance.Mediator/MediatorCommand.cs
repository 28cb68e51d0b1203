using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Conformance.Wire.Crypto;

namespace Conformance.Mediator;

/// <summary>Bad command-line input: one line for stderr, exit code 2.</summary>
public sealed class MediatorUsageException(string message) : Exception(message);

/// <summary>
/// <c>conformance mediator --port N [--db FILE | --memory] [--bind 127.0.0.1] [--seed S] [--sync full|normal] [--verbose]</c>:
/// starts a mediator (SQLite at <c>./mediator.db</c> unless told otherwise; port 0 picks a free one), prints its DID and
/// endpoints as one JSON line on stdout (<c>{"did":…,"http":…,"ws":…,"store":…}</c>), and serves until SIGTERM or Ctrl-C.
/// The CLI's MediatorVerbs and the tests' process host both call <see cref="Run"/>.
/// </summary>
public static class MediatorCommand
{
    public const string Usage = "usage: conformance mediator --port N [--db FILE | --memory | --postgres CONNSTRING] [--bind ADDRESS] [--seed TEXT] [--sync full|normal] [--verbose]";

    /// <summary>The database used when neither --db nor --memory is given (SQLite is the durable default).</summary>
    public const string DefaultDatabase = "mediator.db";

    /// <summary>Parses the arguments (after the verb) into options; throws <see cref="MediatorUsageException"/>.</summary>
    public static MediatorOptions Parse(IReadOnlyList<string> args, out bool verbose)
    {
        var o = new MediatorOptions();
        verbose = false;
        string? db = null;
        var memory = false;
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new MediatorUsageException($"{a} needs a value; {Usage}");
            switch (a)
            {
                case "--port":
                    var p = Value();
                    if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                        throw new MediatorUsageException($"--port: '{p}' is not a port number (0-65535)");
                    o.Port = port;
                    break;
                case "--db": db = Value(); break;
                case "--memory": memory = true; break;
                case "--postgres": o.PostgresConnectionString = Value(); break;
                case "--bind":
                    var b = Value();
                    o.Bind = IPAddress.TryParse(b, out var ip) ? ip : throw new MediatorUsageException($"--bind: '{b}' is not an IP address");
                    break;
                case "--public-host": o.PublicHost = Value(); break;
                case "--seed": o.Entropy = Entropy.Seeded(Value(), "mediator"); break;
                case "--sync":
                    o.Sqlite.SynchronousFull = Value() switch
                    {
                        "full" => true,
                        "normal" => false,
                        var s => throw new MediatorUsageException($"--sync: '{s}' is neither full nor normal"),
                    };
                    break;
                case "--verbose": verbose = true; break;
                case "-h" or "--help": throw new MediatorUsageException(Usage);
                default: throw new MediatorUsageException($"unknown option '{a}'; {Usage}");
            }
        }
        if ((db is not null ? 1 : 0) + (memory ? 1 : 0) + (o.PostgresConnectionString is not null ? 1 : 0) > 1)
            throw new MediatorUsageException("--db, --memory and --postgres exclude each other");
        o.DatabasePath = memory || o.PostgresConnectionString is not null ? null : db ?? DefaultDatabase;
        o.InMemory = memory;
        return o;
    }

    /// <summary>Runs the mediator until SIGTERM / Ctrl-C (or <paramref name="stop"/>). Exit codes: 0 after a clean stop,
    /// 1 when it could not start, 2 on bad arguments.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken stop = default)
    {
        MediatorOptions options;
        bool verbose;
        try { options = Parse(args, out verbose); }
        catch (MediatorUsageException e) { stderr.WriteLine("conformance mediator: " + e.Message); return 2; }
        if (verbose) options.Log = line => { lock (stderr) stderr.WriteLine("mediator: " + line); };

        using var done = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; done.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; done.Cancel(); });

        MediatorHost host;
        try { host = MediatorHost.StartAsync(options, done.Token).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is StorageException or IOException or InvalidOperationException or OperationCanceledException
                                       or System.Net.Sockets.SocketException or ArgumentException)
        {
            stderr.WriteLine("conformance mediator: cannot start: " + OneLine(e.Message));
            return 1;
        }
        stdout.WriteLine(host.DescribeJson());
        stdout.Flush();
        try { Task.Delay(Timeout.Infinite, done.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { }
        host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    internal static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
