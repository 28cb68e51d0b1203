using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Conformance.Harness.Drivers;

/// <summary>
/// The few Docker Engine API calls the harness needs, over the engine's Unix socket (no Docker SDK, no
/// Testcontainers): ping, image inspect, container create/start/inspect/logs/stop/remove, and list by label.
/// API v1.41 (Docker 20.10, the engine Debian bookworm ships); see shared/notes/docker.md.
/// Failures are <see cref="DockerException"/>: one line with the call, the HTTP status and the engine's message.
/// </summary>
public sealed class DockerEngine : IDisposable
{
    public const string DefaultSocket = "/var/run/docker.sock";
    private readonly HttpClient _http;
    private readonly HttpClient _follow;

    public DockerEngine(string socketPath = DefaultSocket, string apiVersion = "v1.41")
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch
                {
                    s.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri($"http://docker/{apiVersion}/"), Timeout = TimeSpan.FromSeconds(60) };
        _follow = new HttpClient(handler, disposeHandler: true) { BaseAddress = _http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public string SocketPath { get; }

    /// <summary>The socket of $DOCKER_HOST when it is unix://…, else /var/run/docker.sock.</summary>
    public static string SocketFromEnvironment() =>
        Environment.GetEnvironmentVariable("DOCKER_HOST") is { } h && h.StartsWith("unix://", StringComparison.Ordinal) ? h["unix://".Length..] : DefaultSocket;

    /// <summary>True when the engine answers <c>GET /_ping</c>.</summary>
    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            using var r = await _http.GetAsync("_ping", cts.Token);
            return r.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or OperationCanceledException && !ct.IsCancellationRequested) { return false; }
    }

    /// <summary><c>GET /images/{name}/json</c>; null when the image is not there.</summary>
    public async Task<JsonObject?> InspectImageAsync(string image, CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Get, $"images/{Uri.EscapeDataString(image)}/json", null, ct, allow404: true) as JsonObject;

    /// <summary><c>POST /containers/create</c>: returns the new container's id.</summary>
    public async Task<string> CreateContainerAsync(JsonObject spec, string? name = null, CancellationToken ct = default)
    {
        var path = "containers/create" + (name is null ? "" : "?name=" + Uri.EscapeDataString(name));
        var r = await SendAsync(HttpMethod.Post, path, spec, ct) as JsonObject;
        return r?["Id"]?.GetValue<string>() ?? throw new DockerException(path, 201, "the engine returned no container id");
    }

    /// <summary><c>POST /containers/{id}/start</c>.</summary>
    public Task StartContainerAsync(string id, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"containers/{Uri.EscapeDataString(id)}/start", null, ct);

    /// <summary><c>GET /containers/{id}/json</c>; null when there is no such container.</summary>
    public async Task<JsonObject?> InspectContainerAsync(string id, CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Get, $"containers/{Uri.EscapeDataString(id)}/json", null, ct, allow404: true) as JsonObject;

    /// <summary><c>POST /containers/{id}/stop?t=N</c>: SIGTERM, then SIGKILL after <paramref name="graceSeconds"/>.</summary>
    public Task StopContainerAsync(string id, int graceSeconds, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, $"containers/{Uri.EscapeDataString(id)}/stop?t={graceSeconds}", null, ct, allow404: true, allow304: true);

    /// <summary><c>DELETE /containers/{id}?force=true&amp;v=true</c>; false when it was already gone.</summary>
    public async Task<bool> RemoveContainerAsync(string id, CancellationToken ct = default)
    {
        var r = await SendAsync(HttpMethod.Delete, $"containers/{Uri.EscapeDataString(id)}?force=true&v=true", null, ct, allow404: true);
        return r is not null;
    }

    /// <summary>
    /// <c>GET /containers/{id}/logs</c> (stdout and stderr, no TTY): the lines so far, each with its stream
    /// ("out"/"err"). See <see cref="LogDemuxer"/> for the stream format.
    /// </summary>
    public async Task<List<(string Stream, string Line)>> LogsAsync(string id, CancellationToken ct = default)
    {
        var path = $"containers/{Uri.EscapeDataString(id)}/logs?stdout=true&stderr=true";
        using var r = await RawAsync(HttpMethod.Get, path, null, ct);
        if (r.StatusCode == HttpStatusCode.NotFound) return [];
        await EnsureOk(r, path, ct);
        return Demultiplex(await r.Content.ReadAsByteArrayAsync(ct));
    }

    /// <summary>
    /// <c>GET /containers/{id}/logs?follow=true</c>: calls <paramref name="line"/> for each line as the container
    /// writes it, until the container stops (the engine then ends the stream) or <paramref name="ct"/> is cancelled.
    /// </summary>
    public async Task FollowLogsAsync(string id, Action<string, string> line, CancellationToken ct = default)
    {
        var path = $"containers/{Uri.EscapeDataString(id)}/logs?stdout=true&stderr=true&follow=true";
        using var req = new HttpRequestMessage(HttpMethod.Get, path);
        HttpResponseMessage r;
        try { r = await _follow.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, ct); }
        catch (HttpRequestException e) { throw new DockerException(path, 0, $"the Docker engine does not answer on {SocketPath}: {e.Message}"); }
        using (r)
        {
            if (r.StatusCode == HttpStatusCode.NotFound) return;
            await EnsureOk(r, path, ct);
            var demux = new LogDemuxer(line);
            await using var stream = await r.Content.ReadAsStreamAsync(ct);
            var buffer = new byte[8192];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, ct)) > 0) demux.Feed(buffer.AsSpan(0, n));
            }
            catch (Exception e) when (e is IOException or HttpRequestException) { /* the container went away mid-stream */ }
            finally { demux.Finish(); }
        }
    }

    /// <summary>Splits a whole engine log stream into lines (see <see cref="LogDemuxer"/>).</summary>
    public static List<(string Stream, string Line)> Demultiplex(ReadOnlySpan<byte> bytes)
    {
        var lines = new List<(string, string)>();
        var demux = new LogDemuxer((s, l) => lines.Add((s, l)));
        demux.Feed(bytes);
        demux.Finish();
        return lines;
    }

    /// <summary><c>GET /containers/json?all=true&amp;filters={"label":[…]}</c>: containers carrying every given label (k=v or k).</summary>
    public async Task<List<JsonObject>> ListContainersAsync(IEnumerable<string> labelFilters, CancellationToken ct = default)
    {
        var filters = new JsonObject { ["label"] = new JsonArray(labelFilters.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()) };
        var r = await SendAsync(HttpMethod.Get, "containers/json?all=true&filters=" + Uri.EscapeDataString(filters.ToJsonString()), null, ct);
        return (r as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
    }

    // ------------------------------------------------------------------ plumbing

    private async Task<HttpResponseMessage> RawAsync(HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body != null) req.Content = JsonContent.Create(body);
        try { return await _http.SendAsync(req, ct); }
        catch (HttpRequestException e)
        {
            throw new DockerException(path, 0, $"the Docker engine does not answer on {SocketPath}: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new DockerException(path, 0, $"the Docker engine on {SocketPath} timed out");
        }
    }

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken ct,
        bool allow404 = false, bool allow304 = false)
    {
        using var r = await RawAsync(method, path, body, ct);
        if (allow404 && r.StatusCode == HttpStatusCode.NotFound) return null;
        if (allow304 && r.StatusCode == HttpStatusCode.NotModified) return new JsonObject();
        await EnsureOk(r, path, ct);
        var text = await r.Content.ReadAsStringAsync(ct);
        if (string.IsNullOrWhiteSpace(text)) return new JsonObject();
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return new JsonObject { ["text"] = text }; }
    }

    private static async Task EnsureOk(HttpResponseMessage r, string path, CancellationToken ct)
    {
        if (r.IsSuccessStatusCode) return;
        var text = await r.Content.ReadAsStringAsync(ct);
        string message;
        try { message = JsonNode.Parse(text)?["message"]?.GetValue<string>() ?? text; }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { message = text; }
        throw new DockerException(path, (int)r.StatusCode, message.Trim());
    }

    public void Dispose()
    {
        _http.Dispose();
        _follow.Dispose();
    }
}

