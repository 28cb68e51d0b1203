using System.Diagnostics;

namespace Conformance.Harness.Drivers;

/// <summary>Where and how a launched agent's files go.</summary>
public sealed class LaunchOptions
{
    /// <summary>Folder for the agent's log file (kept for the report). Default: &lt;repo&gt;/reports/logs.</summary>
    public string? LogDirectory { get; init; }
    /// <summary>Names this launch in log file names and container labels (<c>conformance.run</c>).</summary>
    public string RunId { get; init; } = NewRunId();
    /// <summary>Fixed ports instead of free ones ({port}, {backchannel_port}): for running an agent where a person expects it.</summary>
    public (int Port, int BackchannelPort)? FixedPorts { get; init; }
    /// <summary>Extra environment for the agent, on top of the definition's.</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    private static int _counter;

    public static string NewRunId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}";

    internal string LogDirectoryFor(AgentDefinition d) => LogDirectory ?? Path.Combine(d.RepoRoot, "reports", "logs");

    internal (int Port, int BackchannelPort) PickPorts()
    {
        if (FixedPorts is { } f) return f;
        var p = FreePorts.Pick(2);
        return (p[0], p[1]);
    }
}

/// <summary>
/// An agent under test run as a local process from its definition (<c>agents/&lt;name&gt;/agent.json</c>):
/// runs the install step once if its marker is missing, picks two free loopback ports, starts the command with the
/// placeholders filled in, captures stdout/stderr to a log file, and waits until the backchannel health path answers.
/// At the end (and on any failure while starting) it stops the whole process tree: SIGTERM, a grace period, SIGKILL.
/// One agent process serves the whole run; cases are separated by the backchannel (new connections), not restarts.
/// </summary>
public sealed class ProcessDriver(AgentDefinition definition, LaunchOptions? options = null) : IAgentDriver, IAgentLogSource
{
    private readonly LaunchOptions _options = options ?? new LaunchOptions();
    private Process? _process;
    private AgentLog? _log;
    private BackchannelClient? _backchannel;
    private int _disposed;

