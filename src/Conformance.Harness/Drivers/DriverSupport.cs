using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Conformance.Harness.Drivers;

/// <summary>Free TCP ports on 127.0.0.1, picked by binding port 0 (distinct within one call).</summary>
public static class FreePorts
{
    public static int[] Pick(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var l in listeners) l.Stop();
        }
    }

    /// <summary>True when nothing listens on 127.0.0.1:<paramref name="port"/> (it can be bound now).</summary>
    public static bool IsFree(int port)
    {
        try
        {
            var l = new TcpListener(IPAddress.Loopback, port);
            l.Start();
            l.Stop();
            return true;
        }
        catch (SocketException) { return false; }
    }
}

/// <summary>
/// A process and everything it started, on Linux (<c>/proc</c>). Agents are often wrappers (npm → node, a shell
/// script → java) that do not pass signals on, so stopping one means signalling the whole tree: SIGTERM to every
/// member, a grace period, then SIGKILL to whatever is left (including children that appeared meanwhile).
/// </summary>
public static class ProcessTree
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int sig);

    /// <summary>Sends <paramref name="signal"/>; false when the process is gone (or not ours).</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && SysKill(pid, signal) == 0;

    /// <summary>True when the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>All descendants of <paramref name="pid"/> (children first, then theirs), from /proc/*/stat.</summary>
    public static List<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in SafeEnumerate("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                // After "pid (comm) ": state, ppid, …
                var fields = stat[(close + 2)..].Split(' ', 3);
                if (fields.Length >= 2 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid))
                {
                    if (!children.TryGetValue(ppid, out var list)) children[ppid] = list = [];
                    list.Add(p);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException) { }
        }
        var result = new List<int>();
        var queue = new Queue<int>([pid]);
        while (queue.Count > 0)
            if (children.TryGetValue(queue.Dequeue(), out var kids))
                foreach (var k in kids)
                    if (!result.Contains(k))
                    {
                        result.Add(k);
                        queue.Enqueue(k);
                    }
        return result;
    }

    private static IEnumerable<string> SafeEnumerate(string path)
    {
        try { return Directory.GetDirectories(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }

    /// <summary>
    /// Stops <paramref name="root"/> and its whole tree: SIGTERM to all, wait up to <paramref name="grace"/> for all to
    /// exit, then SIGKILL the rest (the tree is looked at again, to catch late children). Returns true when every
    /// member had exited by the end of the grace period (a graceful stop).
    /// </summary>
    public static async Task<bool> StopAsync(Process root, TimeSpan grace)
    {
        int rootPid;
        try
        {
            if (root.HasExited) return true;
            rootPid = root.Id;
        }
        catch (InvalidOperationException) { return true; }

        var members = new HashSet<int>(Descendants(rootPid)) { rootPid };
        foreach (var p in members) Signal(p, SIGTERM);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < grace)
        {
            if (!members.Any(IsAlive) && HasExited(root)) return true;
            await Task.Delay(25);
        }
        foreach (var p in Descendants(rootPid)) members.Add(p);
        foreach (var p in members) Signal(p, SIGKILL);
        try { root.Kill(entireProcessTree: true); } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        var waitKill = Stopwatch.StartNew();
        while ((members.Any(IsAlive) || !HasExited(root)) && waitKill.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(25);
        return false;
    }

    private static bool HasExited(Process p)
    {
        try { return p.HasExited; }
        catch (InvalidOperationException) { return true; }
    }
}

/// <summary>
/// Which process listens on a loopback TCP port (Linux: /proc/net/tcp{,6} and /proc/&lt;pid&gt;/fd). A health answer on
/// the port we gave an agent only means "ready" if the agent itself listens there: between picking a free port and
/// the agent binding it, another process may take it, the agent then fails to bind, and the answer comes from the
/// stranger. Used by the process and docker drivers after the first health answer.
/// </summary>
public static class PortOwnership
{
    /// <summary>True when one of <paramref name="pids"/> holds the listening socket on <paramref name="port"/>, false
    /// when another process does, null when it cannot be told (no /proc, no permission, another network namespace).</summary>
    public static bool? IsListeningIn(int port, IEnumerable<int> pids)
    {
        var inodes = ListeningInodes(port);
        if (inodes is null || inodes.Count == 0) return null;
        var sawFds = false;
        foreach (var pid in pids)
        {
            string[] fds;
            try { fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            sawFds = true;
            foreach (var fd in fds)
            {
                string? target;
                try { target = new FileInfo(fd).LinkTarget; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) &&
                    inodes.Contains(target["socket:[".Length..^1]))
                    return true;
            }
        }
        return sawFds ? false : null;
    }

    /// <summary>Inodes of the sockets in LISTEN state (0A) on <paramref name="port"/>; null when /proc/net is unreadable.</summary>
    private static HashSet<string>? ListeningInodes(int port)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var any = false;
        var hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            string[] lines;
            try { lines = File.ReadAllLines(table); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            any = true;
            foreach (var line in lines.Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || f[3] != "0A") continue;
                var local = f[1];
                if (local.EndsWith(":" + hexPort, StringComparison.OrdinalIgnoreCase)) result.Add(f[9]);
            }
        }
        return any ? result : null;
    }
}

