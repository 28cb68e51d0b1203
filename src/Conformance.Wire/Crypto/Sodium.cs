using System.Runtime.InteropServices;

namespace Conformance.Wire.Crypto;

/// <summary>
/// The only file that talks to native code: a thin P/Invoke layer over Debian's libsodium
/// (<c>libsodium.so.23</c>), the library NSec wraps. Every method takes and returns managed
/// byte arrays, checks lengths before crossing into native code, and throws
/// <see cref="CryptoException"/> (never a native error code) when an operation fails.
/// Secrets are never logged or formatted by anything in this file.
/// </summary>
public static class Sodium
{
    private const string Lib = "libsodium.so.23";

    public const int Ed25519PublicKeyBytes = 32;
    public const int Ed25519SecretKeyBytes = 64;
    public const int Ed25519SeedBytes = 32;
    public const int Ed25519SignatureBytes = 64;
    public const int X25519KeyBytes = 32;
    public const int BoxNonceBytes = 24;
    public const int BoxMacBytes = 16;
    public const int SealBytes = 32 + BoxMacBytes;
    public const int AeadKeyBytes = 32;
    public const int AeadTagBytes = 16;
    public const int ChaChaIetfNonceBytes = 12;
    public const int XChaChaNonceBytes = 24;

    static Sodium()
    {
        if (sodium_init() < 0) throw new CryptoException("libsodium failed to initialise");
    }

    /// <summary>Forces library load; throws a readable error if libsodium23 is missing.</summary>
    public static void EnsureLoaded()
    {
        try { _ = sodium_version_string(); }
        catch (DllNotFoundException e)
        {
            throw new CryptoException("libsodium.so.23 not found: install the Debian package libsodium23 (" + e.Message + ")");
        }
    }

    public static void RandomBytes(Span<byte> buffer)
    {
        unsafe { fixed (byte* p = buffer) randombytes_buf(p, (nuint)buffer.Length); }
    }

    public static byte[] RandomBytes(int count)
    {
        var b = new byte[count];
        RandomBytes(b);
        return b;
    }

    // ---------------------------------------------------------------- Ed25519

    /// <summary>Derives an Ed25519 key pair from a 32-byte seed. The secret key is seed‖public (64 bytes).</summary>
    public static (byte[] PublicKey, byte[] SecretKey) Ed25519FromSeed(ReadOnlySpan<byte> seed)
    {
        Require(seed, Ed25519SeedBytes, "Ed25519 seed");
        var pk = new byte[Ed25519PublicKeyBytes];
        var sk = new byte[Ed25519SecretKeyBytes];
        unsafe
        {
            fixed (byte* s = seed, p = pk, k = sk)
                Check(crypto_sign_seed_keypair(p, k, s), "Ed25519 key derivation failed");
        }
        return (pk, sk);
    }

    public static byte[] Ed25519Sign(ReadOnlySpan<byte> message, ReadOnlySpan<byte> secretKey)
    {
        Require(secretKey, Ed25519SecretKeyBytes, "Ed25519 secret key");
        var sig = new byte[Ed25519SignatureBytes];
        unsafe
        {
            fixed (byte* m = message, k = secretKey, s = sig)
                Check(crypto_sign_detached(s, null, m, (ulong)message.Length, k), "Ed25519 signing failed");
        }
        return sig;
    }

    public static bool Ed25519Verify(ReadOnlySpan<byte> signature, ReadOnlySpan<byte> message, ReadOnlySpan<byte> publicKey)
    {
        if (signature.Length != Ed25519SignatureBytes || publicKey.Length != Ed25519PublicKeyBytes) return false;
        unsafe
        {
            fixed (byte* s = signature, m = message, k = publicKey)
                return crypto_sign_verify_detached(s, m, (ulong)message.Length, k) == 0;
        }
    }

    /// <summary>Converts an Ed25519 public key to its X25519 (Curve25519) equivalent.</summary>
    public static byte[] Ed25519PublicToX25519(ReadOnlySpan<byte> ed25519Public)
    {
        Require(ed25519Public, Ed25519PublicKeyBytes, "Ed25519 public key");
        var x = new byte[X25519KeyBytes];
        unsafe
        {
            fixed (byte* e = ed25519Public, o = x)
                Check(crypto_sign_ed25519_pk_to_curve25519(o, e), "Ed25519 public key is not a valid curve point");
        }
        return x;
    }

