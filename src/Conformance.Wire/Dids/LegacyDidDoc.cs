using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>
/// The legacy DIDDoc of RFC 0160 (connections/1.0) §"DIDDoc Example", with unqualified Indy-style DIDs
/// (RFC 0793 calls them "unqualified DIDs", to be retired in favour of did:peer:4).
/// <para>RFC 0160: "This format was implemented in some early agents as the DIDComm DIDDoc Conventions RFC was
/// being formalized and so does not match that RFC exactly. For example, the use of the IndyAgent service
/// endpoint." The shape produced here is that example, which is also byte-for-byte what ACA-Py emits:
/// ids and references as <c>did:sov:{did}</c>, key <c>#1</c>, service <c>;indy</c> (then <c>;indy1</c>, …),
/// and <c>routingKeys</c> only when there are some.</para>
/// </summary>
public static class LegacyDidDoc
{
    public const string Context = "https://w3id.org/did/v1";
    public const string KeyType = "Ed25519VerificationKey2018";
    public const string AuthenticationType = "Ed25519SignatureAuthentication2018";

    /// <summary>The DIDDoc for one endpoint (see <see cref="Create(string, string, IReadOnlyList{string}, IReadOnlyList{string})"/>).</summary>
    public static JsonObject Create(string did, string verkey, string endpoint, IReadOnlyList<string> routingKeys) =>
        Create(did, verkey, [endpoint], routingKeys);

    /// <summary>
    /// The DIDDoc an agent sends in a connections/1.0 request or response. <paramref name="did"/> is the
    /// unqualified DID (a <c>did:sov:</c> prefix is accepted and dropped); <paramref name="routingKeys"/> are
    /// written as given (base58 verkeys or did:key), most destward first; endpoints get priorities 0, 1, ….
    /// </summary>
    public static JsonObject Create(string did, string verkey, IReadOnlyList<string> endpoints, IReadOnlyList<string> routingKeys)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(routingKeys);
        var bare = Unqualify(did);
        if (!IsUnqualifiedDid(bare)) throw new DidException($"'{DidException.Abbrev(did)}' is not an unqualified DID (base58 of 16 bytes)");
        RequireVerkey(verkey, "verkey");
        if (endpoints.Count == 0 || endpoints.Any(string.IsNullOrWhiteSpace)) throw new DidException("a legacy DIDDoc needs a non-empty serviceEndpoint");
        foreach (var rk in routingKeys)
        {
            if (DidKey.IsDidKey(rk)) DidKey.ToVerkey(rk);
            else RequireVerkey(rk, "routing key");
        }

        var id = "did:sov:" + bare;
        var keyId = id + "#1";
        var services = new JsonArray();
        for (var i = 0; i < endpoints.Count; i++)
        {
            var service = new JsonObject
            {
                ["id"] = id + (i == 0 ? ";indy" : $";indy{i}"),
                ["type"] = DidCommService.IndyAgent,
                ["priority"] = i,
                ["recipientKeys"] = new JsonArray(verkey),
            };
            if (routingKeys.Count > 0) service["routingKeys"] = new JsonArray(routingKeys.Select(k => (JsonNode?)k).ToArray());
            service["serviceEndpoint"] = endpoints[i];
            services.Add(service);
        }
        return new JsonObject
        {
            ["@context"] = Context,
            ["id"] = id,
            ["publicKey"] = new JsonArray(new JsonObject
            {
                ["id"] = keyId,
                ["type"] = KeyType,
                ["controller"] = id,
                ["publicKeyBase58"] = verkey,
            }),
            ["authentication"] = new JsonArray(new JsonObject
            {
                ["type"] = AuthenticationType,
                ["publicKey"] = keyId,
            }),
            ["service"] = services,
        };
    }

    /// <summary>The Indy DID of a verkey: base58 of its first 16 bytes.</summary>
    public static string UnqualifiedDidFromVerkey(string verkey)
    {
        var raw = RequireVerkey(verkey, "verkey");
        return Base58.Encode(raw.AsSpan(0, 16));
    }

    /// <summary>True for an unqualified (method-less) Indy DID: base58 of 16 bytes (or a 32-byte full-verkey DID).</summary>
    public static bool IsUnqualifiedDid(string? did) =>
        !string.IsNullOrEmpty(did) && !did.Contains(':') && Base58.TryDecode(did, out var raw) && raw.Length is 16 or 32;

    /// <summary>"did:sov:X" → "X"; anything else unchanged.</summary>
    public static string Unqualify(string did) =>
        did is not null && did.StartsWith("did:sov:", StringComparison.Ordinal) ? did["did:sov:".Length..] : did ?? "";

    private static byte[] RequireVerkey(string verkey, string what)
    {
        if (string.IsNullOrEmpty(verkey) || !Base58.TryDecode(verkey, out var raw))
            throw new DidException($"{what} '{DidException.Abbrev(verkey)}' is not base58");
        if (raw.Length != 32) throw new DidException($"{what} '{DidException.Abbrev(verkey)}' is {raw.Length} bytes; an Ed25519 verkey is 32");
        return raw;
    }
}
