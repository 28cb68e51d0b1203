using System.Text.Json.Nodes;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>
/// One Ed25519 or X25519 public key of a DID document, whatever way the document wrote it down:
/// <list type="bullet">
/// <item>W3C DID Core <c>verificationMethod</c>: <c>Multikey</c>, <c>Ed25519VerificationKey2020</c> or
/// <c>X25519KeyAgreementKey2020</c> with <c>publicKeyMultibase</c> (multicodec-prefixed, <c>z6Mk…</c> / <c>z6LS…</c>);</item>
/// <item><c>Ed25519VerificationKey2018</c> / <c>X25519KeyAgreementKey2019</c> with <c>publicKeyBase58</c>;</item>
/// <item><c>JsonWebKey2020</c> with an OKP <c>publicKeyJwk</c>;</item>
/// <item>legacy RFC 0160 / 0067 <c>publicKey[]</c> entries (<c>publicKeyBase58</c>, ids like <c>did:sov:X#1</c> or just <c>1</c>).</item>
/// </list>
/// <see cref="Id"/> is absolute (<c>did#fragment</c>) whenever the document has an id.
/// </summary>
public sealed record VerificationMethod(string Id, string Type, string Controller, KeyCodec Codec, byte[] PublicKey)
{
    /// <summary>The raw public key in base58btc: the RFC 0019 "verkey" for Ed25519 keys.</summary>
    public string Verkey => Base58.Encode(PublicKey);

    /// <summary>The key as multibase multicodec (<c>z6Mk…</c> for Ed25519, <c>z6LS…</c> for X25519).</summary>
    public string Multibase => Encoding.Multibase.EncodeKey(Codec, PublicKey);

    /// <summary>The did:key naming this public key.</summary>
    public string AsDidKey => "did:key:" + Multibase;

    public bool Equals(VerificationMethod? other) =>
        other is not null && Id == other.Id && Type == other.Type && Controller == other.Controller &&
        Codec == other.Codec && PublicKey.AsSpan().SequenceEqual(other.PublicKey);

    public override int GetHashCode() => HashCode.Combine(Id, Codec, Multibase);

    public override string ToString() => $"{Id} ({Type}, {Multibase})";

    internal enum Parse { Ok, Unsupported }

    /// <summary>
    /// Reads one verification method object. Key types other than Ed25519/X25519 (RSA, secp256k1, P-256, …) are
    /// not errors: the document stays usable, the method is reported as unsupported. A supported type with a
    /// malformed key is an error.
    /// </summary>
    internal static (Parse Result, VerificationMethod? Method, string Id) Read(JsonObject o, string docId, string where)
    {
        var rawId = JsonUtil.Str(o, "id");
        if (string.IsNullOrEmpty(rawId)) throw new DidException($"{where}: a verification method has no 'id'");
        var id = DidDocument.Absolute(rawId, docId);
        var type = JsonUtil.Str(o, "type") ?? "";
        var controller = JsonUtil.Str(o, "controller") ?? JsonUtil.Str(o, "owner") ?? docId;
        var implied = CodecOfType(type);
        var label = $"verification method {DidException.Abbrev(rawId)}";

        byte[]? key = null;
        KeyCodec codec = default;
        if (JsonUtil.Str(o, "publicKeyMultibase") is { } mb)
        {
            byte[] raw;
            try { raw = Encoding.Multibase.Decode(mb); }
            catch (FormatException e) { throw new DidException($"{label}: publicKeyMultibase is not valid multibase ({e.Message})", e); }
            if (TryMulticodec(raw) is { } mc)
            {
                if (mc.Code is not (0xed or 0xec)) return (Parse.Unsupported, null, id);
                codec = (KeyCodec)mc.Code;
                key = mc.Key;
            }
            else if (implied is { } imp && raw.Length == 32)
            {
                // Early Ed25519VerificationKey2020 documents carried the bare key without a multicodec prefix.
                codec = imp;
                key = raw;
            }
            else if (implied is not null || type is "Multikey" or "")
            {
                throw new DidException($"{label}: publicKeyMultibase is not a multicodec Ed25519 or X25519 key");
            }
            else
            {
                return (Parse.Unsupported, null, id);
            }
        }
        else if (JsonUtil.Str(o, "publicKeyBase58") is { } b58)
        {
            if (implied is null) return (Parse.Unsupported, null, id);
            if (!Base58.TryDecode(b58, out key)) throw new DidException($"{label}: publicKeyBase58 is not valid base58");
            codec = implied.Value;
        }
        else if (o.TryGetPropertyValue("publicKeyJwk", out var jwkNode) && jwkNode is JsonObject jwk)
        {
            var crv = JsonUtil.Str(jwk, "crv");
            if (JsonUtil.Str(jwk, "kty") != "OKP" || crv is not ("Ed25519" or "X25519")) return (Parse.Unsupported, null, id);
            codec = crv == "Ed25519" ? KeyCodec.Ed25519Pub : KeyCodec.X25519Pub;
            if (!Base64Url.TryDecode(JsonUtil.Str(jwk, "x"), out key)) throw new DidException($"{label}: publicKeyJwk 'x' is not base64url");
        }
        else
        {
            if (implied is not null) throw new DidException($"{label}: {type} without publicKeyBase58, publicKeyMultibase or publicKeyJwk");
            return (Parse.Unsupported, null, id);
        }

        if (key.Length != 32) throw new DidException($"{label}: a {codec} key must be 32 bytes, got {key.Length}");
        if (implied is { } want && want != codec)
            throw new DidException($"{label}: type {type} needs a {Name(want)} key but the key is {Name(codec)}");
        return (Parse.Ok, new VerificationMethod(id, type, controller, codec, key), id);
    }

    internal static KeyCodec? CodecOfType(string type) => type switch
    {
        "Ed25519VerificationKey2018" or "Ed25519VerificationKey2020" or "Ed25519SignatureAuthentication2018" => KeyCodec.Ed25519Pub,
        "X25519KeyAgreementKey2019" or "X25519KeyAgreementKey2020" => KeyCodec.X25519Pub,
        _ => null,
    };

    internal static string Name(KeyCodec c) => c == KeyCodec.Ed25519Pub ? "Ed25519" : "X25519";

    /// <summary>varint(code)‖key when the bytes look like a multicodec key (known or not); null otherwise.</summary>
    private static (ulong Code, byte[] Key)? TryMulticodec(byte[] raw)
    {
        try
        {
            var (code, read) = Varint.Decode(raw);
            if (read < 2 || raw.Length - read < 32) return null;   // every key codec we might meet is >= 0x80
            return (code, raw[read..]);
        }
        catch (FormatException) { return null; }
    }
}
