using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Conformance.Wire.DidComm2;

/// <summary>
/// RFC 3394 "Advanced Encryption Standard (AES) Key Wrap Algorithm", the primitive behind JWA "A256KW"
/// (RFC 7518 §4.4), built on single-block AES-ECB operations of <see cref="Aes"/> (one ECB transform per call, reused for
/// every block: creating a cipher context per block made key wrapping the most expensive step of a JWE decrypt).
/// <para>§2.2.1 wrap: A = IV; for j = 0..5, i = 1..n: B = AES(K, A | R[i]); A = MSB64(B) ^ t (t = n*j + i); R[i] = LSB64(B).</para>
/// <para>§2.2.2 unwrap runs the same steps backwards; §2.2.3.1: "If the unwrapped IV matches the default IV
/// (A6A6A6A6A6A6A6A6) the key data is returned; otherwise an error is returned" (checked in constant time).</para>
/// The KEK may be 128, 192 or 256 bits (A128KW/A192KW/A256KW); DIDComm v2 uses 256.
/// </summary>
public static class AesKeyWrap
{
    private static ReadOnlySpan<byte> DefaultIv => [0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6];

    public static byte[] Wrap(ReadOnlySpan<byte> kek, ReadOnlySpan<byte> keyData)
    {
        RequireKek(kek);
        // RFC 3394 §2: "The key data ... n 64-bit blocks", and §2.2.1 inputs n >= 2 (at least 128 bits).
        if (keyData.Length < 16 || keyData.Length % 8 != 0)
            throw new JoseException($"AES key wrap: key data must be a multiple of 8 bytes and at least 16, got {keyData.Length}");
        int n = keyData.Length / 8;
        var output = new byte[keyData.Length + 8];
        Span<byte> a = output.AsSpan(0, 8);
        DefaultIv.CopyTo(a);
        keyData.CopyTo(output.AsSpan(8));
        var block = new byte[16];
        using var aes = Aes.Create();
        aes.Key = kek.ToArray();
        aes.Mode = CipherMode.ECB;
        aes.Padding = PaddingMode.None;
        using var ecb = aes.CreateEncryptor();
        try
        {
            for (int j = 0; j <= 5; j++)
            {
                for (int i = 1; i <= n; i++)
                {
                    var r = output.AsSpan(8 * i, 8);
                    a.CopyTo(block);
                    r.CopyTo(block.AsSpan(8));
                    ecb.TransformBlock(block, 0, 16, block, 0);
                    block.AsSpan(0, 8).CopyTo(a);
                    XorCounter(a, (ulong)(n * j + i));
                    block.AsSpan(8).CopyTo(r);
                }
            }
        }
        finally { CryptographicOperations.ZeroMemory(block); }
        return output;
    }

    public static byte[] Unwrap(ReadOnlySpan<byte> kek, ReadOnlySpan<byte> wrapped)
    {
        RequireKek(kek);
        if (wrapped.Length < 24 || wrapped.Length % 8 != 0)
            throw new JoseException($"AES key wrap: wrapped key must be a multiple of 8 bytes and at least 24, got {wrapped.Length}");
        int n = wrapped.Length / 8 - 1;
        Span<byte> a = stackalloc byte[8];
        wrapped[..8].CopyTo(a);
        var r = wrapped[8..].ToArray();
        var block = new byte[16];
        using var aes = Aes.Create();
        aes.Key = kek.ToArray();
        aes.Mode = CipherMode.ECB;
        aes.Padding = PaddingMode.None;
        using var ecb = aes.CreateDecryptor();
        try
        {
            for (int j = 5; j >= 0; j--)
            {
                for (int i = n; i >= 1; i--)
                {
                    var ri = r.AsSpan(8 * (i - 1), 8);
                    XorCounter(a, (ulong)(n * j + i));
                    a.CopyTo(block);
                    ri.CopyTo(block.AsSpan(8));
                    ecb.TransformBlock(block, 0, 16, block, 0);
                    block.AsSpan(0, 8).CopyTo(a);
                    block.AsSpan(8).CopyTo(ri);
                }
            }
        }
        finally { CryptographicOperations.ZeroMemory(block); }
        if (!CryptographicOperations.FixedTimeEquals(a, DefaultIv))
        {
            CryptographicOperations.ZeroMemory(r);
            throw new JoseException("AES key unwrap failed: integrity check (RFC 3394 §2.2.3) did not match; wrong key or tampered encrypted_key");
        }
        return r;
    }

    private static void XorCounter(Span<byte> a, ulong t)
    {
        Span<byte> tb = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(tb, t);
        for (int k = 0; k < 8; k++) a[k] ^= tb[k];
    }

    private static void RequireKek(ReadOnlySpan<byte> kek)
    {
        if (kek.Length is not (16 or 24 or 32))
            throw new JoseException($"AES key wrap: the key-encryption key must be 16, 24 or 32 bytes, got {kek.Length}");
    }
}
