using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using Conformance.Cli.Verbs;
using Conformance.Harness.Drivers;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>
/// `conformance agent`: the ready line, the backchannel status endpoint (AATH backchannel-openapi.yml:
/// GET /agent/command/status), graceful stop on SIGTERM, and one-line errors with exit code 2.
/// </summary>
[TestFixture]
public class AgentVerbTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [OneTimeSetUp]
    public void CliIsBuilt() =>
        Assert.That(File.Exists(DriverTestSupport.CliDll), Is.True, $"{DriverTestSupport.CliDll} is missing: build src/Conformance.Cli");

    private static Process Spawn(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DriverTestSupport.CliDll);
        psi.ArgumentList.Add("agent");
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(psi)!;
    }

    private static async Task<string?> FirstLineAsync(Process p, TimeSpan timeout)
    {
        var read = p.StandardOutput.ReadLineAsync();
        return await Task.WhenAny(read, Task.Delay(timeout)) == read ? await read : null;
    }

    [Test]
    public async Task Prints_one_ready_line_serves_the_backchannel_status_and_stops_gracefully_on_SIGTERM()
    {
        var sw = Stopwatch.StartNew();
        using var p = Spawn("--label", "Verb Test Agent", "--ws");
        try
        {
            var line = await FirstLineAsync(p, TimeSpan.FromSeconds(30));
            var toReady = sw.Elapsed;
            Assert.That(line, Is.Not.Null, "no ready line within 30 s; stderr: " + (p.HasExited ? p.StandardError.ReadToEnd() : "(running)"));
            TestContext.Out.WriteLine($"time to ready (Process.Start → JSON line): {toReady.TotalMilliseconds:0} ms; {line}");

            var ready = JsonNode.Parse(line!)!.AsObject();
            Assert.That(ready["label"]!.GetValue<string>(), Is.EqualTo("Verb Test Agent"));
            Assert.That(ready["pid"]!.GetValue<int>(), Is.EqualTo(p.Id));
            Assert.That(ready["ready_ms"]!.GetValue<long>(), Is.GreaterThan(0));
            var http = new Uri(ready["did_endpoint_http"]!.GetValue<string>());
            var ws = new Uri(ready["did_endpoint_ws"]!.GetValue<string>());
            var backchannel = new Uri(ready["backchannel"]!.GetValue<string>());
            Assert.Multiple(() =>
            {
                Assert.That(http.Scheme, Is.EqualTo("http"));
                Assert.That(http.Host, Is.EqualTo("127.0.0.1"));
                Assert.That(ws.Scheme, Is.EqualTo("ws"));
                Assert.That(ws.Port, Is.EqualTo(http.Port), "HTTP and WebSocket share the DIDComm port");
                Assert.That(backchannel.Host, Is.EqualTo("127.0.0.1"));
                Assert.That(backchannel.Port, Is.Not.EqualTo(http.Port));
                // --ws advertises both, HTTP first.
                Assert.That(ready["advertised"]!.AsArray().Select(n => n!.GetValue<string>()),
                    Is.EqualTo(new[] { http.ToString().TrimEnd('/'), ws.ToString().TrimEnd('/') }));
            });

            // AATH backchannel: GET /agent/command/status → 200 {"status": "active"}.
            var status = JsonNode.Parse(await Http.GetStringAsync(new Uri(backchannel, "agent/command/status")))!;
            Assert.That(status["status"]!.GetValue<string>(), Is.EqualTo("active"));
            // The DIDComm port answers a plain GET with a human-readable line naming the agent.
            Assert.That(await Http.GetStringAsync(http), Does.Contain("Verb Test Agent"));
            // Nothing but the one line on stdout.
            var more = p.StandardOutput.ReadLineAsync();
            Assert.That(await Task.WhenAny(more, Task.Delay(300)), Is.Not.SameAs(more), "stdout must hold only the ready line");

            Assert.That(ProcessTree.Signal(p.Id, ProcessTree.SIGTERM), Is.True);
            Assert.That(p.WaitForExit(10_000), Is.True, "did not stop within 10 s of SIGTERM");
            Assert.That(p.ExitCode, Is.EqualTo(0), "a graceful stop exits 0; stderr: " + p.StandardError.ReadToEnd());
            Assert.That(FreePorts.IsFree(http.Port) && FreePorts.IsFree(backchannel.Port), Is.True, "ports are released after the stop");
        }
        finally
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
    }

    [Test]
    public async Task Port_N_puts_the_backchannel_on_N_plus_1()
    {
        int n = 0;
        for (var attempt = 0; attempt < 20 && n == 0; attempt++)
        {
            var candidate = FreePorts.Pick(1)[0];
            if (candidate < 65535 && FreePorts.IsFree(candidate + 1)) n = candidate;
        }
        Assume.That(n, Is.Not.Zero, "no free pair of adjacent ports");
        using var p = Spawn("--port", n.ToString());
        try
        {
            var line = await FirstLineAsync(p, TimeSpan.FromSeconds(30));
            Assert.That(line, Is.Not.Null, "no ready line; stderr: " + (p.HasExited ? p.StandardError.ReadToEnd() : "(running)"));
            var ready = JsonNode.Parse(line!)!;
            Assert.That(new Uri(ready["did_endpoint_http"]!.GetValue<string>()).Port, Is.EqualTo(n));
            Assert.That(ready["backchannel"]!.GetValue<string>(), Is.EqualTo($"http://127.0.0.1:{n + 1}/"));
        }
        finally
        {
            ProcessTree.Signal(p.Id, ProcessTree.SIGTERM);
            if (!p.WaitForExit(10_000)) p.Kill(entireProcessTree: true);
        }
    }

    [TestCase("--port", "x", "--port needs a port number")]
    [TestCase("--port", "70000", "--port needs a port number")]
    [TestCase("--bogus", null, "unknown option '--bogus'")]
    [TestCase("--ws", "--ws-only", "exclude each other")]
    [TestCase("--bind", "not-an-ip", "--bind needs an IP address")]
    [TestCase("--label", null, "--label needs a value")]
    public void Bad_arguments_are_one_line_on_stderr_and_exit_2(string a, string? b, string expected)
    {
        using var p = Spawn(b is null ? [a] : [a, b]);
        Assert.That(p.WaitForExit(30_000), Is.True);
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        Assert.Multiple(() =>
        {
            Assert.That(p.ExitCode, Is.EqualTo(2));
            Assert.That(stdout, Is.Empty);
            Assert.That(stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.StartWith("conformance agent: ").And.Contain(expected));
            Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    [Test]
    public async Task A_port_in_use_is_one_line_and_exit_1()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var p = Spawn("--port", port.ToString(), "--backchannel-port", "0");
            Assert.That(await p.WaitForExitAsync(new CancellationTokenSource(30_000).Token).ContinueWith(t => t.IsCompletedSuccessfully), Is.True);
            var stderr = p.StandardError.ReadToEnd();
            Assert.That(p.ExitCode, Is.EqualTo(1));
            Assert.That(stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.StartWith("conformance agent: cannot listen"));
        }
        finally { listener.Stop(); }
    }

    // ------------------------------------------------------------------ in-process (RunAgentAsync directly)

    [Test]
    public async Task RunAgentAsync_in_process_ws_only_advertises_only_the_WebSocket_endpoint_and_returns_0_when_stopped()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = AgentVerbs.RunAgentAsync(["--ws-only", "--seed", "s1", "--mediator", "--auto-accept"], stdout, stderr, stop.Token);
        var sw = Stopwatch.StartNew();
        while (!stdout.ToString().Contains('\n') && !run.IsCompleted && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(10);
        Assert.That(run.IsCompleted, Is.False, "stopped early: " + stderr);
        var ready = JsonNode.Parse(stdout.ToString().Trim())!;
        var ws = ready["did_endpoint_ws"]!.GetValue<string>();
        Assert.That(ready["advertised"]!.AsArray().Select(n => n!.GetValue<string>()), Is.EqualTo(new[] { ws.TrimEnd('/') }));
        using (var bc = new BackchannelClient(new Uri(ready["backchannel"]!.GetValue<string>())))
            Assert.That(await bc.IsActiveAsync(), Is.True);
        stop.Cancel();
        Assert.That(await run.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(0));
        Assert.That(stderr.ToString(), Is.Empty);
    }

    [Test]
    public async Task No_inbound_advertises_nothing()
    {
        var stdout = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = AgentVerbs.RunAgentAsync(["--no-inbound"], stdout, new StringWriter(), stop.Token);
        var sw = Stopwatch.StartNew();
        while (!stdout.ToString().Contains('\n') && !run.IsCompleted && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(10);
        var ready = JsonNode.Parse(stdout.ToString().Trim())!;
        Assert.That(ready["advertised"]!.AsArray(), Is.Empty);
        stop.Cancel();
        Assert.That(await run.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo(0));
    }

    [Test]
    public void Parse_defaults_are_manual_accept_loopback_and_free_ports()
    {
        var a = AgentVerbs.Parse([]);
        Assert.Multiple(() =>
        {
            Assert.That(a.AutoAccept, Is.False, "AATH backchannels expect manual accept");
            Assert.That(a.Bind, Is.EqualTo(IPAddress.Loopback));
            Assert.That(a.Port, Is.Zero);
            Assert.That(a.BackchannelPort, Is.Zero);
            Assert.That(a.AdvertiseHttp, Is.True);
            Assert.That(a.AdvertiseWs, Is.False);
        });
        var b = AgentVerbs.Parse(["--port=9020", "--auto-accept", "--bind", "0.0.0.0", "--db", "x.db", "--seed", "abc"]);
        Assert.Multiple(() =>
        {
            Assert.That(b.Port, Is.EqualTo(9020));
            Assert.That(b.BackchannelPort, Is.EqualTo(9021));
            Assert.That(b.AutoAccept, Is.True);
            Assert.That(b.Bind, Is.EqualTo(IPAddress.Any));
            Assert.That(b.Db, Is.EqualTo("x.db"));
            Assert.That(b.Seed, Is.EqualTo("abc"));
        });
        Assert.That(() => AgentVerbs.Parse(["--port", "65535"]), Throws.TypeOf<AgentVerbs.AgentArgsException>().With.Message.Contains("--backchannel-port"));
        Assert.That(() => AgentVerbs.Parse(["--port", "1", "--port", "2"]), Throws.TypeOf<AgentVerbs.AgentArgsException>().With.Message.Contains("more than once"));
        Assert.That(() => AgentVerbs.Parse(["--no-inbound", "--ws"]), Throws.TypeOf<AgentVerbs.AgentArgsException>());
        Assert.That(() => AgentVerbs.Parse(["--manual", "--auto-accept"]), Throws.TypeOf<AgentVerbs.AgentArgsException>());
        Assert.That(() => AgentVerbs.Parse(["extra"]), Throws.TypeOf<AgentVerbs.AgentArgsException>().With.Message.Contains("unexpected argument"));
    }
}
