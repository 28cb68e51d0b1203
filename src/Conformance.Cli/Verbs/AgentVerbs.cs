// `conformance agent`: serves one reference agent (DIDComm HTTP + WebSocket inbound on one port, the AATH backchannel
// on another) until SIGTERM or SIGINT. This is how the reference agent runs as a process (agents/reference/agent.json)
// and in a container (docker/reference.Dockerfile), and how a person runs it by hand.
//
// When it is ready it prints ONE JSON line on stdout and nothing else:
//   {"label":…,"did_endpoint_http":…,"did_endpoint_ws":…,"backchannel":…,"pid":…,"ready_ms":…,"advertised":[…]}
// did_endpoint_* are where the agent listens; "advertised" is what it puts in its DID documents and invitations
// (empty with --no-inbound). ready_ms counts from the start of the process.
// Bad arguments: one line `conformance agent: <reason>` on stderr, exit 2. Cannot listen: one line, exit 1.
// Like the AATH backchannels, the agent runs in manual-accept mode unless --auto-accept is given.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Conformance.Agent;
using Conformance.Agent.Core;
using Conformance.Agent.Transport;

namespace Conformance.Cli.Verbs;

public static class AgentVerbs
{
    public const string Usage =
        "conformance agent [--port N] [--backchannel-port M] [--ws | --ws-only] [--no-inbound] [--label L] " +
        "[--auto-accept | --manual] [--mediator] [--seed S] [--db FILE] [--bind ADDR]";

    public const string Help = "usage: " + Usage + """


        Serves the reference agent until SIGTERM or SIGINT. Prints one JSON line on stdout when ready.

        options:
          --port N              DIDComm inbound port, HTTP and WebSocket (default 0: a free port)
          --backchannel-port M  AATH backchannel port on 127.0.0.1 (default N+1 when N > 0, else a free port)
          --ws                  advertise the WebSocket endpoint as well as the HTTP one
          --ws-only             advertise only the WebSocket endpoint
          --no-inbound          an edge agent: advertise no endpoint (replies come over return-route)
          --label L             the label in invitations and requests (default "Conformance Reference Agent")
          --auto-accept         accept invitations and requests without a backchannel call
          --manual              wait for explicit accept calls (the default, as AATH backchannels expect)
          --mediator            grant mediation (RFC 0211) and queue forwards for granted keys
          --seed S              deterministic mode: keys, ids, clock and nonces all follow from S
          --db FILE             SQLite file for durable storage (default: in memory)
          --bind ADDR           address for the DIDComm port (default 127.0.0.1)
          --help                show this help
        """;

    /// <summary>The parsed command line of <c>conformance agent</c>.</summary>
    public sealed record AgentArgs
    {
        public int Port { get; init; }
        public int BackchannelPort { get; init; }
        public bool AdvertiseHttp { get; init; } = true;
        public bool AdvertiseWs { get; init; }
        public bool NoInbound { get; init; }
        public string Label { get; init; } = new AgentOptions().Label;
        public bool AutoAccept { get; init; }
        public bool Mediator { get; init; }
        public string? Seed { get; init; }
        public string? Db { get; init; }
        public IPAddress Bind { get; init; } = IPAddress.Loopback;
        public bool Help { get; init; }
    }

    /// <summary>Bad command line: one line on stderr, exit 2.</summary>
    public sealed class AgentArgsException(string message) : Exception(message);

