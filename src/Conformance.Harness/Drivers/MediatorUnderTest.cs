using System.Text.Json.Nodes;
using Conformance.Harness.Faults;
using Conformance.Mediator;
using Conformance.Wire.Crypto;

namespace Conformance.Harness.Drivers;

/// <summary>
/// How the harness reaches a DIDComm v2 mediator under test: only by its DID (whose DIDCommMessaging services give its
/// HTTP and WebSocket endpoints), as any client would. The mediator suites (MEDIATE2, PICKUP3, ROUTING2, PING2,
/// PROBLEM2, MEDIATOR) talk to it with <see cref="V2Client"/>s; nothing else about it is assumed.
/// </summary>
public interface IMediatorUnderTest : IAsyncDisposable
{
    /// <summary>Short name used in reports and fixture paths ("reference-mediator", "url-127.0.0.1-8080").</summary>
    string Name { get; }

    /// <summary>"in-process" or "url".</summary>
    string Runtime { get; }

    /// <summary>The mediator's DID for the current case.</summary>
    string Did { get; }

    /// <summary>True when the mediator produces the same messages for the same case on every run (the seeded embedded one).</summary>
    bool IsDeterministic { get; }

    Task StartAsync(CancellationToken ct = default);

    /// <summary>Called before each case; the embedded mediator starts a fresh, seeded instance here.</summary>
    Task BeginCaseAsync(string caseId, CancellationToken ct = default);

    Task EndCaseAsync(CancellationToken ct = default);
}

/// <summary>
/// Our own mediator (src/Conformance.Mediator), in-process on a free loopback port, with its SQLite queue in a
/// temporary folder. Each case gets a fresh instance whose keys and ids are seeded from the case id, so its messages
/// are the same every run and no case sees another's mail. <paramref name="faults"/> turns it into the fault-injected
/// test double (<see cref="FaultyMediatorStore"/>).
/// </summary>
public sealed class EmbeddedMediator(string name = "reference-mediator", MediatorFaults faults = MediatorFaults.None) : IMediatorUnderTest
{
    private MediatorHost? _host;

    public string Name { get; } = name;
    public string Runtime => "in-process";
    public bool IsDeterministic => true;
    public MediatorFaults Faults { get; } = faults;
    public string Did => _host?.Did ?? throw new InvalidOperationException("the embedded mediator is not running (no case begun)");

    /// <summary>The running instance (for tests of the harness itself).</summary>
    public MediatorHost? Host => _host;

    public Task StartAsync(CancellationToken ct = default) => Task.CompletedTask;

    public async Task BeginCaseAsync(string caseId, CancellationToken ct = default)
    {
        await EndCaseAsync(ct);
        var options = new MediatorOptions { Entropy = Entropy.Seeded($"{caseId}/mediator") };
        if (Faults != MediatorFaults.None)
            options.Store = new FaultyMediatorStore(new MemoryMediatorStore(), Faults);
        _host = await MediatorHost.StartAsync(options, ct);
    }

    public async Task EndCaseAsync(CancellationToken ct = default)
    {
        if (_host is { } h)
        {
            _host = null;
            await h.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync() => await EndCaseAsync();
}

/// <summary>
/// A mediator someone else runs, named by its DID or by a URL. For a URL the DID is looked up the way the Identus
/// mediator publishes it: <c>GET {url}/did</c> (the DID as text), else <c>GET {url}/invitation</c> (an out-of-band 2.0
/// invitation whose <c>from</c> is the mediator), else an <c>_oob=</c> parameter of the URL itself.
/// </summary>
public sealed class UrlMediator(string target) : IMediatorUnderTest
{
    private string? _did;

    public string Name { get; } = target.StartsWith("did:", StringComparison.Ordinal) ? "did-mediator"
        : Uri.TryCreate(target, UriKind.Absolute, out var u) ? $"url-{u.Host}-{u.Port}" : "url-mediator";
    public string Runtime => "url";
    public bool IsDeterministic => false;
    public string Did => _did ?? throw new InvalidOperationException("the mediator is not started");

    public async Task StartAsync(CancellationToken ct = default)
    {
        if (target.StartsWith("did:", StringComparison.Ordinal)) { _did = target; return; }
        if (!Uri.TryCreate(target, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--mediator must be 'embedded', a DID or an http(s) URL, not '{target}'");
        if (OobFrom(url.Query) is { } fromQuery) { _did = fromQuery; return; }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var root = url.ToString().TrimEnd('/');
        var tried = new List<string>();
        foreach (var path in new[] { "/did", "/invitation" })
        {
            try
            {
                using var response = await http.GetAsync(root + path, ct);
                var text = (await response.Content.ReadAsStringAsync(ct)).Trim();
                tried.Add($"GET {path}: HTTP {(int)response.StatusCode}");
                if (!response.IsSuccessStatusCode) continue;
                if (text.StartsWith("did:", StringComparison.Ordinal)) { _did = text.Split('\n')[0].Trim(); return; }
                if (FromInvitation(text) is { } did) { _did = did; return; }
                if (OobFrom(text) is { } inUrl) { _did = inUrl; return; }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                tried.Add($"GET {path}: {e.Message}");
            }
        }
        throw new InvalidOperationException($"could not find the mediator's DID at {root} ({string.Join("; ", tried)}); pass the DID itself with --mediator did:…");
    }

    private static string? FromInvitation(string json)
    {
        try { return JsonNode.Parse(json) is JsonObject o && o["from"] is JsonValue v && v.TryGetValue<string>(out var s) && s.StartsWith("did:") ? s : null; }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string? OobFrom(string text)
    {
        var i = text.IndexOf("_oob=", StringComparison.Ordinal);
        if (i < 0) return null;
        var value = text[(i + 5)..];
        var end = value.IndexOfAny(['&', '"', ' ', '\n', '<']);
        if (end >= 0) value = value[..end];
        var bytes = Conformance.Wire.Encoding.Base64Url.TryDecode(Uri.UnescapeDataString(value), out var b) ? b : null;
        return bytes is null ? null : FromInvitation(System.Text.Encoding.UTF8.GetString(bytes));
    }

    public Task BeginCaseAsync(string caseId, CancellationToken ct = default) => Task.CompletedTask;
    public Task EndCaseAsync(CancellationToken ct = default) => Task.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Makes the mediator under test from a <c>--mediator</c> value.</summary>
public static class MediatorTargets
{
    /// <summary>
    /// "embedded" (our mediator), "embedded:FAULT[+FAULT…]" (the fault-injected double, e.g. "embedded:drop+reorder";
    /// faults: <see cref="MediatorFaults"/> names in kebab case), a DID, or an http(s) URL.
    /// </summary>
    public static IMediatorUnderTest Create(string spec)
    {
        if (spec == "embedded") return new EmbeddedMediator();
        if (spec.StartsWith("embedded:", StringComparison.Ordinal))
        {
            var faults = MediatorFaults.None;
            foreach (var word in spec["embedded:".Length..].Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                faults |= FaultyMediatorStore.Parse(word);
            return new EmbeddedMediator("faulty-mediator-" + FaultyMediatorStore.Describe(faults), faults);
        }
        return new UrlMediator(spec);
    }
}