    /// <summary>Converts an Ed25519 secret key (64 bytes) to its X25519 secret scalar.</summary>
    public static byte[] Ed25519SecretToX25519(ReadOnlySpan<byte> ed25519Secret)
    {
        Require(ed25519Secret, Ed25519SecretKeyBytes, "Ed25519 secret key");
        var x = new byte[X25519KeyBytes];
        unsafe
        {
            fixed (byte* e = ed25519Secret, o = x)
                Check(crypto_sign_ed25519_sk_to_curve25519(o, e), "Ed25519 secret key conversion failed");
        }
        return x;
    }

    // ---------------------------------------------------------------- X25519

    public static byte[] X25519PublicFromSecret(ReadOnlySpan<byte> secret)
    {
        Require(secret, X25519KeyBytes, "X25519 secret key");
        var pk = new byte[X25519KeyBytes];
        unsafe
        {
            fixed (byte* s = secret, p = pk)
                Check(crypto_scalarmult_base(p, s), "X25519 base multiplication failed");
        }
        return pk;
    }

    /// <summary>Raw X25519 Diffie-Hellman. Throws on an all-zero (low-order) result.</summary>
    public static byte[] X25519(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> publicKey)
    {
        Require(secret, X25519KeyBytes, "X25519 secret key");
        Require(publicKey, X25519KeyBytes, "X25519 public key");
        var shared = new byte[X25519KeyBytes];
        unsafe
        {
            fixed (byte* s = secret, p = publicKey, o = shared)
                Check(crypto_scalarmult(o, s, p), "X25519 produced a low-order shared secret");
        }
        return shared;
    }

    // ---------------------------------------------------------------- crypto_box (XSalsa20-Poly1305)

    /// <summary>crypto_box_easy: authenticated public-key encryption; output is MAC(16)‖ciphertext.</summary>
    public static byte[] Box(ReadOnlySpan<byte> message, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> recipientPublic, ReadOnlySpan<byte> senderSecret)
    {
        Require(nonce, BoxNonceBytes, "crypto_box nonce");
        Require(recipientPublic, X25519KeyBytes, "X25519 public key");
        Require(senderSecret, X25519KeyBytes, "X25519 secret key");
        var c = new byte[message.Length + BoxMacBytes];
        unsafe
        {
            fixed (byte* cp = c, m = message, n = nonce, pk = recipientPublic, sk = senderSecret)
                Check(crypto_box_easy(cp, m, (ulong)message.Length, n, pk, sk), "crypto_box failed");
        }
        return c;
    }

    public static byte[] BoxOpen(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> senderPublic, ReadOnlySpan<byte> recipientSecret)
    {
        Require(nonce, BoxNonceBytes, "crypto_box nonce");
        Require(senderPublic, X25519KeyBytes, "X25519 public key");
        Require(recipientSecret, X25519KeyBytes, "X25519 secret key");
        if (ciphertext.Length < BoxMacBytes) throw new CryptoException("crypto_box ciphertext is shorter than its MAC");
        var m = new byte[ciphertext.Length - BoxMacBytes];
        unsafe
        {
            fixed (byte* mp = m, c = ciphertext, n = nonce, pk = senderPublic, sk = recipientSecret)
                Check(crypto_box_open_easy(mp, c, (ulong)ciphertext.Length, n, pk, sk), "crypto_box authentication failed");
        }
        return m;
    }

    /// <summary>
    /// crypto_box_seal with a caller-supplied ephemeral secret, so that deterministic mode can fix it.
    /// Byte-compatible with libsodium's own sealed box: epk‖crypto_box(m, nonce=blake2b(epk‖pk), pk, esk).
    /// </summary>
    public static byte[] BoxSeal(ReadOnlySpan<byte> message, ReadOnlySpan<byte> recipientPublic, ReadOnlySpan<byte> ephemeralSecret)
    {
        Require(recipientPublic, X25519KeyBytes, "X25519 public key");
        var epk = X25519PublicFromSecret(ephemeralSecret);
        var nonce = SealNonce(epk, recipientPublic);
        var boxed = Box(message, nonce, recipientPublic, ephemeralSecret);
        var result = new byte[epk.Length + boxed.Length];
        epk.CopyTo(result, 0);
        boxed.CopyTo(result, epk.Length);
        return result;
    }

    /// <summary>libsodium's own crypto_box_seal (random ephemeral key).</summary>
    public static byte[] BoxSealNative(ReadOnlySpan<byte> message, ReadOnlySpan<byte> recipientPublic)
    {
        Require(recipientPublic, X25519KeyBytes, "X25519 public key");
        var c = new byte[message.Length + SealBytes];
        unsafe
        {
            fixed (byte* cp = c, m = message, pk = recipientPublic)
                Check(crypto_box_seal(cp, m, (ulong)message.Length, pk), "crypto_box_seal failed");
        }
        return c;
    }

