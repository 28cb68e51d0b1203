using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.DidComm2;
using Conformance.Wire.Dids;
using Conformance.Wire.Encoding;

namespace Conformance.Mediator;

/// <summary>
/// A DIDComm v2 party: a did:peer:2 (peer-did core.md, Method 2) holding one X25519 key-agreement key (purpose E) and one
/// Ed25519 authentication key (purpose V), in that order, plus optional <c>DIDCommMessaging</c> services (one per URI).
/// peer-did core.md "Resolving a did:peer:2": "Set the id of the verification method to #key-N where N is an incrementing
/// number starting at 1" — so the X25519 key is <c>did#key-1</c> and the Ed25519 key <c>did#key-2</c>, and those DID URLs
/// are the JWE <c>kid</c>/<c>skid</c> and JWS <c>kid</c> values.
/// </summary>
public sealed class V2Identity
{
    private V2Identity(string did, OkpKey agreement, OkpKey authentication, IReadOnlyList<string> endpoints)
    {
        Did = did;
        Agreement = agreement;
        Authentication = authentication;
        Endpoints = endpoints;
    }

    public string Did { get; }

    /// <summary>The X25519 key-agreement key with its secret (kid <c>did#key-1</c>).</summary>
    public OkpKey Agreement { get; }

    /// <summary>The Ed25519 authentication key with its secret (kid <c>did#key-2</c>).</summary>
    public OkpKey Authentication { get; }

    /// <summary>The service endpoint URIs advertised in the DID, in preference order (may be empty).</summary>
    public IReadOnlyList<string> Endpoints { get; }

    /// <summary>A new identity with keys from <paramref name="entropy"/> (X25519 secret first, then the Ed25519 seed).</summary>
    public static V2Identity Create(Entropy entropy, IReadOnlyList<string>? endpoints = null, IReadOnlyList<string>? routingKeys = null)
    {
        ArgumentNullException.ThrowIfNull(entropy);
        return FromSecrets(entropy.Bytes(32), entropy.Bytes(32), endpoints, routingKeys);
    }

    /// <summary>The identity for given secrets: a 32-byte X25519 secret and a 32-byte Ed25519 seed.</summary>
    public static V2Identity FromSecrets(byte[] x25519Secret, byte[] ed25519Seed, IReadOnlyList<string>? endpoints = null,
        IReadOnlyList<string>? routingKeys = null)
    {
        var x = OkpKey.X25519("tmp#x", x25519Secret);
        var ed = OkpKey.Ed25519("tmp#ed", ed25519Seed);
        endpoints ??= [];
        var services = new List<JsonObject>();
        foreach (var uri in endpoints)
        {
            if (string.IsNullOrWhiteSpace(uri)) throw new ArgumentException("a service endpoint URI must not be empty");
            var endpoint = new JsonObject { ["uri"] = uri, ["accept"] = new JsonArray("didcomm/v2") };
            if (routingKeys is { Count: > 0 }) endpoint["routingKeys"] = new JsonArray(routingKeys.Select(k => (JsonNode)k).ToArray());
            services.Add(new JsonObject { ["type"] = DidCommService.DidCommMessaging, ["serviceEndpoint"] = endpoint });
        }
        var did = DidPeer.Numalgo2(
            [('E', Multibase.EncodeKey(KeyCodec.X25519Pub, x.Public)), ('V', Multibase.EncodeKey(KeyCodec.Ed25519Pub, ed.Public))],
            services);
        return new V2Identity(did, new OkpKey(did + "#key-1", OkpKey.X25519Crv, x.Public, x25519Secret.ToArray()),
            new OkpKey(did + "#key-2", OkpKey.Ed25519Crv, ed.Public, ed25519Seed.ToArray()), endpoints.ToArray());
    }

    /// <summary>The private key this identity holds for <paramref name="kid"/> (either key), or null.</summary>
    public OkpKey? KeyFor(string kid) => kid == Agreement.Kid ? Agreement : kid == Authentication.Kid ? Authentication : null;

    public override string ToString() => $"V2Identity({Did[..Math.Min(Did.Length, 40)]}…)";
}