    public AgentDefinition Definition { get; } = definition;
    public string Name => Definition.Name;
    public string Runtime => "process";
    public bool IsDeterministic => Definition.Deterministic;
    public BackchannelClient Backchannel => _backchannel ?? throw new InvalidOperationException($"agent '{Name}' is not started");
    public string? LogPath => _log?.Path;
    public int? Pid { get; private set; }
    /// <summary>The DIDComm inbound port handed to the agent as {port}.</summary>
    public int Port { get; private set; }
    public int BackchannelPort { get; private set; }
    public Uri? BackchannelUrl { get; private set; }
    /// <summary>From Process.Start to the first answer of the health path.</summary>
    public TimeSpan? TimeToReady { get; private set; }
    /// <summary>Whether the last stop was graceful (every process exited after SIGTERM, within the grace period).</summary>
    public bool? StoppedGracefully { get; private set; }

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_process != null) return;
        if (Definition.Command is null)
            throw new AgentDefinitionException($"agent '{Name}' has no \"command\": it cannot run with --runtime process (try --runtime docker)");
        (Port, BackchannelPort) = _options.PickPorts();
        var vars = Definition.Variables(Port, BackchannelPort, _options.RunId);
        var cwd = Definition.ResolvePath(Definition.Cwd, vars, "cwd");
        if (!Directory.Exists(cwd)) throw new AgentDefinitionException($"agent '{Name}': cwd '{cwd}' does not exist");
        BackchannelUrl = new Uri(AgentDefinition.Expand(Definition.Backchannel, vars, "backchannel"));
        var health = new Uri(BackchannelUrl, AgentDefinition.Expand(Definition.Health, vars, "health"));

        _log = new AgentLog(AgentLog.PathFor(_options.LogDirectoryFor(Definition), Name, Runtime, _options.RunId));
        try
        {
            await InstallAsync(Definition, vars, cwd, _log, ct);

            var psi = new ProcessStartInfo(AgentDefinition.Expand(Definition.Command, vars, "command"))
            {
                WorkingDirectory = cwd,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // Kept open and never written: some agents stop when stdin reaches end of file.
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            for (var i = 0; i < Definition.Args.Count; i++) psi.ArgumentList.Add(AgentDefinition.Expand(Definition.Args[i], vars, $"args[{i}]"));
            foreach (var (k, v) in Definition.Env) psi.Environment[k] = AgentDefinition.Expand(v, vars, $"env.{k}");
            foreach (var (k, v) in _options.Env ?? new Dictionary<string, string>()) psi.Environment[k] = v;

            _log.Note($"start: {psi.FileName} {string.Join(' ', psi.ArgumentList)} (cwd {cwd}; port {Port}, backchannel {BackchannelUrl})");
            var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
            var log = _log;
            p.OutputDataReceived += (_, e) => log.Line("out", e.Data);
            p.ErrorDataReceived += (_, e) => log.Line("err", e.Data);
            var sw = Stopwatch.StartNew();
            try { p.Start(); }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new AgentStartException($"agent '{Name}': cannot run '{psi.FileName}': {e.Message}", _log.Path);
            }
            _process = p;
            Pid = p.Id;
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();

            var ok = await HealthProbe.WaitAsync(health, Definition.StartupTimeout, _ => Task.FromResult(p.HasExited), ct);
            if (!ok)
            {
                if (p.HasExited)
                {
                    p.WaitForExit(); // drains the output readers
                    throw new AgentStartException(
                        $"agent '{Name}' exited with code {p.ExitCode} before {health} answered: {_log.Tail()}", _log.Path);
                }
                throw new AgentStartException(
                    $"agent '{Name}' did not answer {health} within {Definition.StartupTimeout.TotalSeconds:0.#} s: {_log.Tail()}", _log.Path);
            }
            TimeToReady = sw.Elapsed;
            if (BackchannelUrl.IsLoopback && BackchannelUrl.Port == BackchannelPort &&
                PortOwnership.IsListeningIn(BackchannelPort, [p.Id, .. ProcessTree.Descendants(p.Id)]) == false)
                throw new AgentStartException(
                    $"agent '{Name}': {health} answered, but another process holds port {BackchannelPort} (it was taken between picking it and the agent binding it); try again", _log.Path);
            _log.Note($"ready: {health} answered after {TimeToReady.Value.TotalMilliseconds:0} ms (pid {Pid})");
            _backchannel = new BackchannelClient(BackchannelUrl);
        }
        catch
        {
            await StopAsync();
            throw;
        }
    }

    /// <summary>Runs the definition's install step when its marker is missing (the first run on a machine).</summary>
    internal static async Task InstallAsync(AgentDefinition d, IReadOnlyDictionary<string, string> vars, string cwd, AgentLog log, CancellationToken ct)
    {
        if (d.Install is not { } install) return;
        var marker = Path.GetFullPath(Path.Combine(cwd, AgentDefinition.Expand(install.Marker, vars, "install.marker")));
        if (File.Exists(marker) || Directory.Exists(marker)) return;
        var command = AgentDefinition.Expand(install.Command, vars, "install.command");
        log.Note($"install: {command} (cwd {cwd}; marker {marker} is missing)");
        var (code, tail) = await ShellAsync(command, cwd, log, install.Timeout, ct);
        if (code != 0)
            throw new AgentStartException($"agent '{d.Name}': install step '{command}' failed with exit code {code}: {tail}", log.Path);
        if (install.WriteMarker) await File.WriteAllTextAsync(marker, $"installed by conformance: {command}\n", ct);
        else if (!File.Exists(marker) && !Directory.Exists(marker))
            throw new AgentStartException($"agent '{d.Name}': install step '{command}' succeeded but did not create its marker {marker}", log.Path);
    }

    /// <summary>Runs <c>/bin/sh -c command</c>, its output into the log; returns the exit code (-1 on timeout) and the last lines.</summary>
    internal static async Task<(int Code, string Tail)> ShellAsync(string command, string cwd, AgentLog log, TimeSpan timeout, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = new Process { StartInfo = psi };
        var tail = new Queue<string>();
        void Take(string stream, string? line)
        {
            if (line is null) return;
            log.Line(stream, line);
            lock (tail)
            {
                if (tail.Count == 5) tail.Dequeue();
                if (line.Trim().Length > 0) tail.Enqueue(line);
            }
        }
        p.OutputDataReceived += (_, e) => Take("out", e.Data);
        p.ErrorDataReceived += (_, e) => Take("err", e.Data);
        p.Start();
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try { await p.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            await ProcessTree.StopAsync(p, TimeSpan.FromSeconds(2));
            ct.ThrowIfCancellationRequested();
            return (-1, $"timed out after {timeout.TotalSeconds:0} s");
        }
        p.WaitForExit();
        lock (tail) return (p.ExitCode, tail.Count == 0 ? "(no output)" : string.Join(" / ", tail));
    }

    public Task BeginCaseAsync(string caseId, CancellationToken ct = default) => Task.CompletedTask;
    public Task EndCaseAsync(CancellationToken ct = default) => Task.CompletedTask;

    private async Task StopAsync()
    {
        _backchannel?.Dispose();
        _backchannel = null;
        if (_process is { } p)
        {
            StoppedGracefully = await ProcessTree.StopAsync(p, Definition.ShutdownGrace);
            try
            {
                p.WaitForExit(2000); // lets the output readers finish the last lines
                _log?.Note($"stopped: exit code {(p.HasExited ? p.ExitCode.ToString() : "?")}, {(StoppedGracefully == true ? "graceful (SIGTERM)" : "killed (SIGKILL)")}");
            }
            catch (InvalidOperationException) { }
            p.Dispose();
            _process = null;
        }
        _log?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await StopAsync();
    }
}
