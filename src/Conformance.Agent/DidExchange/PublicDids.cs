using System.Net;
using System.Text.Json.Nodes;
using Conformance.Agent.Core;
using Conformance.Wire.Dids;

namespace Conformance.Agent.DidExchange;

/// <summary>
/// The agent's public DID, the basis of RFC 0023 implicit invitations ("an implicit invitation contained in a DID
/// document's service attribute that conforms to the DIDComm conventions", RFC 0067). It is a did:web on the agent's
/// own DIDComm host, <c>did:web:127.0.0.1%3A8123</c>, whose document Transport/PublicPages serves at
/// <c>/.well-known/did.json</c> from <see cref="ReferenceAgent.PublicDid"/>.
/// <para>Deviation, stated: the did:web method spec resolves over https only; loopback test infrastructure has no
/// certificates, so <see cref="DidWebResolver"/> uses http for 127.0.0.1, localhost and [::1] — and only for them.</para>
/// </summary>
public static class PublicDids
{
    /// <summary>The agent's public DID; created (key, did:web, document with one did-communication service per endpoint) on first call.</summary>
    public static PublicDid Ensure(ReferenceAgent agent)
    {
        if (agent.PublicDid is { } existing) return existing;
        var endpoint = agent.Options.Endpoints.FirstOrDefault(e => Uri.TryCreate(e, UriKind.Absolute, out _))
            ?? throw new InvalidOperationException("a public did:web needs the agent's own endpoint (host and port); this agent advertises none");
        var did = DidWebFor(new Uri(endpoint));
        var key = agent.Wallet.CreateKey();
        var pd = new PublicDid(did, key.Verkey, Document(did, key.Verkey, agent.Options.Endpoints));
        agent.PublicDid = pd;
        return pd;
    }

    /// <summary>
    /// did:web of a host and port. did:web spec: "The method specific identifier MUST match the domain name ...
    /// port ... MUST be percent encoded" (<c>did:web:example.com%3A3000</c>).
    /// </summary>
    public static string DidWebFor(Uri endpoint)
    {
        var host = endpoint.Host.Replace(":", "%3A");   // an IPv6 literal's colons too
        if (!endpoint.IsDefaultPort) host += "%3A" + endpoint.Port;
        return "did:web:" + host;
    }

    /// <summary>The public DID document: one Ed25519 key (authentication), one RFC 0067 did-communication service per endpoint.</summary>
    public static JsonObject Document(string did, string verkey, IReadOnlyList<string> endpoints)
    {
        var keyId = did + "#key-1";
        var services = new JsonArray();
        for (var i = 0; i < endpoints.Count; i++)
        {
            services.Add(new JsonObject
            {
                ["id"] = $"{did}#didcomm-{i}",
                ["type"] = DidCommService.DidCommunication,
                ["priority"] = i,
                ["recipientKeys"] = new JsonArray(keyId),
                ["routingKeys"] = new JsonArray(),
                ["serviceEndpoint"] = endpoints[i],
                ["accept"] = new JsonArray("didcomm/aip2;env=rfc19"),
            });
        }
        return new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2018/v1"),
            ["id"] = did,
            ["verificationMethod"] = new JsonArray(new JsonObject
            {
                ["id"] = keyId,
                ["type"] = "Ed25519VerificationKey2018",
                ["controller"] = did,
                ["publicKeyBase58"] = verkey,
            }),
            ["authentication"] = new JsonArray(keyId),
            ["assertionMethod"] = new JsonArray(keyId),
            ["service"] = services,
        };
    }
}

/// <summary>
/// did:web resolution (W3C CCG did:web method, §"Read (Resolve)"): the method-specific id is a host (port
/// percent-encoded as <c>%3A</c>) followed by optional ':'-separated path segments;
/// <c>did:web:w3c-ccg.github.io</c> → <c>https://w3c-ccg.github.io/.well-known/did.json</c>,
/// <c>did:web:w3c-ccg.github.io:user:alice</c> → <c>https://w3c-ccg.github.io/user/alice/did.json</c>.
/// The fetched document's id must be the DID. Loopback hosts are fetched over http (see <see cref="PublicDids"/>).
/// </summary>
public sealed class DidWebResolver(TimeSpan timeout) : IDidResolver
{
    public const string Prefix = "did:web:";
    private const int MaxDocumentBytes = 1024 * 1024;

    // One client for the process: did:web fetches are rare and short.
    private static readonly HttpClient Http = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    public bool CanResolve(string did) => did.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The URL a did:web resolves at; throws <see cref="DidException"/> for a malformed did:web.</summary>
    public static Uri DocumentUrl(string did)
    {
        if (!did.StartsWith(Prefix, StringComparison.Ordinal)) throw new DidException($"{DidException.Abbrev(did)} is not a did:web");
        var msi = DidResolver.DidOf(did)[Prefix.Length..];
        var parts = msi.Split(':');
        if (parts.Any(p => p.Length == 0)) throw new DidException($"{DidException.Abbrev(did)}: empty host or path segment");
        var host = WebUtility.UrlDecode(parts[0]);
        if (host.Contains('/') || host.Contains('@') || host.Contains('?') || host.Contains('#'))
            throw new DidException($"{DidException.Abbrev(did)}: '{DidException.Abbrev(host)}' is not a host name");
        var path = parts.Length == 1 ? "/.well-known/did.json" : "/" + string.Join("/", parts.Skip(1).Select(p => Uri.EscapeDataString(WebUtility.UrlDecode(p)))) + "/did.json";
        var scheme = IsLoopback(host) ? "http" : "https";
        if (!Uri.TryCreate($"{scheme}://{host}{path}", UriKind.Absolute, out var url))
            throw new DidException($"{DidException.Abbrev(did)} does not form a valid URL");
        return url;
    }

    private static bool IsLoopback(string hostAndPort)
    {
        var host = hostAndPort.StartsWith('[') ? hostAndPort[..(hostAndPort.IndexOf(']') + 1)] : hostAndPort.Split(':')[0];
        return host is "127.0.0.1" or "localhost" or "[::1]";
    }

    public async ValueTask<DidDocument> ResolveAsync(string did, CancellationToken ct = default)
    {
        var bare = DidResolver.DidOf(did);
        var url = DocumentUrl(bare);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        byte[] body;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Accept.ParseAdd("application/did+json");
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            if (!response.IsSuccessStatusCode)
                throw new DidException($"did:web: GET {url} answered HTTP {(int)response.StatusCode}");
            if (response.Content.Headers.ContentLength > MaxDocumentBytes)
                throw new DidException($"did:web: the document at {url} is larger than {MaxDocumentBytes} bytes");
            body = await response.Content.ReadAsByteArrayAsync(cts.Token);
        }
        catch (HttpRequestException e) { throw new DidException($"did:web: could not fetch {url}: {e.Message}"); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { throw new DidException($"did:web: {url} did not answer within {timeout.TotalSeconds:0.#} s"); }
        if (body.Length > MaxDocumentBytes) throw new DidException($"did:web: the document at {url} is larger than {MaxDocumentBytes} bytes");

        DidDocument doc;
        try { doc = DidDocument.Parse(System.Text.Encoding.UTF8.GetString(body)); }
        catch (DidException e) { throw new DidException($"did:web: the document at {url} is not a DID document: {e.Message}"); }
        // did:web: "the id of the resolved DID document MUST match the did:web DID".
        if (doc.Id != bare)
            throw new DidException($"did:web: the document at {url} is for {DidException.Abbrev(doc.Id)}, not {DidException.Abbrev(bare)}");
        return doc;
    }
}
