using System.Diagnostics;
using Conformance.Harness.Tests.Drivers;

namespace Conformance.Harness.Tests;

/// <summary>
/// One Docker engine and one build of each image for the whole test run, shared by every test that needs a container
/// (category "Docker": the DockerDriver tests, Credo in a container): docker/ensure-engine.sh (installs and starts
/// dockerd if needed), then each image's build script once (docker/build.sh: the offline debootstrap base and the
/// reference image; docker/build-credo.sh: the Credo image on that base). A dockerd this run started is stopped at the
/// end of the run by <see cref="DockerEngineLifetime"/> (by its pid; CONFORMANCE_DOCKER_KEEP=1 keeps it).
/// <para>When the engine or an image cannot be had, <see cref="Assume"/> makes the test Inconclusive with the command
/// and its output — never a silent pass. Under CI (<c>CI</c> set, as .ci/run does, which installs docker.io and
/// debootstrap) the same is a failure: there the containers must really run. CONFORMANCE_DOCKER=0 skips on purpose,
/// also under CI.</para>
/// </summary>
public static class DockerTestEnvironment
{
    private static readonly Lock Gate = new();
    private static string? _engine;          // null until checked; "" when the engine answers, else why not
    private static readonly Dictionary<string, string> Builds = new(StringComparer.Ordinal); // script → "" or why not

    /// <summary>True when this run started the dockerd (and so stops it at the end).</summary>
    public static bool StartedEngine { get; private set; }

    private static bool UnderCi => Environment.GetEnvironmentVariable("CI") is { Length: > 0 } ci && ci != "false" && ci != "0";

    /// <summary>
    /// Makes sure the engine answers and each build script (a path under the repository, e.g. "docker/build-credo.sh")
    /// has run successfully once in this test run. Returns null when all is there, else why not (command, exit code
    /// and output).
    /// </summary>
    public static string? Require(params string[] buildScripts)
    {
        if (Environment.GetEnvironmentVariable("CONFORMANCE_DOCKER") == "0") return "Docker tests disabled by CONFORMANCE_DOCKER=0";
        lock (Gate)
        {
            if (_engine == null)
            {
                var sw = Stopwatch.StartNew();
                var (code, output) = DriverTestSupport.Run("bash", "docker/ensure-engine.sh", TimeSpan.FromMinutes(10));
                TestContext.Progress.WriteLine($"docker/ensure-engine.sh: exit {code} in {sw.Elapsed.TotalSeconds:0.0} s: {output}");
                _engine = code == 0 ? "" : $"`bash docker/ensure-engine.sh` exited with code {code}: {output}";
                StartedEngine = code == 0 && output.Contains("started dockerd pid");
            }
            if (_engine != "") return _engine;
            foreach (var script in buildScripts)
            {
                if (!Builds.TryGetValue(script, out var why))
                {
                    var sw = Stopwatch.StartNew();
                    var (code, output) = DriverTestSupport.Run("bash", script, TimeSpan.FromMinutes(20));
                    TestContext.Progress.WriteLine($"{script}: exit {code} in {sw.Elapsed.TotalSeconds:0.0} s: {output}");
                    // An engine that runs but cannot build (e.g. no overlay filesystem) is also "not available here": say why.
                    Builds[script] = why = code == 0 ? "" : $"`bash {script}` exited with code {code}: {output}";
                }
                if (why != "") return why;
            }
            return null;
        }
    }

    /// <summary>Nothing when <paramref name="unavailable"/> is null; else Inconclusive with the reason, or, under CI, a failure.</summary>
    public static void Assume(string? unavailable)
    {
        if (unavailable == null) return;
        if (UnderCi && Environment.GetEnvironmentVariable("CONFORMANCE_DOCKER") != "0")
            Assert.Fail($"the Docker engine or image is not available under CI (CI={Environment.GetEnvironmentVariable("CI")}), where .ci/run installs it: {unavailable}");
        Assert.Inconclusive(unavailable);
    }

    /// <summary>Stops the dockerd this run started (docker/stop-engine.sh, by its recorded pid).</summary>
    internal static void StopIfStarted()
    {
        lock (Gate)
        {
            if (!StartedEngine || Environment.GetEnvironmentVariable("CONFORMANCE_DOCKER_KEEP") == "1") return;
            var (code, output) = DriverTestSupport.Run("bash", "docker/stop-engine.sh", TimeSpan.FromSeconds(60));
            TestContext.Progress.WriteLine($"docker/stop-engine.sh: exit {code}: {output}");
            StartedEngine = false;
            _engine = null;
            Builds.Clear();
        }
    }
}

/// <summary>Stops, after the last test of the assembly, the Docker engine that <see cref="DockerTestEnvironment"/> started.</summary>
[SetUpFixture]
public sealed class DockerEngineLifetime
{
    [OneTimeTearDown]
    public void StopEngine() => DockerTestEnvironment.StopIfStarted();
}
