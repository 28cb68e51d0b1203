// did:key for Ed25519 (RFC 0360 "Use did:key"; W3C CCG did:key): did:key:z6Mk... = multibase base58btc of
// varint(0xed) || 32-byte public key. Verification method ids are did:key:<mb>#<mb>.
// This is the small subset the JWS code needs (kid in headers); full DID handling lives in the Dids room.
using Conformance.Wire.Encoding;

namespace Conformance.Wire.Signatures;

internal static class DidKeyRef
{
    public const string Prefix = "did:key:";

    public static string ForEd25519(ReadOnlySpan<byte> publicKey) => Prefix + Multibase.EncodeKey(KeyCodec.Ed25519Pub, publicKey);

    public static bool IsDidKey(string? s) => s is not null && s.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// Decodes <c>did:key:z6Mk…</c> or <c>did:key:z6Mk…#z6Mk…</c> to the Ed25519 key. Throws
    /// <see cref="SignatureException"/> (naming <paramref name="where"/>) if it is not an Ed25519 did:key or the
    /// fragment names another key.
    /// </summary>
    public static byte[] DecodeEd25519(string kid, string where)
    {
        var body = kid[Prefix.Length..];
        string? fragment = null;
        var hash = body.IndexOf('#');
        if (hash >= 0)
        {
            fragment = body[(hash + 1)..];
            body = body[..hash];
        }
        KeyCodec codec;
        byte[] key;
        try { (codec, key) = Multibase.DecodeKey(body); }
        catch (FormatException e) { throw new SignatureException($"{where} '{Short(kid)}' is not a valid did:key: {e.Message}"); }
        if (codec != KeyCodec.Ed25519Pub)
            throw new SignatureException($"{where} '{Short(kid)}' is not an Ed25519 did:key (multicodec 0x{(int)codec:x})");
        if (fragment is not null && fragment.Length > 0 && fragment != body)
            throw new SignatureException($"{where} '{Short(kid)}' has a fragment naming a different key than its did:key");
        return key;
    }

    private static string Short(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
