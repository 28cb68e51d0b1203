namespace Conformance.Mediator.Tests;

/// <summary>The command-line front ends (what MediatorVerbs calls): argument checking and the one-line errors.</summary>
public class CommandTests
{
    [Test]
    public void Mediator_arguments_parse()
    {
        var o = MediatorCommand.Parse(["--port", "8080", "--db", "x.db", "--bind", "127.0.0.1", "--sync", "normal"], out var verbose);
        Assert.That((o.Port, o.DatabasePath, o.InMemory, o.Sqlite.SynchronousFull, verbose), Is.EqualTo((8080, "x.db", false, false, false)));
        Assert.That(MediatorCommand.Parse(["--port", "0", "--memory", "--verbose"], out verbose).InMemory, Is.True);
        Assert.That(verbose, Is.True);
        Assert.That(MediatorCommand.Parse(["--port", "0"], out _).DatabasePath, Is.EqualTo(MediatorCommand.DefaultDatabase), "SQLite is the default");
    }

    [TestCase(new[] { "--port", "x", "--memory" }, "not a port")]
    [TestCase(new[] { "--port", "70000", "--memory" }, "not a port")]
    [TestCase(new[] { "--port", "1", "--db", "a", "--memory" }, "exclude")]
    [TestCase(new[] { "--bind", "nowhere", "--memory" }, "not an IP address")]
    [TestCase(new[] { "--frobnicate" }, "unknown option")]
    [TestCase(new[] { "--db" }, "needs a value")]
    public void Bad_mediator_arguments_are_exit_2_with_one_line(string[] args, string expected)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.That(MediatorCommand.Run(args, stdout, stderr), Is.EqualTo(2));
        var err = stderr.ToString().TrimEnd();
        Assert.That(err, Does.Contain(expected));
        Assert.That(err, Does.Not.Contain("\n"));
        Assert.That(stdout.ToString(), Is.Empty);
    }

    [Test]
    public async Task Mediator_prints_one_json_line_and_stops_on_cancel()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => MediatorCommand.Run(["--port", "0", "--memory"], stdout, stderr, stop.Token));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (stdout.ToString().Length == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        var line = stdout.ToString().TrimEnd();
        var json = System.Text.Json.Nodes.JsonNode.Parse(line)!;
        Assert.That(line, Does.Not.Contain("\n"));
        Assert.That(json["did"]!.GetValue<string>(), Does.StartWith("did:peer:2."));
        Assert.That(json["http"]!.GetValue<string>(), Does.StartWith("http://127.0.0.1:"));
        Assert.That(json["ws"]!.GetValue<string>(), Does.StartWith("ws://127.0.0.1:"));
        var client = new V2Client(json["did"]!.GetValue<string>());
        Assert.That((await client.PingAsync()).Type, Is.EqualTo(MessageTypes.PingResponse));
        await client.DisposeAsync();
        stop.Cancel();
        Assert.That(await run, Is.Zero);
    }

    [Test]
    public void A_port_in_use_is_exit_1_with_one_line()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
            var stderr = new StringWriter();
            Assert.That(MediatorCommand.Run(["--port", port.ToString(), "--memory"], new StringWriter(), stderr), Is.EqualTo(1));
            Assert.That(stderr.ToString().TrimEnd(), Does.StartWith("conformance mediator: cannot start:").And.Not.Contain("\n"));
        }
        finally { l.Stop(); }
    }

    [Test]
    public void Bench_arguments_parse_and_reject_nonsense()
    {
        var o = MediatorBench.Parse(["--senders", "2", "--recipients", "3", "--messages", "100", "--runs", "1", "--enc", "a256gcm"]);
        Assert.That((o.Senders, o.Recipients, o.Messages, o.Runs, o.Enc), Is.EqualTo((2, 3, 100, 1, Conformance.Wire.DidComm2.ContentAlg.A256Gcm)));
        Assert.That(() => MediatorBench.Parse(["--senders", "0"]), Throws.TypeOf<MediatorUsageException>().With.Message.Contains("positive"));
        Assert.That(() => MediatorBench.Parse(["--enc", "rot13"]), Throws.TypeOf<MediatorUsageException>());
        Assert.That(() => MediatorBench.Parse(["--what"]), Throws.TypeOf<MediatorUsageException>());
    }

    [Test]
    public async Task A_tiny_bench_run_delivers_everything()
    {
        var output = new StringWriter();
        var r = await MediatorBench.RunAsync(new MediatorBenchOptions { Senders = 2, Recipients = 2, Messages = 300, Runs = 1, Window = 4, InProcess = true }, output);
        Assert.That((r.Acked, r.Errors, r.LeftInQueue), Is.EqualTo((300L, 0L, 0L)), output.ToString());
        var lines = output.ToString().TrimEnd().Split('\n');
        Assert.That(lines[^1], Does.Match(@" \d+ msgs/s$"));
        Assert.That(lines[^1], Does.Contain("p50").And.Contain("p99").And.Contain("peak RSS"));
    }
}
