using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Conformance.Wire.DidComm2;

/// <summary>
/// The Concatenation KDF of NIST SP 800-56A §5.8.1 as profiled by JWA ECDH-ES (RFC 7518 §4.6.2) and by
/// ECDH-1PU (draft-madden-jose-ecdh-1pu-04 §2.3), with SHA-256:
/// <code>
/// K(i)      = SHA-256( counter(i, 32-bit BE) || Z || OtherInfo ),  i = 1..ceil(keydatalen/256)
/// OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo     (SuppPrivInfo empty)
/// AlgorithmID = len32 || ASCII(alg)   -- key agreement with key wrapping: the "alg" value, e.g. ECDH-ES+A256KW
/// PartyUInfo  = len32 || apu (decoded) ; PartyVInfo = len32 || apv (decoded)
/// SuppPubInfo = keydatalen in bits (32-bit BE) [ || len32 || cctag ]
/// </code>
/// ECDH-1PU §2.3: in key-wrapping mode "the value of SuppPubInfo is ... keydatalen || cctagLen || cctag", where
/// cctag is the authentication tag of the content encryption; ECDH-1PU's Z is Ze || Zs.
/// </summary>
public static class ConcatKdf
{
    /// <param name="z">The shared secret (ECDH-ES: Z; ECDH-1PU: Ze || Zs).</param>
    /// <param name="keyDataLenBits">Output length in bits (256 for A256KW).</param>
    /// <param name="algorithmId">The AlgorithmID string (the "alg" header in key-wrapping mode, "enc" in direct mode).</param>
    /// <param name="partyUInfo">Decoded "apu" (empty when absent).</param>
    /// <param name="partyVInfo">Decoded "apv" (empty when absent).</param>
    /// <param name="ccTag">ECDH-1PU key wrapping only: the content-encryption tag appended to SuppPubInfo; null for ECDH-ES.</param>
    public static byte[] Derive(ReadOnlySpan<byte> z, int keyDataLenBits, string algorithmId,
        ReadOnlySpan<byte> partyUInfo, ReadOnlySpan<byte> partyVInfo, byte[]? ccTag = null)
    {
        if (keyDataLenBits <= 0 || keyDataLenBits % 8 != 0)
            throw new JoseException($"ConcatKDF: key data length must be a positive multiple of 8 bits, got {keyDataLenBits}");
        var alg = System.Text.Encoding.ASCII.GetBytes(algorithmId);

        var otherInfo = new List<byte>(64);
        AppendLengthPrefixed(otherInfo, alg);
        AppendLengthPrefixed(otherInfo, partyUInfo);
        AppendLengthPrefixed(otherInfo, partyVInfo);
        AppendUInt32(otherInfo, (uint)keyDataLenBits);
        if (ccTag is not null) AppendLengthPrefixed(otherInfo, ccTag);

        int outLen = keyDataLenBits / 8;
        var output = new byte[outLen];
        int reps = (outLen + 31) / 32;
        var input = new byte[4 + z.Length + otherInfo.Count];
        z.CopyTo(input.AsSpan(4));
        otherInfo.CopyTo(input, 4 + z.Length);
        Span<byte> hash = stackalloc byte[32];
        for (int i = 1; i <= reps; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(input, (uint)i);
            SHA256.HashData(input, hash);
            int offset = (i - 1) * 32;
            hash[..Math.Min(32, outLen - offset)].CopyTo(output.AsSpan(offset));
        }
        CryptographicOperations.ZeroMemory(input);
        hash.Clear();
        return output;
    }

    private static void AppendLengthPrefixed(List<byte> to, ReadOnlySpan<byte> data)
    {
        AppendUInt32(to, (uint)data.Length);
        foreach (var b in data) to.Add(b);
    }

    private static void AppendUInt32(List<byte> to, uint value)
    {
        to.Add((byte)(value >> 24));
        to.Add((byte)(value >> 16));
        to.Add((byte)(value >> 8));
        to.Add((byte)value);
    }
}
