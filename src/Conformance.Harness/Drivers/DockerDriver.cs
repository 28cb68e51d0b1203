using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Conformance.Harness.Drivers;

/// <summary>
/// An agent under test run as a Docker container from the "docker" section of its definition, through the Engine
/// API (<see cref="DockerEngine"/>). Start: make sure the engine answers (running docker/ensure-engine.sh when it
/// does not), sweep containers left by dead harness processes, build the image when it is missing (docker.build, or
/// <c>docker build</c>), pick two free loopback ports, create and start the container with host networking (so the
/// agent's 127.0.0.1 listeners are the host's, and nothing is published beyond loopback), wait for the backchannel.
/// Every container is labelled <c>conformance.owner=conformance</c>, <c>conformance.run=&lt;run id&gt;</c>,
/// <c>conformance.agent</c>, and the creating process (<c>conformance.host</c>, <c>conformance.pid</c>) so a later run
/// can tell a stale one from a live one. The container's logs go to the log file; it is removed at the end and on
/// any failure while starting.
/// </summary>
public sealed class DockerDriver(AgentDefinition definition, LaunchOptions? options = null, DockerEngine? engine = null) : IAgentDriver, IAgentLogSource
{
    public const string OwnerLabel = "conformance.owner";
    public const string Owner = "conformance";
    public const string RunLabel = "conformance.run";
    public const string AgentLabel = "conformance.agent";
    public const string HostLabel = "conformance.host";
    public const string PidLabel = "conformance.pid";

    private readonly LaunchOptions _options = options ?? new LaunchOptions();
    private readonly DockerEngine _engine = engine ?? new DockerEngine(DockerEngine.SocketFromEnvironment());
    private readonly bool _ownsEngine = engine is null;
    private AgentLog? _log;
    private BackchannelClient? _backchannel;
    private int _disposed;

    public AgentDefinition Definition { get; } = definition;
    public string Name => Definition.Name;
    public string Runtime => "docker";
    public bool IsDeterministic => Definition.Deterministic;
    public BackchannelClient Backchannel => _backchannel ?? throw new InvalidOperationException($"agent '{Name}' is not started");
    public string? LogPath => _log?.Path;
    public string RunId => _options.RunId;
    public string? ContainerId { get; private set; }
    public string? ContainerName { get; private set; }
    public int Port { get; private set; }
    public int BackchannelPort { get; private set; }
    public Uri? BackchannelUrl { get; private set; }
    /// <summary>From the container start call to the first answer of the health path.</summary>
    public TimeSpan? TimeToReady { get; private set; }
    /// <summary>Time spent building the image in this start (null when it was already there).</summary>
    public TimeSpan? BuildTime { get; private set; }
    /// <summary>Containers removed by the stale sweep at start.</summary>
    public IReadOnlyList<string> Swept { get; private set; } = [];

    /// <summary>Test hook: throws after the container is started and before health is awaited (a simulated failure).</summary>
    public Func<string, Task>? AfterContainerStart { get; set; }