    public static byte[] BoxSealOpen(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> recipientPublic, ReadOnlySpan<byte> recipientSecret)
    {
        Require(recipientPublic, X25519KeyBytes, "X25519 public key");
        Require(recipientSecret, X25519KeyBytes, "X25519 secret key");
        if (ciphertext.Length < SealBytes) throw new CryptoException("sealed box is shorter than its header");
        var m = new byte[ciphertext.Length - SealBytes];
        unsafe
        {
            fixed (byte* mp = m, c = ciphertext, pk = recipientPublic, sk = recipientSecret)
                Check(crypto_box_seal_open(mp, c, (ulong)ciphertext.Length, pk, sk), "sealed box authentication failed");
        }
        return m;
    }

    private static byte[] SealNonce(ReadOnlySpan<byte> epk, ReadOnlySpan<byte> pk)
    {
        Span<byte> input = stackalloc byte[64];
        epk.CopyTo(input);
        pk.CopyTo(input[32..]);
        return Blake2b(input, BoxNonceBytes);
    }

    /// <summary>crypto_generichash (BLAKE2b) with no key.</summary>
    public static byte[] Blake2b(ReadOnlySpan<byte> input, int outputLength)
    {
        if (outputLength is < 16 or > 64) throw new CryptoException("BLAKE2b output length must be 16..64");
        var o = new byte[outputLength];
        unsafe
        {
            fixed (byte* op = o, ip = input)
                Check(crypto_generichash(op, (nuint)outputLength, ip, (ulong)input.Length, null, 0), "BLAKE2b failed");
        }
        return o;
    }

    /// <summary>
    /// crypto_hash_sha256 (SHA-256). The same digest as System.Security.Cryptography.SHA256, without loading OpenSSL
    /// into a process that otherwise never needs it (the reference agent hashes every did:peer it makes or reads).
    /// </summary>
    public static byte[] Sha256(ReadOnlySpan<byte> input)
    {
        var o = new byte[32];
        unsafe
        {
            fixed (byte* op = o, ip = input)
                Check(crypto_hash_sha256(op, ip, (ulong)input.Length), "SHA-256 failed");
        }
        return o;
    }

    // ---------------------------------------------------------------- AEAD