/// <summary>
/// An agent's own output (stdout/stderr of a process, logs of a container), kept in a file for the report, with
/// the last lines in memory for error messages. Thread-safe.
/// </summary>
public sealed class AgentLog : IDisposable
{
    private readonly StreamWriter _file;
    private readonly Queue<string> _tail = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _closed;

    public AgentLog(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _file = new StreamWriter(new FileStream(Path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>A log file path: <c>&lt;dir&gt;/&lt;name&gt;-&lt;runtime&gt;-&lt;runId&gt;.log</c>.</summary>
    public static string PathFor(string directory, string name, string runtime, string runId) =>
        System.IO.Path.Combine(directory, $"{name}-{runtime}-{runId}.log");

    /// <summary>Writes one line: <c>+1.234s out| text</c> (stream is "out", "err", or "---" for the harness's own notes).</summary>
    public void Line(string stream, string? text)
    {
        if (text is null) return;
        lock (_gate)
        {
            if (_tail.Count == 40) _tail.Dequeue();
            _tail.Enqueue(text);
            if (_closed) return;
            _file.WriteLine($"+{_clock.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture)}s {stream}| {text}");
        }
    }

    public void Note(string text) => Line("---", text);

    /// <summary>The last <paramref name="lines"/> lines the agent wrote, joined with " / " (for one-line errors).</summary>
    public string Tail(int lines = 5)
    {
        lock (_gate)
        {
            var t = _tail.Where(l => l.Trim().Length > 0).TakeLast(lines).Select(l => l.Length > 300 ? l[..300] + "…" : l).ToList();
            return t.Count == 0 ? "(no output)" : string.Join(" / ", t);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _file.Dispose();
        }
    }
}

/// <summary>Waits for an agent's backchannel to answer its health path with a 2xx.</summary>
public static class HealthProbe
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(1) })
    {
        Timeout = TimeSpan.FromSeconds(2),
    };

    public static async Task<bool> AnswersAsync(Uri url, CancellationToken ct)
    {
        try
        {
            using var r = await Http.GetAsync(url, ct);
            return r.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested) { return false; }
    }

    /// <summary>
    /// Polls <paramref name="url"/> until it answers 2xx (true), <paramref name="gone"/> says the agent is gone
    /// (false), or <paramref name="timeout"/> passes (false).
    /// </summary>
    public static async Task<bool> WaitAsync(Uri url, TimeSpan timeout, Func<CancellationToken, Task<bool>> gone, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var delay = 10;
        while (sw.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (await AnswersAsync(url, ct)) return true;
            if (await gone(ct)) return false;
            await Task.Delay(delay, ct);
            delay = Math.Min(delay * 2, 100);
        }
        return false;
    }
}
