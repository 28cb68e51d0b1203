using Conformance.Harness.Grading;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Conformance.Harness.Drivers;

namespace Conformance.Harness.Tests.Drivers;

/// <summary>
/// DockerDriver against a real engine: the engine and the images come from <see cref="DockerTestEnvironment"/>
/// (docker/ensure-engine.sh, then docker/build.sh: offline base + reference image, once per test run), then the
/// reference agent in a container, reached through its backchannel, and removed afterwards — also when the start
/// fails. When the engine cannot be had here, every test is Inconclusive with the command and its error (never a
/// silent pass; under CI a failure). CONFORMANCE_DOCKER=0 skips them on purpose.
/// </summary>
[TestFixture, Category("Docker"), NonParallelizable]
public class DockerDriverTests
{
    private DockerEngine _engine = null!;
    private string? _unavailable;
    private string _logs = null!;

    [OneTimeSetUp]
    public void EngineAndImage()
    {
        _engine = new DockerEngine(DockerEngine.SocketFromEnvironment());
        _logs = DriverTestSupport.Scratch("docker-logs");
        _unavailable = DockerTestEnvironment.Require("docker/build.sh");
    }

    [OneTimeTearDown]
    public void Dispose() => _engine.Dispose();

    [SetUp]
    public void RequireEngine() => DockerTestEnvironment.Assume(_unavailable);

    private LaunchOptions Launch() => new() { LogDirectory = _logs };

    private static AgentDefinition Reference() => AgentDefinition.Find(DriverTestSupport.RepoRoot, "reference");

    private async Task<List<JsonObject>> ContainersOfRun(string runId) =>
        await _engine.ListContainersAsync([$"{DockerDriver.OwnerLabel}={DockerDriver.Owner}", $"{DockerDriver.RunLabel}={runId}"]);

    [Test]
    public async Task Runs_the_reference_agent_in_a_labelled_host_network_container_and_removes_it_afterwards()
    {
        var driver = new DockerDriver(Reference(), Launch());
        string id;
        try
        {
            await driver.StartAsync();
            id = driver.ContainerId!;
            TestContext.Out.WriteLine($"docker driver: container ready {driver.TimeToReady!.Value.TotalMilliseconds:0} ms after start " +
                                      $"(build {(driver.BuildTime is { } b ? b.TotalSeconds.ToString("0.0") + " s" : "not needed")}; log {driver.LogPath})");
            Assert.That(await driver.Backchannel.IsActiveAsync(), Is.True);
            Assert.That(driver.BackchannelUrl, Is.EqualTo(new Uri($"http://127.0.0.1:{driver.BackchannelPort}/")));

            var inspect = (await _engine.InspectContainerAsync(id))!;
            var labels = inspect["Config"]!["Labels"]!.AsObject();
            Assert.Multiple(() =>
            {
                Assert.That(labels[DockerDriver.OwnerLabel]!.GetValue<string>(), Is.EqualTo("conformance"));
                Assert.That(labels[DockerDriver.RunLabel]!.GetValue<string>(), Is.EqualTo(driver.RunId));
                Assert.That(labels[DockerDriver.AgentLabel]!.GetValue<string>(), Is.EqualTo("reference"));
                Assert.That(labels[DockerDriver.PidLabel]!.GetValue<string>(), Is.EqualTo(Environment.ProcessId.ToString()));
                Assert.That(inspect["HostConfig"]!["NetworkMode"]!.GetValue<string>(), Is.EqualTo("host"));
                Assert.That(inspect["State"]!["Running"]!.GetValue<bool>(), Is.True);
            });
            Assert.That(await ContainersOfRun(driver.RunId), Has.Count.EqualTo(1));
        }
        finally
        {
            await driver.DisposeAsync();
        }
        Assert.That(await _engine.InspectContainerAsync(id), Is.Null, "the container is removed");
        Assert.That(await ContainersOfRun(driver.RunId), Is.Empty);
        Assert.That(FreePorts.IsFree(driver.BackchannelPort), Is.True);
        // The container's own output (its ready line) was kept in the log.
        Assert.That(File.ReadAllText(driver.LogPath!), Does.Contain("\"backchannel\":\"http://127.0.0.1:" + driver.BackchannelPort));
    }

    [Test]
    public async Task A_failure_after_the_container_started_still_removes_it()
    {
        var driver = new DockerDriver(Reference(), Launch());
        string? started = null;
        driver.AfterContainerStart = id =>
        {
            started = id;
            throw new InvalidOperationException("simulated failure after start");
        };
        Assert.That(() => driver.StartAsync(), Throws.InvalidOperationException.With.Message.EqualTo("simulated failure after start"));
        Assert.That(started, Is.Not.Null);
        Assert.That(await _engine.InspectContainerAsync(started!), Is.Null, "removed on the failed start");
        Assert.That(await ContainersOfRun(driver.RunId), Is.Empty);
        await driver.DisposeAsync();
    }

