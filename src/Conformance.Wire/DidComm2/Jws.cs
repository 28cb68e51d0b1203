using System.Text.Json;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.DidComm2;

/// <summary>The result of <see cref="Jws.Verify"/>.</summary>
/// <param name="Payload">The signed bytes (for DIDComm: the plaintext message, UTF-8 JSON).</param>
/// <param name="Kid">The signer's kid (a DID URL). The caller still has to check, as signature.md requires, that it is
/// an authentication key of the DID in the plaintext's "from".</param>
/// <param name="Alg">"EdDSA".</param>
/// <param name="Typ">The typ header, when present.</param>
public sealed record JwsVerified(byte[] Payload, string Kid, string Alg, string? Typ);

/// <summary>
/// DIDComm v2 signed messages (signature.md): a JWS (RFC 7515) in JSON serialization over the plaintext message.
/// <list type="bullet">
/// <item>"Implementations MUST be able to verify all of the following algorithms and MUST support signing with at least one":
/// this class signs and verifies EdDSA with crv Ed25519 (RFC 8037 §3.1); ES256 and ES256K are out of scope here.</item>
/// <item>"When transmitted in a normal JWM fashion, the JSON Serialization MUST be used. Either the General or Flattened form
/// of a JWS is valid. Message recipients MUST be able to process both forms." — Sign writes General, Verify reads both.</item>
/// <item>message_structure.md: the media type "MUST be application/didcomm-signed+json" and "SHOULD be set in the typ property".</item>
/// </list>
/// The signing input is ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)) (RFC 7515 §5.1 step 5).
/// </summary>
public static class Jws
{
    public const string EdDsa = "EdDSA";

