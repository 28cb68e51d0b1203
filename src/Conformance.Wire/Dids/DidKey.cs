using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Dids;

/// <summary>
/// did:key (W3C CCG did:key method; Aries RFC 0360 "did:key Usage"), Ed25519 and X25519 only.
/// <para>RFC 0360 §Tutorial: base58-decode the verkey, prefix <c>unsigned_varint(0xed)</c> (= <c>0xed 0x01</c>),
/// base58-encode with the multibase prefix <c>z</c>, prefix <c>did:key:</c>.</para>
/// <para>RFC 0360: "the did:key resolver generates, in the case of an ed25519 public signing key, a key that can be
/// used as part of a Diffie-Hellman exchange appropriate for encryption in the keyAgreement section of the DIDDoc" —
/// so <see cref="Resolve"/> derives the X25519 key (libsodium's birational map) into <c>keyAgreement</c>, with
/// the fragment being that key's own multibase, as the did:key specification's example document does.</para>
/// </summary>
public static class DidKey
{
    public const string Prefix = "did:key:";

    public static string FromEd25519(ReadOnlySpan<byte> pk) => FromKey(KeyCodec.Ed25519Pub, pk);

    public static string FromX25519(ReadOnlySpan<byte> pk) => FromKey(KeyCodec.X25519Pub, pk);

    public static string FromKey(KeyCodec codec, ReadOnlySpan<byte> pk)
    {
        if (pk.Length != 32) throw new DidException($"a {VerificationMethod.Name(codec)} public key must be 32 bytes, got {pk.Length}");
        return Prefix + Multibase.EncodeKey(codec, pk);
    }

    /// <summary>A base58 Ed25519 verkey (RFC 0019 "naked" key) as did:key.</summary>
    public static string FromVerkey(string base58)
    {
        if (string.IsNullOrEmpty(base58)) throw new DidException("verkey is empty");
        if (!Base58.TryDecode(base58, out var raw)) throw new DidException($"verkey '{DidException.Abbrev(base58)}' is not valid base58");
        if (raw.Length != 32) throw new DidException($"verkey '{DidException.Abbrev(base58)}' is {raw.Length} bytes; an Ed25519 verkey is 32");
        return FromEd25519(raw);
    }

    public static bool IsDidKey(string? s) => s is not null && s.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// The key a did:key (or did:key DID URL) names. Without a fragment, or with the DID's own multibase as
    /// fragment, that is the DID's key; an Ed25519 did:key whose fragment is its derived X25519 key
    /// (the keyAgreement id of the resolved document) names that X25519 key.
    /// </summary>
    public static (KeyCodec Codec, byte[] Key) Parse(string didKey)
    {
        if (string.IsNullOrEmpty(didKey)) throw new DidException("did:key is empty");
        if (!IsDidKey(didKey)) throw new DidException($"'{DidException.Abbrev(didKey)}' is not a did:key");
        var (did, fragment) = DidDocument.SplitRef(didKey);
        var msi = did[Prefix.Length..];
        var (codec, key) = DecodeMultikey(msi, $"did:key '{DidException.Abbrev(did)}'");
        if (fragment is null || fragment == msi) return (codec, key);
        if (codec == KeyCodec.Ed25519Pub && fragment.StartsWith("z6LS", StringComparison.Ordinal))
        {
            var x = DeriveX25519(key, did);
            if (Multibase.EncodeKey(KeyCodec.X25519Pub, x) == fragment) return (KeyCodec.X25519Pub, x);
        }
        throw new DidException($"fragment '#{DidException.Abbrev(fragment)}' does not name a key of {DidException.Abbrev(did)}");
    }

    /// <summary>The base58 Ed25519 verkey of a did:key; an X25519 did:key is an error (it cannot be a verkey).</summary>
    public static string ToVerkey(string didKey)
    {
        var (codec, key) = Parse(didKey);
        if (codec != KeyCodec.Ed25519Pub)
            throw new DidException($"{DidException.Abbrev(didKey)} is an X25519 key, not an Ed25519 verkey");
        return Base58.Encode(key);
    }