    /// <summary>Runs the verb on the process's own streams; stops gracefully on SIGTERM (docker stop, the process
    /// driver) or SIGINT (Ctrl+C).</summary>
    public static async Task<int> RunAgentAsync(string[] args)
    {
        using var cts = new CancellationTokenSource();
        void Graceful(PosixSignalContext ctx)
        {
            ctx.Cancel = true;
            cts.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Graceful);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Graceful);
        return await RunAgentAsync(args, Console.Out, Console.Error, cts.Token);
    }

    /// <summary>
    /// Runs the verb: parses <paramref name="args"/> (the words after <c>agent</c>), starts the agent, writes the ready
    /// line to <paramref name="stdout"/>, and serves until SIGTERM/SIGINT or <paramref name="stop"/> is cancelled.
    /// Returns the exit code: 0 after a graceful stop, 1 when it cannot start, 2 on bad arguments.
    /// </summary>
    public static async Task<int> RunAgentAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        AgentArgs a;
        try { a = Parse(args); }
        catch (AgentArgsException e)
        {
            stderr.WriteLine($"conformance agent: {e.Message} (usage: {Usage})");
            return 2;
        }
        if (a.Help)
        {
            stdout.Write(Help);
            return 0;
        }

        var options = new AgentOptions
        {
            Label = a.Label,
            AutoAccept = a.AutoAccept,
            Mediator = a.Mediator,
            Seed = a.Seed,
            DatabasePath = a.Db,
        };
        ReferenceAgent agent;
        try { agent = new ReferenceAgent(options); }
        catch (Exception e) when (a.Db != null && e is not OutOfMemoryException)
        {
            stderr.WriteLine($"conformance agent: cannot open the database '{a.Db}': {OneLine(e.Message)}");
            return 1;
        }

        AgentHost host;
        try
        {
            host = await AgentHost.StartAsync(agent, new AgentHostOptions
            {
                Port = a.Port,
                BackchannelPort = a.BackchannelPort,
                Bind = a.Bind,
                AdvertiseHttp = a.AdvertiseHttp,
                AdvertiseWs = a.AdvertiseWs,
                NoInbound = a.NoInbound,
                PublicDid = true,
            }, stop);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidOperationException or OperationCanceledException)
        {
            await agent.DisposeAsync();
            if (e is OperationCanceledException) return 0;
            stderr.WriteLine($"conformance agent: cannot listen ({a.Bind}:{a.Port}, backchannel 127.0.0.1:{a.BackchannelPort}): {OneLine(e.Message)}");
            return 1;
        }

        try
        {
            // Ready means answering: the first request to the backchannel builds its whole route table (every
            // endpoint's request delegate), which takes about as long as the rest of startup. Do it here, before
            // the ready line, so that the ready line is true and the first real backchannel call is not the slow one.
            await WarmUpAsync(host.BackchannelUrl, "/agent/command/status", stop);

            var ready = new JsonObject
            {
                ["label"] = a.Label,
                ["did_endpoint_http"] = host.HttpEndpoint.ToString(),
                ["did_endpoint_ws"] = host.WsEndpoint.ToString(),
                ["backchannel"] = host.BackchannelUrl?.ToString(),
                ["pid"] = Environment.ProcessId,
                ["ready_ms"] = SinceProcessStartMs(),
                ["advertised"] = new JsonArray(agent.Options.Endpoints.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()),
            };
            stdout.Write(ready.ToJsonString() + "\n");
            stdout.Flush();

            try { await Task.Delay(Timeout.Infinite, stop); }
            catch (OperationCanceledException) { }
            return 0;
        }
        finally
        {
            await host.DisposeAsync();
            await agent.DisposeAsync();
        }
    }

    /// <summary>Parses the words after <c>agent</c>. Throws <see cref="AgentArgsException"/> with a one-line reason.</summary>
    public static AgentArgs Parse(IReadOnlyList<string> args)
    {
        var a = new AgentArgs();
        int? port = null, backchannel = null;
        bool ws = false, wsOnly = false, auto = false, manual = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var t = args[i];
            string? inline = null;
            var eq = t.IndexOf('=');
            if (t.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = t[(eq + 1)..];
                t = t[..eq];
            }
            if (!t.StartsWith('-')) throw new AgentArgsException($"unexpected argument '{Excerpt(t)}'");
            if (t is not ("--help" or "-h") && !seen.Add(t)) throw new AgentArgsException($"option {t} is given more than once");

            string Value(string what)
            {
                if (inline != null) return inline.Length > 0 ? inline : throw new AgentArgsException($"option {t} has an empty value");
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new AgentArgsException($"option {t} needs a value ({what})");
                return args[++i];
            }
            void Flag()
            {
                if (inline != null) throw new AgentArgsException($"option {t} takes no value");
            }

            switch (t)
            {
                case "--help" or "-h": Flag(); a = a with { Help = true }; break;
                case "--port": port = ParsePort(t, Value("N")); break;
                case "--backchannel-port": backchannel = ParsePort(t, Value("M")); break;
                case "--ws": Flag(); ws = true; break;
                case "--ws-only": Flag(); wsOnly = true; break;
                case "--no-inbound": Flag(); a = a with { NoInbound = true }; break;
                case "--label": a = a with { Label = Value("L") }; break;
                case "--auto-accept": Flag(); auto = true; break;
                case "--manual": Flag(); manual = true; break;
                case "--mediator": Flag(); a = a with { Mediator = true }; break;
                case "--seed": a = a with { Seed = Value("S") }; break;
                case "--db": a = a with { Db = Value("FILE") }; break;
                case "--bind":
                    var addr = Value("ADDR");
                    if (addr == "localhost") addr = "127.0.0.1";
                    if (!IPAddress.TryParse(addr, out var ip)) throw new AgentArgsException($"--bind needs an IP address, not '{Excerpt(addr)}'");
                    a = a with { Bind = ip };
                    break;
                default: throw new AgentArgsException($"unknown option '{Excerpt(t)}'");
            }
        }
        if (ws && wsOnly) throw new AgentArgsException("--ws and --ws-only exclude each other");
        if (auto && manual) throw new AgentArgsException("--auto-accept and --manual exclude each other");
        if (a.NoInbound && (ws || wsOnly)) throw new AgentArgsException("--no-inbound advertises no endpoint: drop --ws/--ws-only");
        var p = port ?? 0;
        var bc = backchannel ?? (p > 0 ? p + 1 : 0);
        if (bc > 65535) throw new AgentArgsException($"--port {p} leaves no room for the default backchannel port {bc}: give --backchannel-port");
        if (p > 0 && p == bc) throw new AgentArgsException($"--port and --backchannel-port are both {p}");
        return a with
        {
            Port = p,
            BackchannelPort = bc,
            AdvertiseHttp = !wsOnly,
            AdvertiseWs = ws || wsOnly,
            AutoAccept = auto,
        };
    }

    private static int ParsePort(string option, string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 65535
            ? n
            : throw new AgentArgsException($"{option} needs a port number 0-65535, not '{Excerpt(value)}'");

    /// <summary>One plain HTTP/1.1 GET over a socket (no HttpClient to load); failures are ignored.</summary>
    private static async Task WarmUpAsync(Uri? baseUrl, string path, CancellationToken ct)
    {
        if (baseUrl is null) return;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, baseUrl.Port, limit.Token);
            var stream = tcp.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{baseUrl.Port}\r\nConnection: close\r\n\r\n"), limit.Token);
            var buffer = new byte[4096];
            while (await stream.ReadAsync(buffer, limit.Token) > 0) { }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException) { }
    }

    private static long SinceProcessStartMs()
    {
        try { return (long)(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds; }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException) { return -1; }
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private static string Excerpt(string s) =>
        s.Length <= 40 ? string.Concat(s.Select(c => char.IsControl(c) ? ' ' : c)) : string.Concat(s[..40].Select(c => char.IsControl(c) ? ' ' : c)) + "…";
}