    /// <summary>Signs <paramref name="payload"/> with an Ed25519 key; protected {"typ","alg"}, unprotected header {"kid"}
    /// (the layout of the spec's Appendix C.2 example).</summary>
    public static string Sign(ReadOnlySpan<byte> payload, OkpKey signer)
    {
        if (signer is null) throw new JoseException("a signer key is required");
        if (signer.Crv != OkpKey.Ed25519Crv) throw new JoseException($"signer {JoseJson.Show(signer.Kid)} is a {signer.Crv} key; EdDSA needs Ed25519");
        if (signer.Secret is null) throw new JoseException($"signer {JoseJson.Show(signer.Kid)} has no private key");

        var protectedB64 = Base64Url.Encode(JoseJson.WriteUtf8(w =>
        {
            w.WriteStartObject();
            w.WriteString("typ", MediaTypes.Signed);
            w.WriteString("alg", EdDsa);
            w.WriteEndObject();
        }));
        var payloadB64 = Base64Url.Encode(payload);
        byte[] signature;
        try
        {
            var (_, sk) = Sodium.Ed25519FromSeed(signer.Secret);
            signature = Sodium.Ed25519Sign(SigningInput(protectedB64, payloadB64), sk);
            Array.Clear(sk);
        }
        catch (CryptoException e) { throw new JoseException("EdDSA signing failed: " + e.Message); }

        return JoseJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("payload", payloadB64);
            w.WritePropertyName("signatures");
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteString("protected", protectedB64);
            w.WriteString("signature", Base64Url.Encode(signature));
            w.WritePropertyName("header");
            w.WriteStartObject();
            w.WriteString("kid", signer.Kid);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// Verifies a General or Flattened JSON JWS carrying exactly one EdDSA signature, resolving the signer's public key with
    /// <paramref name="lookup"/>(kid). Throws <see cref="JoseException"/> on anything malformed, unsupported or unverifiable;
    /// exceptions thrown by the lookup itself propagate unchanged.
    /// </summary>
    public static JwsVerified Verify(string jwsJson, Func<string, OkpKey?> lookup)
    {
        if (lookup is null) throw new JoseException("a key lookup is required");
        if (jwsJson is not null && !jwsJson.TrimStart().StartsWith('{') && jwsJson.Count(c => c == '.') == 2)
            throw new JoseException("JWS compact serialization is not a DIDComm v2 signed message (the JSON serialization is required)");
        var root = JoseJson.ParseObject(jwsJson!, "JWS");
        var payloadB64 = JoseJson.RequiredString(root, "payload", "JWS");
        var payload = JoseJson.DecodeBase64(payloadB64, "JWS 'payload'");

        JsonElement sig;
        if (root.TryGetProperty("signatures", out var sigs))
        {
            if (JoseJson.Has(root, "signature") || JoseJson.Has(root, "protected") || JoseJson.Has(root, "header"))
                throw new JoseException("JWS mixes the general (signatures) and flattened (signature) serializations");
            if (sigs.ValueKind != JsonValueKind.Array) throw new JoseException("JWS 'signatures' must be an array");
            // signature.md: "only the message sender's signature is valid, and a single signature may be fully represented in flattened form".
            if (sigs.GetArrayLength() != 1)
                throw new JoseException($"a DIDComm signed message carries exactly one signature, this JWS has {sigs.GetArrayLength()}");
            sig = sigs[0];
            if (sig.ValueKind != JsonValueKind.Object) throw new JoseException("a JWS signature entry must be a JSON object");
        }
        else sig = root; // RFC 7515 §7.2.2 flattened syntax

        var protectedB64 = JoseJson.OptionalString(sig, "protected", "JWS signature")
            ?? throw new JoseException("JWS signature has no protected header (alg must be integrity protected)");
        var prot = JoseJson.DecodeJsonObject(protectedB64, "JWS protected header");
        var header = JoseJson.OptionalObject(sig, "header", "JWS signature");
        var signature = JoseJson.RequiredBase64(sig, "signature", "JWS signature");

        // RFC 7515 §7.2.1: "The Header Parameter names in the two locations MUST be disjoint."
        var protNames = JoseJson.Names(prot).ToHashSet(StringComparer.Ordinal);
        foreach (var n in JoseJson.Names(header))
            if (protNames.Contains(n)) throw new JoseException($"JWS header parameter {JoseJson.Show(n)} appears in both the protected and unprotected headers");
        // RFC 7515 §4.1.11: extensions listed in "crit" MUST be understood; none (not even RFC 7797 "b64") are here.
        if (protNames.Contains("crit") || JoseJson.Has(header ?? default, "crit"))
            throw new JoseException("JWS header 'crit' is not supported");

        if (!prot.TryGetProperty("alg", out _))
            throw new JoseException(JoseJson.Has(header ?? default, "alg") ? "JWS 'alg' must be in the protected header" : "JWS protected header has no 'alg'");
        var alg = JoseJson.RequiredString(prot, "alg", "JWS protected header");
        if (alg != EdDsa) throw new JoseException($"JWS alg {JoseJson.Show(alg)} is not supported here (EdDSA only; ES256/ES256K are out of scope)");

        var kid = JoseJson.OptionalString(prot, "kid", "JWS protected header") ?? JoseJson.OptionalString(header ?? default, "kid", "JWS header")
            ?? throw new JoseException("JWS signature has no 'kid' (DIDComm v2: the kid MUST be a DID URL of the signer's authentication key)");
        var typ = JoseJson.OptionalString(prot, "typ", "JWS protected header") ?? JoseJson.OptionalString(header ?? default, "typ", "JWS header");
        // typ SHOULD be application/didcomm-signed+json; signature.md's own construction example uses "JWM", so that is accepted too.
        if (typ is not null && typ != "JWM" && !MediaTypes.Is(typ, MediaTypes.Signed))
            throw new JoseException($"JWS typ {JoseJson.Show(typ)} is not {MediaTypes.Signed}");

        var key = lookup(kid) ?? throw new JoseException($"signer key {JoseJson.Show(kid)} could not be resolved");
        if (key.Crv != OkpKey.Ed25519Crv) throw new JoseException($"signer key {JoseJson.Show(kid)} is {key.Crv}; EdDSA needs Ed25519");
        if (!Sodium.Ed25519Verify(signature, SigningInput(protectedB64, payloadB64), key.Public))
            throw new JoseException($"EdDSA signature by {JoseJson.Show(kid)} does not verify (tampered payload or header, or wrong key)");
        return new JwsVerified(payload, kid, alg, typ);
    }

    private static byte[] SigningInput(string protectedB64, string payloadB64) =>
        System.Text.Encoding.ASCII.GetBytes(protectedB64 + "." + payloadB64);
}
