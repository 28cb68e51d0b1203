using Conformance.Wire.Encoding;

namespace Conformance.Wire.Crypto;

/// <summary>
/// An Ed25519 signing key pair, the key type of DIDComm v1 ("verkey"). Its X25519 counterpart is derived
/// on demand for envelope encryption. <see cref="ToString"/> shows only the public key.
/// </summary>
public sealed class Ed25519KeyPair
{
    private readonly byte[] _secretKey;

    private Ed25519KeyPair(byte[] publicKey, byte[] secretKey)
    {
        PublicKey = publicKey;
        _secretKey = secretKey;
    }

    /// <summary>The 32-byte public key.</summary>
    public byte[] PublicKey { get; }

    /// <summary>The public key in base58btc, the "verkey" form used by RFC 0019/0160.</summary>
    public string Verkey => Base58.Encode(PublicKey);

    /// <summary>The 64-byte libsodium secret key (seed‖public). Handle with care: never log it.</summary>
    public ReadOnlySpan<byte> SecretKey => _secretKey;

    /// <summary>The 32-byte seed the key was derived from.</summary>
    public ReadOnlySpan<byte> Seed => _secretKey.AsSpan(0, 32);

    public static Ed25519KeyPair FromSeed(ReadOnlySpan<byte> seed)
    {
        var (pk, sk) = Sodium.Ed25519FromSeed(seed);
        return new Ed25519KeyPair(pk, sk);
    }

    public static Ed25519KeyPair Generate(Entropy entropy)
    {
        Span<byte> seed = stackalloc byte[32];
        entropy.Fill(seed);
        var kp = FromSeed(seed);
        seed.Clear();
        return kp;
    }

    /// <summary>
    /// Accepts the two secret encodings agents hand around: a 64-byte secret key (seed‖public) or a 32-byte seed.
    /// A 64-byte key whose public half does not match its seed is rejected.
    /// </summary>
    public static Ed25519KeyPair FromSecret(ReadOnlySpan<byte> secret)
    {
        if (secret.Length == 32) return FromSeed(secret);
        if (secret.Length == 64)
        {
            var kp = FromSeed(secret[..32]);
            if (!secret[32..].SequenceEqual(kp.PublicKey))
                throw new CryptoException("the 64-byte secret key's public half does not match its seed");
            return kp;
        }
        throw new CryptoException($"an Ed25519 secret must be a 32-byte seed or a 64-byte secret key, got {secret.Length} bytes");
    }

    /// <summary>Parses a base58 secret (64-byte key or 32-byte seed).</summary>
    public static Ed25519KeyPair FromBase58Secret(string secret)
    {
        byte[] raw;
        try { raw = Base58.Decode(secret.Trim()); }
        catch (FormatException) { throw new CryptoException("the secret is not valid base58"); }
        return FromSecret(raw);
    }

    public byte[] Sign(ReadOnlySpan<byte> message) => Sodium.Ed25519Sign(message, _secretKey);

    public static bool Verify(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> message, ReadOnlySpan<byte> publicKey)
        => Sodium.Ed25519Verify(signature, message, publicKey);

    public byte[] X25519Public => Sodium.Ed25519PublicToX25519(PublicKey);

    public byte[] X25519Secret() => Sodium.Ed25519SecretToX25519(_secretKey);

    public override string ToString() => $"Ed25519KeyPair({Verkey})";
}
