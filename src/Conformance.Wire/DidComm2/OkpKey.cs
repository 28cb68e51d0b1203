using System.Security.Cryptography;
using System.Text.Json;
using Conformance.Wire.Crypto;
using Conformance.Wire.Encoding;

namespace Conformance.Wire.DidComm2;

/// <summary>
/// An Octet Key Pair (RFC 8037 §2: kty "OKP") named by a DID URL <see cref="Kid"/>: an X25519 key-agreement key
/// (DIDComm "keyAgreement") or an Ed25519 signing key ("authentication").
/// <see cref="Public"/> is the 32-byte public key ("x"); <see cref="Secret"/> the 32-byte private key ("d": the X25519
/// scalar or the Ed25519 seed), or null for a public-only key. The constructor checks that a secret matches its public key.
/// <see cref="ToString"/> never shows the secret.
/// </summary>
public sealed record OkpKey
{
    public const string X25519Crv = "X25519";
    public const string Ed25519Crv = "Ed25519";
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    public OkpKey(string Kid, string Crv, byte[] Public, byte[]? Secret)
    {
        if (string.IsNullOrWhiteSpace(Kid)) throw new JoseException("OKP key: kid must not be empty");
        try { _ = StrictUtf8.GetByteCount(Kid); }
        catch (ArgumentException) { throw new JoseException("OKP key: kid is not well-formed Unicode text"); }
        if (Crv is not (X25519Crv or Ed25519Crv)) throw new JoseException($"OKP key {Kid}: crv must be X25519 or Ed25519, got '{Crv}'");
        if (Public is null || Public.Length != 32) throw new JoseException($"OKP key {Kid}: public key must be 32 bytes, got {Public?.Length ?? 0}");
        if (Secret is not null)
        {
            if (Secret.Length != 32) throw new JoseException($"OKP key {Kid}: private key must be 32 bytes, got {Secret.Length}");
            if (!CryptographicOperations.FixedTimeEquals(DerivePublic(Crv, Secret), Public))
                throw new JoseException($"OKP key {Kid}: private key does not match its public key");
        }
        this.Kid = Kid;
        this.Crv = Crv;
        this.Public = Public;
        this.Secret = Secret;
    }

    public string Kid { get; }
    public string Crv { get; }
    public byte[] Public { get; }
    public byte[]? Secret { get; }

    /// <summary>The DID part of <see cref="Kid"/> (before '#'), or the whole kid when it has no fragment.</summary>
    public string Did => Kid.Split('#', 2)[0];

    /// <summary>This key without its secret.</summary>
    public OkpKey PublicOnly() => Secret is null ? this : new OkpKey(Kid, Crv, Public, null);

    public static OkpKey X25519(string kid, ReadOnlySpan<byte> secret) =>
        new(kid, X25519Crv, DerivePublic(X25519Crv, secret.ToArray()), secret.ToArray());

    public static OkpKey Ed25519(string kid, ReadOnlySpan<byte> seed) =>
        new(kid, Ed25519Crv, DerivePublic(Ed25519Crv, seed.ToArray()), seed.ToArray());

    public static OkpKey GenerateX25519(string kid, Entropy entropy) => X25519(kid, entropy.Bytes(32));

    public static OkpKey GenerateEd25519(string kid, Entropy entropy) => Ed25519(kid, entropy.Bytes(32));

    /// <summary>
    /// Reads an OKP JWK (RFC 8037 §2): kty "OKP", crv, x and optional d. The kid is <paramref name="kid"/> when given,
    /// else the JWK's own "kid".
    /// </summary>
    public static OkpKey FromJwk(string jwkJson, string? kid = null)
    {
        return FromJwk(JoseJson.ParseObject(jwkJson, "JWK"), kid);
    }

    public static OkpKey FromJwk(JsonElement jwk, string? kid = null)
    {
        if (jwk.ValueKind != JsonValueKind.Object) throw new JoseException("JWK must be a JSON object");
        var kty = JoseJson.OptionalString(jwk, "kty", "JWK");
        if (kty != "OKP") throw new JoseException($"JWK: kty must be OKP, got '{kty}'");
        var crv = JoseJson.RequiredString(jwk, "crv", "JWK");
        var id = kid ?? JoseJson.OptionalString(jwk, "kid", "JWK") ?? throw new JoseException("JWK has no kid and none was given");
        var x = JoseJson.RequiredBase64(jwk, "x", "JWK");
        var d = JoseJson.OptionalString(jwk, "d", "JWK") is { } ds ? JoseJson.DecodeBase64(ds, "JWK d") : null;
        return new OkpKey(id, crv, x, d);
    }

    /// <summary>The public JWK {"kty":"OKP","crv":..,"x":..} (no kid, no d).</summary>
    public string ToPublicJwk() => JoseJson.Write(w =>
    {
        w.WriteStartObject();
        WritePublicJwk(w);
        w.WriteEndObject();
    });

    internal void WritePublicJwk(Utf8JsonWriter w)
    {
        w.WriteString("kty", "OKP");
        w.WriteString("crv", Crv);
        w.WriteString("x", Base64Url.Encode(Public));
    }

    public override string ToString() =>
        $"OkpKey {{ Kid = {Kid}, Crv = {Crv}, Public = {Base64Url.Encode(Public)}, Secret = {(Secret is null ? "none" : "[redacted]")} }}";

    public bool Equals(OkpKey? other) =>
        other is not null && Kid == other.Kid && Crv == other.Crv && Public.AsSpan().SequenceEqual(other.Public) &&
        (Secret is null ? other.Secret is null : other.Secret is not null && CryptographicOperations.FixedTimeEquals(Secret, other.Secret));

    public override int GetHashCode() => HashCode.Combine(Kid, Crv, Convert.ToHexString(Public));

    private static byte[] DerivePublic(string crv, byte[] secret)
    {
        if (secret.Length != 32) throw new JoseException($"OKP key: private key must be 32 bytes, got {secret.Length}");
        try
        {
            return crv == X25519Crv ? Sodium.X25519PublicFromSecret(secret) : Sodium.Ed25519FromSeed(secret).PublicKey;
        }
        catch (CryptoException e) { throw new JoseException("OKP key: " + e.Message); }
    }
}