    [Test]
    public async Task A_container_that_exits_fails_the_start_with_its_exit_code_and_words_and_is_removed()
    {
        var r = Reference();
        var bad = AgentDefinition.Parse($$"""
            {"name": "reference-bad", "docker": {"image": "{{r.Docker!.Image}}", "args": ["agent", "--bogus"]}, "startup_timeout_s": 30}
            """, r.Directory, r.RepoRoot);
        var driver = new DockerDriver(bad, Launch());
        var e = await Assert.ThrowsAsync<AgentStartException>(() => driver.StartAsync());
        Assert.That(e!.Message, Does.Contain("exited with code 2").And.Contain("unknown option '--bogus'"));
        Assert.That(await ContainersOfRun(driver.RunId), Is.Empty);
        await driver.DisposeAsync();
    }

    [Test]
    public async Task A_missing_image_is_built_with_the_definitions_build_command_and_a_failing_build_says_why()
    {
        var r = Reference();
        var tag = $"conformance/reference-buildtest:{Environment.ProcessId}";
        var d = AgentDefinition.Parse($$$"""
            {"name": "buildtest", "docker": {"image": "{{{tag}}}", "build": "docker tag {{{r.Docker!.Image}}} {{{tag}}}",
             "args": ["agent", "--port", "{port}", "--backchannel-port", "{backchannel_port}"]}}
            """, r.Directory, r.RepoRoot);
        try
        {
            Assert.That(await _engine.InspectImageAsync(tag), Is.Null);
            await using (var driver = new DockerDriver(d, Launch()))
            {
                await driver.StartAsync();
                Assert.That(driver.BuildTime, Is.Not.Null, "the image was built");
                Assert.That(await driver.Backchannel.IsActiveAsync(), Is.True);
            }
            Assert.That(await _engine.InspectImageAsync(tag), Is.Not.Null);
            // With the image present the build command still runs (a build script knows whether the image is stale);
            // when it leaves the image as it was, nothing counts as built.
            await using (var again = new DockerDriver(d, Launch()))
            {
                await again.StartAsync();
                Assert.That(again.BuildTime, Is.Null, "the image was up to date");
                Assert.That(File.ReadAllText(again.LogPath!), Does.Contain("checking it is up to date"));
            }
        }
        finally
        {
            DriverTestSupport.Run("docker", $"rmi {tag}", TimeSpan.FromSeconds(60));
        }

        var failing = AgentDefinition.Parse("""
            {"name": "buildfails", "docker": {"image": "conformance/never-built:x", "build": "echo 'base image missing' >&2; exit 4"}}
            """, r.Directory, r.RepoRoot);
        var bad = new DockerDriver(failing, Launch());
        var e = await Assert.ThrowsAsync<AgentStartException>(() => bad.StartAsync());
        Assert.That(e!.Message, Does.Contain("building image conformance/never-built:x failed (exit code 4)").And.Contain("base image missing"));
        Assert.That(await ContainersOfRun(bad.RunId), Is.Empty);
        await bad.DisposeAsync();
    }

    [Test]
    public async Task The_sweep_removes_containers_of_dead_harness_processes_and_keeps_live_ones()
    {
        // A harness process that has exited: its pid is free (a pid of a process we started and reaped).
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var image = Reference().Docker!.Image;
        JsonObject Spec(string pid) => new()
        {
            ["Image"] = image,
            ["Cmd"] = new JsonArray("agent", "--help"),
            ["Labels"] = new JsonObject
            {
                [DockerDriver.OwnerLabel] = DockerDriver.Owner,
                [DockerDriver.RunLabel] = "sweep-test",
                [DockerDriver.HostLabel] = Environment.MachineName,
                [DockerDriver.PidLabel] = pid,
            },
        };
        var stale = await _engine.CreateContainerAsync(Spec(gone.Id.ToString()));
        var live = await _engine.CreateContainerAsync(Spec(Environment.ProcessId.ToString()));
        try
        {
            var swept = await DockerDriver.SweepStaleAsync(_engine);
            Assert.That(swept, Does.Contain(stale));
            Assert.That(swept, Does.Not.Contain(live));
            Assert.That(await _engine.InspectContainerAsync(stale), Is.Null);
            Assert.That(await _engine.InspectContainerAsync(live), Is.Not.Null);
        }
        finally
        {
            await _engine.RemoveContainerAsync(stale);
            await _engine.RemoveContainerAsync(live);
        }
    }

    [Test]
    public async Task The_RFC0160_suite_passes_against_the_reference_agent_in_a_container()
    {
        await using var driver = new DockerDriver(Reference(), Launch());
        await driver.StartAsync();
        var settings = new RunSettings { Deterministic = false };
        var cases = CaseCatalog.Filter(CaseCatalog.Discover(Conformance.Suites.SuitesAssembly.Assembly), "RFC0160,RFC0023");
        var results = new List<CaseResult>();
        foreach (var info in cases) results.Add(await CaseRunner.RunAsync(info, driver, settings));
        Assert.That(results.Where(r => r.Grade is not (Grade.PASS or Grade.UNSUPPORTED)).Select(r => $"{r.Id} {r.Grade}: {r.Expected} / {r.Observed} / {r.Reason}"),
            Is.Empty, "the containerised reference agent passes like the in-process one");
    }
}
