using System.Net.Http.Headers;

namespace Conformance.Mediator;

/// <summary>
/// Asynchronous replies (no return_route): POSTed to the recipient's first HTTP(S) DIDCommMessaging endpoint
/// (transports.md "HTTPS": "Messages MUST be transported via HTTPS POST"; "The IANA media type for the POST request MUST
/// be set to the corresponding media type"). Fire and forget: a failure is logged, never retried (these are replies to
/// request/response protocols; the client can ask again).
/// </summary>
internal sealed class Outbound : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = TimeSpan.FromSeconds(10) };
    private readonly V2Resolver _resolver;
    private readonly Action<string>? _log;

    public Outbound(V2Resolver resolver, Action<string>? log)
    {
        _resolver = resolver;
        _log = log;
    }

    private string? EndpointOf(string did)
    {
        try
        {
            return _resolver.Services(did).Select(s => s.Endpoint)
                .FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || u.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        }
        catch (DidCommException) { return null; }
    }

    public bool CanDeliver(string did) => EndpointOf(did) is not null;

    public void Send(string did, string envelope, string mediaType)
    {
        var uri = EndpointOf(did);
        if (uri is null) return;
        _ = Task.Run(async () =>
        {
            try
            {
                using var content = new StringContent(envelope);
                content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                using var response = await _http.PostAsync(uri, content);
                if (!response.IsSuccessStatusCode) _log?.Invoke($"outbound to {uri}: HTTP {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or UriFormatException)
            {
                _log?.Invoke($"outbound to {uri} failed: {e.Message}");
            }
        });
    }

    public void Dispose() => _http.Dispose();
}