    private AgentDefinition.DockerSection Docker =>
        Definition.Docker ?? throw new AgentDefinitionException($"agent '{Name}' has no \"docker\" section: it cannot run with --runtime docker");

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (ContainerId != null) return;
        var docker = Docker;
        _log = new AgentLog(AgentLog.PathFor(_options.LogDirectoryFor(Definition), Name, Runtime, _options.RunId));
        try
        {
            await EnsureEngineAsync(ct);
            Swept = await SweepStaleAsync(_engine, _log, ct);

            (Port, BackchannelPort) = _options.PickPorts();
            var vars = Definition.Variables(Port, BackchannelPort, _options.RunId);
            var image = AgentDefinition.Expand(docker.Image, vars, "docker.image");
            await EnsureImageAsync(image, docker, vars, ct);

            BackchannelUrl = new Uri(AgentDefinition.Expand(Definition.Backchannel, vars, "backchannel"));
            var health = new Uri(BackchannelUrl, AgentDefinition.Expand(Definition.Health, vars, "health"));
            var args = (docker.Args ?? Definition.Args).Select((a, i) => AgentDefinition.Expand(a, vars, $"docker.args[{i}]")).ToList();
            var env = new List<string>();
            foreach (var (k, v) in docker.Env) env.Add($"{k}={AgentDefinition.Expand(v, vars, $"docker.env.{k}")}");
            foreach (var (k, v) in _options.Env ?? new Dictionary<string, string>()) env.Add($"{k}={v}");

            var spec = new JsonObject
            {
                ["Image"] = image,
                ["Cmd"] = new JsonArray(args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                ["Env"] = new JsonArray(env.Select(e => (JsonNode?)JsonValue.Create(e)).ToArray()),
                ["Labels"] = new JsonObject
                {
                    [OwnerLabel] = Owner,
                    [RunLabel] = _options.RunId,
                    [AgentLabel] = Name,
                    [HostLabel] = Environment.MachineName,
                    [PidLabel] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                },
                ["AttachStdout"] = true,
                ["AttachStderr"] = true,
                ["Tty"] = false,
                ["HostConfig"] = new JsonObject
                {
                    // Host networking: the agent's loopback listeners are the host's loopback; nothing is published.
                    ["NetworkMode"] = "host",
                    ["AutoRemove"] = false,
                },
            };
            ContainerName = $"conformance-{Name}-{_options.RunId}";
            _log.Note($"create: {image} {string.Join(' ', args)} (container {ContainerName}; port {Port}, backchannel {BackchannelUrl})");
            ContainerId = await _engine.CreateContainerAsync(spec, ContainerName, ct);
            var sw = Stopwatch.StartNew();
            await _engine.StartContainerAsync(ContainerId, ct);
            var log = _log;
            _follow = Task.Run(() => _engine.FollowLogsAsync(ContainerId, log.Line, _followStop.Token));
            if (AfterContainerStart != null) await AfterContainerStart(ContainerId);

            string? exitState = null;
            var lastInspect = Stopwatch.StartNew();
            async Task<bool> Gone(CancellationToken token)
            {
                if (lastInspect.ElapsedMilliseconds < 250) return false;
                lastInspect.Restart();
                var state = (await _engine.InspectContainerAsync(ContainerId!, token))?["State"] as JsonObject;
                if (state is null) { exitState = "the container disappeared"; return true; }
                if (state["Running"]?.GetValue<bool>() == true) return false;
                exitState = $"the container exited with code {state["ExitCode"]}";
                return true;
            }
            var ok = await HealthProbe.WaitAsync(health, Definition.StartupTimeout, Gone, ct);
            if (!ok)
            {
                await LogsDoneAsync(TimeSpan.FromSeconds(2));
                throw new AgentStartException(exitState is null
                    ? $"agent '{Name}' (docker) did not answer {health} within {Definition.StartupTimeout.TotalSeconds:0.#} s: {_log.Tail()}"
                    : $"agent '{Name}' (docker): {exitState} before {health} answered: {_log.Tail()}", _log.Path);
            }
            TimeToReady = sw.Elapsed;
            if (BackchannelUrl.IsLoopback && BackchannelUrl.Port == BackchannelPort &&
                (await _engine.InspectContainerAsync(ContainerId, ct))?["State"]?["Pid"]?.GetValue<int>() is > 0 and var containerPid &&
                PortOwnership.IsListeningIn(BackchannelPort, [containerPid, .. ProcessTree.Descendants(containerPid)]) == false)
                throw new AgentStartException(
                    $"agent '{Name}' (docker): {health} answered, but a process outside the container holds port {BackchannelPort}; try again", _log.Path);
            _log.Note($"ready: {health} answered {TimeToReady.Value.TotalMilliseconds:0} ms after the container started ({ContainerId[..12]})");
            _backchannel = new BackchannelClient(BackchannelUrl);
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    /// <summary>Pings the engine; when it does not answer, runs &lt;repo&gt;/docker/ensure-engine.sh (installs and starts it).</summary>
    private async Task EnsureEngineAsync(CancellationToken ct)
    {
        if (await _engine.PingAsync(ct)) return;
        var script = Path.Combine(Definition.RepoRoot, "docker", "ensure-engine.sh");
        if (!File.Exists(script))
            throw new AgentStartException($"no Docker engine answers on {_engine.SocketPath} (and {script} is missing to start one)", _log?.Path);
        _log!.Note($"engine: not answering on {_engine.SocketPath}; running {script}");
        var (code, tail) = await ProcessDriver.ShellAsync($"bash '{script}'", Definition.RepoRoot, _log, TimeSpan.FromMinutes(10), ct);
        if (code != 0 || !await _engine.PingAsync(ct))
            throw new AgentStartException($"no Docker engine: {script} exited with code {code}: {tail}", _log.Path);
    }

    private async Task EnsureImageAsync(string image, AgentDefinition.DockerSection docker, IReadOnlyDictionary<string, string> vars, CancellationToken ct)
    {
        // A build script is run every time: it knows whether the image is up to date with the sources (docker/build.sh
        // and docker/build-credo.sh compare a source hash label and return at once when nothing changed), so a changed
        // agent never runs from a stale image. Without one, an existing image is taken as it is.
        var before = (await _engine.InspectImageAsync(image, ct))?["Id"]?.ToString();
        var present = before != null;
        if (present && docker.Build is null) return;
        string command;
        if (docker.Build is { } build)
            command = AgentDefinition.Expand(build, vars, "docker.build");
        else if (docker.Dockerfile is { } df)
            command = $"docker build -f '{Definition.ResolvePath(df, vars, "docker.dockerfile")}' -t '{image}' " +
                      $"'{Definition.ResolvePath(docker.BuildContext ?? ".", vars, "docker.build_context")}'";
        else
            throw new AgentStartException($"image {image} is missing and agent '{Name}' says neither docker.build nor docker.dockerfile", _log?.Path);
        _log!.Note(present ? $"image {image} present; checking it is up to date: {command}" : $"image {image} is missing; building: {command}");
        var sw = Stopwatch.StartNew();
        var (code, tail) = await ProcessDriver.ShellAsync(command, Definition.Directory, _log, docker.BuildTimeout, ct);
        if (code != 0) throw new AgentStartException($"building image {image} failed (exit code {code}): {tail}", _log.Path);
        var after = (await _engine.InspectImageAsync(image, ct))?["Id"]?.ToString()
            ?? throw new AgentStartException($"'{command}' succeeded but image {image} is still missing", _log.Path);
        if (after == before) return; // up to date: nothing was built
        BuildTime = sw.Elapsed;
        _log.Note($"built {image} in {BuildTime.Value.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// Removes containers labelled <c>conformance.owner=conformance</c> whose creating harness process is gone (same
    /// host, pid no longer alive) or that carry no creator labels. Containers of live runs are left alone.
    /// Returns the ids removed.
    /// </summary>
    public static async Task<IReadOnlyList<string>> SweepStaleAsync(DockerEngine engine, AgentLog? log = null, CancellationToken ct = default)
    {
        var removed = new List<string>();
        foreach (var c in await engine.ListContainersAsync([$"{OwnerLabel}={Owner}"], ct))
        {
            var id = c["Id"]?.GetValue<string>();
            if (id is null) continue;
            var labels = c["Labels"] as JsonObject;
            var host = labels?[HostLabel]?.GetValue<string>();
            var pidText = labels?[PidLabel]?.GetValue<string>();
            var live = host == Environment.MachineName && int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                       && ProcessTree.IsAlive(pid);
            var otherHost = host != null && host != Environment.MachineName;
            if (live || otherHost) continue;
            if (await engine.RemoveContainerAsync(id, ct))
            {
                removed.Add(id);
                log?.Note($"swept stale container {id[..Math.Min(12, id.Length)]} (run {labels?[RunLabel]}, pid {pidText ?? "?"} gone)");
            }
        }
        return removed;
    }

    /// <summary>Removes every container of one run (by its <c>conformance.run</c> label). Returns the ids removed.</summary>
    public static async Task<IReadOnlyList<string>> RemoveRunAsync(DockerEngine engine, string runId, CancellationToken ct = default)
    {
        var removed = new List<string>();
        foreach (var c in await engine.ListContainersAsync([$"{OwnerLabel}={Owner}", $"{RunLabel}={runId}"], ct))
            if (c["Id"]?.GetValue<string>() is { } id && await engine.RemoveContainerAsync(id, ct))
                removed.Add(id);
        return removed;
    }

    private Task? _follow;
    private readonly CancellationTokenSource _followStop = new();

    /// <summary>Waits (a little) for the log stream to end: it ends when the container stops.</summary>
    private async Task LogsDoneAsync(TimeSpan wait)
    {
        if (_follow is null) return;
        try { await _follow.WaitAsync(wait); }
        catch (TimeoutException) { }
        catch (Exception e) when (e is DockerException or OperationCanceledException) { _log?.Note("logs: " + e.Message); }
    }

    public Task BeginCaseAsync(string caseId, CancellationToken ct = default) => Task.CompletedTask;
    public Task EndCaseAsync(CancellationToken ct = default) => Task.CompletedTask;

    private async Task StopAsync()
    {
        _backchannel?.Dispose();
        _backchannel = null;
        if (ContainerId is { } id)
        {
            try
            {
                await _engine.StopContainerAsync(id, (int)Math.Ceiling(Definition.ShutdownGrace.TotalSeconds));
                await LogsDoneAsync(TimeSpan.FromSeconds(2));
                var state = (await _engine.InspectContainerAsync(id))?["State"] as JsonObject;
                _log?.Note($"stopped: exit code {state?["ExitCode"]?.ToString() ?? "?"}");
            }
            catch (DockerException e) { _log?.Note("stop: " + e.Message); }
            finally
            {
                // Removal is what matters: by id, then by run label as a second net (e.g. a create that timed out).
                try { await _engine.RemoveContainerAsync(id); } catch (DockerException e) { _log?.Note("remove: " + e.Message); }
                ContainerId = null;
            }
        }
        try { await RemoveRunAsync(_engine, _options.RunId); }
        catch (DockerException e) { _log?.Note("remove run: " + e.Message); }
        _followStop.Cancel();
        await LogsDoneAsync(TimeSpan.FromSeconds(1));
        _log?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await StopAsync();
        _followStop.Dispose();
        if (_ownsEngine) _engine.Dispose();
    }
}