    /// <summary>ChaCha20-Poly1305-IETF (12-byte nonce). Output is ciphertext‖tag(16).</summary>
    public static byte[] ChaCha20Poly1305Encrypt(ReadOnlySpan<byte> message, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
        => Aead(false, message, aad, nonce, key);

    public static byte[] ChaCha20Poly1305Decrypt(ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
        => AeadOpen(false, ciphertextAndTag, aad, nonce, key);

    /// <summary>XChaCha20-Poly1305-IETF (24-byte nonce). Output is ciphertext‖tag(16).</summary>
    public static byte[] XChaCha20Poly1305Encrypt(ReadOnlySpan<byte> message, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
        => Aead(true, message, aad, nonce, key);

    public static byte[] XChaCha20Poly1305Decrypt(ReadOnlySpan<byte> ciphertextAndTag, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
        => AeadOpen(true, ciphertextAndTag, aad, nonce, key);

    private static byte[] Aead(bool extended, ReadOnlySpan<byte> message, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        Require(nonce, extended ? XChaChaNonceBytes : ChaChaIetfNonceBytes, extended ? "XChaCha20 nonce" : "ChaCha20 nonce");
        Require(key, AeadKeyBytes, "AEAD key");
        var c = new byte[message.Length + AeadTagBytes];
        unsafe
        {
            fixed (byte* cp = c, m = message, a = aad, n = nonce, k = key)
            {
                ulong clen;
                int rc = extended
                    ? crypto_aead_xchacha20poly1305_ietf_encrypt(cp, &clen, m, (ulong)message.Length, a, (ulong)aad.Length, null, n, k)
                    : crypto_aead_chacha20poly1305_ietf_encrypt(cp, &clen, m, (ulong)message.Length, a, (ulong)aad.Length, null, n, k);
                Check(rc, "AEAD encryption failed");
            }
        }
        return c;
    }

    private static byte[] AeadOpen(bool extended, ReadOnlySpan<byte> c, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> key)
    {
        Require(nonce, extended ? XChaChaNonceBytes : ChaChaIetfNonceBytes, extended ? "XChaCha20 nonce" : "ChaCha20 nonce");
        Require(key, AeadKeyBytes, "AEAD key");
        if (c.Length < AeadTagBytes) throw new CryptoException("AEAD ciphertext is shorter than its tag");
        var m = new byte[c.Length - AeadTagBytes];
        unsafe
        {
            fixed (byte* mp = m, cp = c, a = aad, n = nonce, k = key)
            {
                ulong mlen;
                int rc = extended
                    ? crypto_aead_xchacha20poly1305_ietf_decrypt(mp, &mlen, null, cp, (ulong)c.Length, a, (ulong)aad.Length, n, k)
                    : crypto_aead_chacha20poly1305_ietf_decrypt(mp, &mlen, null, cp, (ulong)c.Length, a, (ulong)aad.Length, n, k);
                Check(rc, "AEAD authentication failed (tag, AAD or key mismatch)");
            }
        }
        return m;
    }

    // ---------------------------------------------------------------- helpers

    private static void Require(ReadOnlySpan<byte> value, int length, string what)
    {
        if (value.Length != length) throw new CryptoException($"{what} must be {length} bytes, got {value.Length}");
    }

    private static void Check(int rc, string message)
    {
        if (rc != 0) throw new CryptoException(message);
    }

    // ---------------------------------------------------------------- native

#pragma warning disable SYSLIB1054 // plain DllImport keeps this file small and readable
    [DllImport(Lib)] private static extern int sodium_init();
    [DllImport(Lib)] private static extern IntPtr sodium_version_string();
    [DllImport(Lib)] private static extern unsafe void randombytes_buf(byte* buf, nuint size);
    [DllImport(Lib)] private static extern unsafe int crypto_sign_seed_keypair(byte* pk, byte* sk, byte* seed);
    [DllImport(Lib)] private static extern unsafe int crypto_sign_detached(byte* sig, ulong* siglen, byte* m, ulong mlen, byte* sk);
    [DllImport(Lib)] private static extern unsafe int crypto_sign_verify_detached(byte* sig, byte* m, ulong mlen, byte* pk);
    [DllImport(Lib)] private static extern unsafe int crypto_sign_ed25519_pk_to_curve25519(byte* curvePk, byte* edPk);
    [DllImport(Lib)] private static extern unsafe int crypto_sign_ed25519_sk_to_curve25519(byte* curveSk, byte* edSk);
    [DllImport(Lib)] private static extern unsafe int crypto_scalarmult_base(byte* q, byte* n);
    [DllImport(Lib)] private static extern unsafe int crypto_scalarmult(byte* q, byte* n, byte* p);
    [DllImport(Lib)] private static extern unsafe int crypto_box_easy(byte* c, byte* m, ulong mlen, byte* n, byte* pk, byte* sk);
    [DllImport(Lib)] private static extern unsafe int crypto_box_open_easy(byte* m, byte* c, ulong clen, byte* n, byte* pk, byte* sk);
    [DllImport(Lib)] private static extern unsafe int crypto_box_seal(byte* c, byte* m, ulong mlen, byte* pk);
    [DllImport(Lib)] private static extern unsafe int crypto_box_seal_open(byte* m, byte* c, ulong clen, byte* pk, byte* sk);
    [DllImport(Lib)] private static extern unsafe int crypto_hash_sha256(byte* o, byte* i, ulong inlen);
    [DllImport(Lib)] private static extern unsafe int crypto_generichash(byte* o, nuint outlen, byte* i, ulong inlen, byte* key, nuint keylen);
    [DllImport(Lib)] private static extern unsafe int crypto_aead_chacha20poly1305_ietf_encrypt(byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);
    [DllImport(Lib)] private static extern unsafe int crypto_aead_chacha20poly1305_ietf_decrypt(byte* m, ulong* mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
    [DllImport(Lib)] private static extern unsafe int crypto_aead_xchacha20poly1305_ietf_encrypt(byte* c, ulong* clen, byte* m, ulong mlen, byte* ad, ulong adlen, byte* nsec, byte* npub, byte* k);
    [DllImport(Lib)] private static extern unsafe int crypto_aead_xchacha20poly1305_ietf_decrypt(byte* m, ulong* mlen, byte* nsec, byte* c, ulong clen, byte* ad, ulong adlen, byte* npub, byte* k);
#pragma warning restore SYSLIB1054
}

/// <summary>A cryptographic operation failed. The message is safe to show: it never contains key material.</summary>
public sealed class CryptoException(string message) : Exception(message);
