using System.Buffers.Binary;
using System.Security.Cryptography;
using Conformance.Wire.Crypto;

namespace Conformance.Wire.DidComm2;

/// <summary>The content-encryption algorithms DIDComm v2 allows (encryption.md, "Curves and Content Encryption Algorithms").</summary>
public enum ContentAlg
{
    /// <summary>"A256CBC-HS512", RFC 7518 §5.2.5. Required; the only one allowed with authcrypt (ECDH-1PU).</summary>
    A256CbcHs512,
    /// <summary>"A256GCM", RFC 7518 §5.3. Anoncrypt only.</summary>
    A256Gcm,
    /// <summary>"XC20P", XChaCha20-Poly1305 (draft-amringer-jose-chacha-02). Anoncrypt only.</summary>
    XC20P,
}

/// <summary>
/// JWE content encryption (RFC 7516 §5.1 steps 11-15): ciphertext and tag from CEK, IV, AAD and plaintext.
/// <list type="bullet">
/// <item>A256CBC-HS512 (RFC 7518 §5.2.2): MAC_KEY = CEK[0..32], ENC_KEY = CEK[32..64]; E = AES-256-CBC-PKCS7(ENC_KEY, IV, P);
/// AL = bit length of AAD as 64-bit big-endian; T = first 32 bytes of HMAC-SHA-512(MAC_KEY, AAD || IV || E || AL).
/// §5.2.2.2: the tag is checked (here in constant time) before any decryption.</item>
/// <item>A256GCM (RFC 7518 §5.3): 96-bit IV, 128-bit tag.</item>
/// <item>XC20P (draft-amringer-jose-chacha-02 §4): XChaCha20-Poly1305, 192-bit IV, 128-bit tag.</item>
/// </list>
/// </summary>
public static class ContentEncryption
{
    public static string Name(ContentAlg alg) => alg switch
    {
        ContentAlg.A256CbcHs512 => "A256CBC-HS512",
        ContentAlg.A256Gcm => "A256GCM",
        ContentAlg.XC20P => "XC20P",
        _ => throw new JoseException($"unknown content encryption algorithm {(int)alg}"),
    };

    public static bool TryParse(string? name, out ContentAlg alg)
    {
        switch (name)
        {
            case "A256CBC-HS512": alg = ContentAlg.A256CbcHs512; return true;
            case "A256GCM": alg = ContentAlg.A256Gcm; return true;
            case "XC20P": alg = ContentAlg.XC20P; return true;
            default: alg = default; return false;
        }
    }

    public static int KeyLength(ContentAlg alg) => alg == ContentAlg.A256CbcHs512 ? 64 : 32;

    public static int IvLength(ContentAlg alg) => alg switch
    {
        ContentAlg.A256CbcHs512 => 16,
        ContentAlg.A256Gcm => 12,
        ContentAlg.XC20P => 24,
        _ => throw new JoseException($"unknown content encryption algorithm {(int)alg}"),
    };

    public static int TagLength(ContentAlg alg) => alg == ContentAlg.A256CbcHs512 ? 32 : 16;

    public static (byte[] Ciphertext, byte[] Tag) Encrypt(ContentAlg alg, ReadOnlySpan<byte> cek, ReadOnlySpan<byte> iv,
        ReadOnlySpan<byte> aad, ReadOnlySpan<byte> plaintext)
    {
        CheckSizes(alg, cek, iv);
        switch (alg)
        {
            case ContentAlg.A256CbcHs512:
            {
                using var aes = Aes.Create();
                aes.Key = cek[32..].ToArray();
                var e = aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
                return (e, CbcHmacTag(cek[..32], aad, iv, e));
            }
            case ContentAlg.A256Gcm:
            {
                var c = new byte[plaintext.Length];
                var tag = new byte[16];
                using var gcm = new AesGcm(cek, 16);
                gcm.Encrypt(iv, plaintext, c, tag, aad);
                return (c, tag);
            }
            case ContentAlg.XC20P:
            {
                byte[] combined;
                try { combined = Sodium.XChaCha20Poly1305Encrypt(plaintext, aad, iv, cek); }
                catch (CryptoException e) { throw new JoseException("XC20P encryption failed: " + e.Message); }
                return (combined[..^16], combined[^16..]);
            }
            default: throw new JoseException($"unknown content encryption algorithm {(int)alg}");
        }
    }

    public static byte[] Decrypt(ContentAlg alg, ReadOnlySpan<byte> cek, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> aad,
        ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag)
    {
        CheckSizes(alg, cek, iv);
        if (tag.Length != TagLength(alg))
            throw new JoseException($"{Name(alg)}: the tag must be {TagLength(alg)} bytes, got {tag.Length}");
        switch (alg)
        {
            case ContentAlg.A256CbcHs512:
            {
                // RFC 7518 §5.2.2.2: "If the T values [do not] match ... the decryption operation MUST be rejected"
                // before the ciphertext is decrypted.
                var expected = CbcHmacTag(cek[..32], aad, iv, ciphertext);
                if (!CryptographicOperations.FixedTimeEquals(expected, tag))
                    throw new JoseException("A256CBC-HS512: authentication tag mismatch (tampered ciphertext, IV, protected header or wrong key)");
                if (ciphertext.Length == 0 || ciphertext.Length % 16 != 0)
                    throw new JoseException("A256CBC-HS512: ciphertext length is not a positive multiple of the AES block size");
                try
                {
                    using var aes = Aes.Create();
                    aes.Key = cek[32..].ToArray();
                    return aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7);
                }
                catch (CryptographicException) { throw new JoseException("A256CBC-HS512: invalid padding after a valid tag"); }
            }
            case ContentAlg.A256Gcm:
            {
                var p = new byte[ciphertext.Length];
                try
                {
                    using var gcm = new AesGcm(cek, 16);
                    gcm.Decrypt(iv, ciphertext, tag, p, aad);
                }
                catch (CryptographicException) { throw new JoseException("A256GCM: authentication tag mismatch (tampered ciphertext, IV, protected header or wrong key)"); }
                return p;
            }
            case ContentAlg.XC20P:
            {
                var combined = new byte[ciphertext.Length + tag.Length];
                ciphertext.CopyTo(combined);
                tag.CopyTo(combined.AsSpan(ciphertext.Length));
                try { return Sodium.XChaCha20Poly1305Decrypt(combined, aad, iv, cek); }
                catch (CryptoException) { throw new JoseException("XC20P: authentication tag mismatch (tampered ciphertext, IV, protected header or wrong key)"); }
            }
            default: throw new JoseException($"unknown content encryption algorithm {(int)alg}");
        }
    }

    private static byte[] CbcHmacTag(ReadOnlySpan<byte> macKey, ReadOnlySpan<byte> aad, ReadOnlySpan<byte> iv, ReadOnlySpan<byte> e)
    {
        Span<byte> al = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(al, (ulong)aad.Length * 8);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA512, macKey);
        hmac.AppendData(aad);
        hmac.AppendData(iv);
        hmac.AppendData(e);
        hmac.AppendData(al);
        return hmac.GetHashAndReset()[..32];
    }

    private static void CheckSizes(ContentAlg alg, ReadOnlySpan<byte> cek, ReadOnlySpan<byte> iv)
    {
        if (cek.Length != KeyLength(alg))
            throw new JoseException($"{Name(alg)}: the content encryption key must be {KeyLength(alg)} bytes, got {cek.Length}");
        if (iv.Length != IvLength(alg))
            throw new JoseException($"{Name(alg)}: the IV must be {IvLength(alg)} bytes, got {iv.Length}");
    }
}