    /// <summary>Resolves a did:key (a fragment is allowed and checked, then ignored) to its DID document.</summary>
    public static DidDocument Resolve(string did)
    {
        var (didOnly, _) = DidDocument.SplitRef(did ?? "");
        Parse(did!);   // validates the key and any fragment
        var (codec, key) = DecodeMultikey(didOnly[Prefix.Length..], $"did:key '{DidException.Abbrev(didOnly)}'");
        return DidDocument.FromJson(KeyDocument(didOnly, codec, key));
    }

    /// <summary>
    /// The did:key document template (also used for did:peer:0, which the peer DID spec makes "functionally
    /// equivalent to a did:key value"). Shape as in the did:key specification's Ed25519 example.
    /// </summary>
    internal static JsonObject KeyDocument(string did, KeyCodec codec, byte[] key)
    {
        var mb = Multibase.EncodeKey(codec, key);
        var vmId = did + "#" + mb;
        if (codec == KeyCodec.X25519Pub)
        {
            return new JsonObject
            {
                ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/x25519-2020/v1"),
                ["id"] = did,
                ["verificationMethod"] = new JsonArray(Method(vmId, "X25519KeyAgreementKey2020", did, mb)),
                ["keyAgreement"] = new JsonArray(vmId),
            };
        }
        var x = DeriveX25519(key, did);
        var xmb = Multibase.EncodeKey(KeyCodec.X25519Pub, x);
        return new JsonObject
        {
            ["@context"] = new JsonArray("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1",
                "https://w3id.org/security/suites/x25519-2020/v1"),
            ["id"] = did,
            ["verificationMethod"] = new JsonArray(Method(vmId, "Ed25519VerificationKey2020", did, mb)),
            ["authentication"] = new JsonArray(vmId),
            ["assertionMethod"] = new JsonArray(vmId),
            ["capabilityDelegation"] = new JsonArray(vmId),
            ["capabilityInvocation"] = new JsonArray(vmId),
            ["keyAgreement"] = new JsonArray(Method(did + "#" + xmb, "X25519KeyAgreementKey2020", did, xmb)),
        };
    }

    private static JsonObject Method(string id, string type, string controller, string multibase) => new()
    {
        ["id"] = id,
        ["type"] = type,
        ["controller"] = controller,
        ["publicKeyMultibase"] = multibase,
    };

    internal static byte[] DeriveX25519(byte[] ed25519, string did)
    {
        try { return Sodium.Ed25519PublicToX25519(ed25519); }
        catch (CryptoException e)
        {
            throw new DidException($"{DidException.Abbrev(did)}: the Ed25519 key is not a valid curve point, so no X25519 key can be derived", e);
        }
    }

    /// <summary>Decodes a base58btc multibase multicodec Ed25519/X25519 key, with an error naming <paramref name="what"/>.</summary>
    internal static (KeyCodec Codec, byte[] Key) DecodeMultikey(string multibase, string what)
    {
        if (multibase.Length == 0) throw new DidException($"{what}: the key is missing");
        if (multibase[0] != 'z') throw new DidException($"{what}: the key must be multibase base58btc (start with 'z')");
        byte[] raw;
        try { raw = Base58.Decode(multibase[1..]); }
        catch (FormatException e) { throw new DidException($"{what}: {e.Message}", e); }
        ulong code;
        int read;
        try { (code, read) = Varint.Decode(raw); }
        catch (FormatException) { throw new DidException($"{what}: the key is truncated (no multicodec prefix)"); }
        if (code is not (0xed or 0xec))
            throw new DidException($"{what}: multicodec 0x{code:x} is not an Ed25519 (0xed) or X25519 (0xec) public key" +
                (raw.Length < 34 ? $" ({raw.Length} bytes where a key has 34: truncated?)" : ""));
        var codec = (KeyCodec)code;
        if (raw.Length - read != 32)
            throw new DidException($"{what}: a {VerificationMethod.Name(codec)} key must be 32 bytes, got {raw.Length - read}");
        return (codec, raw[read..]);
    }
}
