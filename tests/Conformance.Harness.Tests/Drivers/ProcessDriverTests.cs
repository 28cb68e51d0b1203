using System.Diagnostics;
using Conformance.Harness.Drivers;
using Conformance.Harness.Running;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>
/// ProcessDriver: starts agents/reference as a child process, reaches it through its AATH backchannel, and leaves
/// nothing behind: no process (of the whole tree), no listening port — also when the start fails.
/// </summary>
[TestFixture]
public class ProcessDriverTests
{
    private string _logs = null!;

    [SetUp]
    public void SetUp() => _logs = DriverTestSupport.Scratch("process-logs");

    private LaunchOptions Launch() => new() { LogDirectory = _logs };

    /// <summary>A definition in a scratch folder (placeholders {repo} etc. resolve as for agents/*).</summary>
    private static AgentDefinition Define(string json)
    {
        var dir = DriverTestSupport.Scratch("def");
        File.WriteAllText(Path.Combine(dir, AgentDefinition.FileName), json);
        return AgentDefinition.Load(Path.Combine(dir, AgentDefinition.FileName), DriverTestSupport.RepoRoot);
    }

    [Test]
    public async Task Starts_agents_reference_answers_on_its_backchannel_and_is_gone_after_dispose()
    {
        var definition = AgentDefinition.Find(DriverTestSupport.RepoRoot, "reference");
        var driver = new ProcessDriver(definition, Launch());
        int pid, port, backchannelPort;
        try
        {
            await driver.StartAsync();
            pid = driver.Pid!.Value;
            port = driver.Port;
            backchannelPort = driver.BackchannelPort;
            TestContext.Out.WriteLine($"process driver: time to ready {driver.TimeToReady!.Value.TotalMilliseconds:0} ms (pid {pid}, log {driver.LogPath})");
            Assert.Multiple(async () =>
            {
                Assert.That(driver.Runtime, Is.EqualTo("process"));
                Assert.That(driver.Name, Is.EqualTo("reference"));
                Assert.That(driver.BackchannelUrl, Is.EqualTo(new Uri($"http://127.0.0.1:{backchannelPort}/")));
                Assert.That(await driver.Backchannel.IsActiveAsync(), Is.True);
                Assert.That(ProcessTree.IsAlive(pid), Is.True);
                Assert.That(FreePorts.IsFree(port), Is.False, "the agent listens on {port}");
            });
            // The agent's ready line (stdout) is in the log kept for the report (it may trail the first health answer).
            var expected = "\"backchannel\":\"http://127.0.0.1:" + backchannelPort;
            var log = "";
            for (var sw = Stopwatch.StartNew(); sw.Elapsed < TimeSpan.FromSeconds(10) && !log.Contains(expected); await Task.Delay(50))
                log = await ReadSharedAsync(driver.LogPath!);
            Assert.That(log, Does.Contain(expected));
        }
        finally
        {
            await driver.DisposeAsync();
        }
        Assert.Multiple(() =>
        {
            Assert.That(ProcessTree.IsAlive(pid), Is.False, "the agent process is gone");
            Assert.That(FreePorts.IsFree(port), Is.True, "DIDComm port released");
            Assert.That(FreePorts.IsFree(backchannelPort), Is.True, "backchannel port released");
            Assert.That(driver.StoppedGracefully, Is.True, "the reference agent stops on SIGTERM");
        });
        Assert.That(await ReadSharedAsync(driver.LogPath!), Does.Contain("stopped: exit code 0"));
    }

    [Test]
    public async Task DriverFactory_agent_reference_with_runtime_process_is_a_ProcessDriver_and_without_runtime_in_process()
    {
        var o = new RunOptions { Agent = "reference", Runtime = "process", RepoRoot = DriverTestSupport.RepoRoot, ReportsDir = _logs };
        await using (var d = DriverFactory.Create(o))
        {
            Assert.That(d, Is.TypeOf<ProcessDriver>());
            Assert.That(((ProcessDriver)d).Definition.Name, Is.EqualTo("reference"));
        }
        await using (var d = DriverFactory.Create(new RunOptions { Agent = "reference", RepoRoot = DriverTestSupport.RepoRoot }))
            Assert.That(d, Is.TypeOf<ReferenceDriver>());
        await using (var d = DriverFactory.Create(new RunOptions { Agent = "reference", Runtime = "docker", RepoRoot = DriverTestSupport.RepoRoot }))
            Assert.That(d, Is.TypeOf<DockerDriver>());
        Assert.That(() => DriverFactory.Create(new RunOptions { Agent = "no-such-agent", Runtime = "process", RepoRoot = DriverTestSupport.RepoRoot }),
            Throws.ArgumentException.With.Message.Contains("no agent definition 'no-such-agent'").And.Message.Contains("reference"));
        Assert.That(() => DriverFactory.Create(new RunOptions { Agent = "reference", Runtime = "vm", RepoRoot = DriverTestSupport.RepoRoot }),
            Throws.ArgumentException.With.Message.Contains("unknown runtime 'vm'"));
    }