/// <summary>
/// The engine's log stream, demultiplexed incrementally (Docker Engine API v1.41, "Stream format"): without a TTY,
/// stdout and stderr arrive in frames of an 8-byte header {STREAM_TYPE, 0, 0, 0, SIZE (big-endian uint32)} and the
/// payload; STREAM_TYPE 1 = stdout, 2 = stderr (0 = stdin). A stream that does not start with such a header is raw
/// (TTY) output: all stdout. Frames may split lines and the network may split frames; lines come out whole.
/// </summary>
public sealed class LogDemuxer(Action<string, string> line)
{
    private readonly byte[] _header = new byte[8];
    private int _headerFill;
    private int _remaining;
    private string _stream = "out";
    private bool? _multiplexed;
    private readonly Dictionary<string, List<byte>> _pending = new() { ["out"] = [], ["err"] = [] };

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        _multiplexed ??= data[0] is 0 or 1 or 2;
        if (_multiplexed == false)
        {
            Append("out", data);
            return;
        }
        while (!data.IsEmpty)
        {
            if (_remaining == 0)
            {
                var take = Math.Min(8 - _headerFill, data.Length);
                data[..take].CopyTo(_header.AsSpan(_headerFill));
                _headerFill += take;
                data = data[take..];
                if (_headerFill < 8) return;
                _headerFill = 0;
                _stream = _header[0] == 2 ? "err" : "out";
                _remaining = (int)Math.Min(int.MaxValue, ((uint)_header[4] << 24) | ((uint)_header[5] << 16) | ((uint)_header[6] << 8) | _header[7]);
                continue;
            }
            var n = Math.Min(_remaining, data.Length);
            Append(_stream, data[..n]);
            _remaining -= n;
            data = data[n..];
        }
    }

    /// <summary>Emits what is left (a last line without a newline; a truncated frame's bytes).</summary>
    public void Finish()
    {
        foreach (var stream in new[] { "out", "err" })
        {
            var rest = _pending[stream];
            if (rest.Count > 0) line(stream, Decode(rest.ToArray()));
            rest.Clear();
        }
    }

    private void Append(string stream, ReadOnlySpan<byte> data)
    {
        var pending = _pending[stream];
        foreach (var b in data)
        {
            if (b == (byte)'\n')
            {
                line(stream, Decode(pending.ToArray()));
                pending.Clear();
            }
            else pending.Add(b);
        }
    }

    private static string Decode(byte[] bytes) => Encoding.UTF8.GetString(bytes).TrimEnd('\r');
}

/// <summary>A Docker Engine API call failed: the call, the HTTP status (0 = no answer) and the engine's message.</summary>
public sealed class DockerException(string call, int status, string detail)
    : Exception($"docker {call.Split('?')[0]}: {(status == 0 ? "" : "HTTP " + status + ": ")}{detail.ReplaceLineEndings(" ")}")
{
    public int Status { get; } = status;
}