    [Test]
    public async Task The_whole_tree_is_stopped_a_child_that_ignores_SIGTERM_is_killed_after_the_grace_period()
    {
        // sh starts a grandchild that ignores SIGTERM, writes its pid, then becomes the reference agent.
        var d = Define($$"""
            {
              "name": "tree",
              "command": "/bin/sh",
              "args": ["-c", "(trap '' TERM; exec sleep 300) & echo $! > '{dir}/child.pid'; exec dotnet '{{DriverTestSupport.CliDll}}' agent --port {port} --backchannel-port {backchannel_port}"],
              "shutdown_grace_s": 1,
              "startup_timeout_s": 30
            }
            """);
        var driver = new ProcessDriver(d, Launch());
        int child;
        try
        {
            await driver.StartAsync();
            child = int.Parse(File.ReadAllText(Path.Combine(d.Directory, "child.pid")).Trim());
            Assert.That(ProcessTree.IsAlive(child), Is.True);
            Assert.That(ProcessTree.Descendants(driver.Pid!.Value), Does.Contain(child));
        }
        finally
        {
            await driver.DisposeAsync();
        }
        Assert.That(ProcessTree.IsAlive(child), Is.False, "the grandchild ignoring SIGTERM was killed");
        Assert.That(driver.StoppedGracefully, Is.False, "it took SIGKILL");
    }

    [Test]
    public async Task An_agent_that_exits_at_once_fails_the_start_with_its_exit_code_its_words_and_the_log()
    {
        var d = Define("""{"name": "crash", "command": "/bin/sh", "args": ["-c", "echo 'cannot open wallet' >&2; exit 3"]}""");
        var driver = new ProcessDriver(d, Launch());
        var sw = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<AgentStartException>(() => driver.StartAsync());
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "an exit is noticed without waiting for the timeout");
        Assert.That(e!.Message, Does.Contain("exited with code 3").And.Contain("cannot open wallet").And.Contain(driver.LogPath!));
        await driver.DisposeAsync();
    }

    [Test]
    public async Task An_agent_that_never_answers_times_out_and_is_killed()
    {
        var d = Define("""
            {"name": "mute", "command": "/bin/sh", "args": ["-c", "echo $$ > '{dir}/pid'; exec sleep 300"], "startup_timeout_s": 1}
            """);
        var driver = new ProcessDriver(d, Launch());
        var e = await Assert.ThrowsAsync<AgentStartException>(() => driver.StartAsync());
        Assert.That(e!.Message, Does.Contain("did not answer").And.Contain("within 1 s"));
        var pid = int.Parse(File.ReadAllText(Path.Combine(d.Directory, "pid")).Trim());
        Assert.That(ProcessTree.IsAlive(pid), Is.False, "killed on the failed start");
        await driver.DisposeAsync();
    }

    [Test]
    public async Task The_install_step_runs_once_while_its_marker_is_missing()
    {
        var d = Define($$"""
            {
              "name": "installs",
              "command": "dotnet",
              "args": ["{{DriverTestSupport.CliDll}}", "agent", "--port", "{port}", "--backchannel-port", "{backchannel_port}"],
              "install": {"command": "echo run >> installs.txt && mkdir -p node_modules", "marker": "node_modules"}
            }
            """);
        for (var i = 0; i < 2; i++)
        {
            await using var driver = new ProcessDriver(d, Launch());
            await driver.StartAsync();
            Assert.That(await driver.Backchannel.IsActiveAsync(), Is.True);
        }
        Assert.That(File.ReadAllLines(Path.Combine(d.Directory, "installs.txt")), Has.Length.EqualTo(1));

        var failing = Define("""{"name": "badinstall", "command": "true", "install": "echo 'npm ERR! 404' >&2; exit 1"}""");
        var bad = new ProcessDriver(failing, Launch());
        Assert.That(() => bad.StartAsync(), Throws.TypeOf<AgentStartException>()
            .With.Message.Contains("install step").And.Message.Contains("npm ERR! 404"));
        Assert.That(File.Exists(Path.Combine(failing.Directory, AgentDefinition.DefaultMarker)), Is.False);
        await bad.DisposeAsync();
    }

    [Test]
    public async Task A_health_answer_from_a_stranger_on_the_agents_port_is_not_ready()
    {
        // Another process took the backchannel port between picking and binding: it answers the health path, the
        // agent cannot bind. The driver must notice whose socket answered.
        using var stranger = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        stranger.Start();
        var strangerPort = ((System.Net.IPEndPoint)stranger.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var serve = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var c = await stranger.AcceptTcpClientAsync(stop.Token);
                var s = c.GetStream();
                await s.ReadAsync(new byte[4096], stop.Token);
                await s.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"u8.ToArray(), stop.Token);
            }
        });
        var driver = new ProcessDriver(AgentDefinition.Find(DriverTestSupport.RepoRoot, "reference"),
            new LaunchOptions { LogDirectory = _logs, FixedPorts = (FreePorts.Pick(1)[0], strangerPort) });
        var e = await Assert.ThrowsAsync<AgentStartException>(() => driver.StartAsync());
        Assert.That(e!.Message, Does.Contain($"another process holds port {strangerPort}"));
        await driver.DisposeAsync();
        stop.Cancel();
        try { await serve; } catch (OperationCanceledException) { }
    }

    [Test]
    public void PortOwnership_tells_our_listening_socket_from_a_strangers()
    {
        using var mine = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        mine.Start();
        var port = ((System.Net.IPEndPoint)mine.LocalEndpoint).Port;
        Assert.That(PortOwnership.IsListeningIn(port, [Environment.ProcessId]), Is.True);
        using var other = Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;
        try { Assert.That(PortOwnership.IsListeningIn(port, [other.Id]), Is.False); }
        finally { other.Kill(); }
        Assert.That(PortOwnership.IsListeningIn(FreePorts.Pick(1)[0], [Environment.ProcessId]), Is.Null, "nobody listens: cannot tell");
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(fs);
        return await r.ReadToEndAsync();
    }
}
