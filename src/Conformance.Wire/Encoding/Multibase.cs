namespace Conformance.Wire.Encoding;

/// <summary>Multicodec key types used by did:key and did:peer (unsigned varint prefix).</summary>
public enum KeyCodec
{
    Ed25519Pub = 0xed,
    X25519Pub = 0xec,
}

/// <summary>
/// Multibase (only 'z' = base58btc is used by the DIDComm specs) and multicodec-prefixed keys.
/// <c>z6Mk…</c> is an Ed25519 public key, <c>z6LS…</c> an X25519 public key.
/// </summary>
public static class Multibase
{
    public static string EncodeBase58Btc(ReadOnlySpan<byte> data) => "z" + Base58.Encode(data);

    public static byte[] Decode(string text)
    {
        if (string.IsNullOrEmpty(text)) throw new FormatException("empty multibase string");
        return text[0] switch
        {
            'z' => Base58.Decode(text[1..]),
            'u' => Base64Url.Decode(text[1..]),
            'm' => Convert.FromBase64String(PadStd(text[1..])),
            'f' => Convert.FromHexString(text[1..]),
            _ => throw new FormatException($"unsupported multibase prefix '{text[0]}'"),
        };
    }

    private static string PadStd(string s) => s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');

    /// <summary>Encodes a raw public key as multibase(base58btc, varint(codec)‖key).</summary>
    public static string EncodeKey(KeyCodec codec, ReadOnlySpan<byte> key)
    {
        var prefix = Varint.Encode((ulong)codec);
        var buf = new byte[prefix.Length + key.Length];
        prefix.CopyTo(buf, 0);
        key.CopyTo(buf.AsSpan(prefix.Length));
        return EncodeBase58Btc(buf);
    }

    /// <summary>Decodes a multibase multicodec key; throws <see cref="FormatException"/> on unknown codec or bad length.</summary>
    public static (KeyCodec Codec, byte[] Key) DecodeKey(string multibase)
    {
        var raw = Decode(multibase);
        var (code, read) = Varint.Decode(raw);
        var key = raw[read..];
        return code switch
        {
            0xed when key.Length == 32 => (KeyCodec.Ed25519Pub, key),
            0xec when key.Length == 32 => (KeyCodec.X25519Pub, key),
            0xed or 0xec => throw new FormatException($"multicodec key 0x{code:x} must be 32 bytes, got {key.Length}"),
            _ => throw new FormatException($"unsupported multicodec key type 0x{code:x}"),
        };
    }
}

/// <summary>Unsigned LEB128 varint as used by multicodec.</summary>
public static class Varint
{
    public static byte[] Encode(ulong value)
    {
        var list = new List<byte>(3);
        do
        {
            var b = (byte)(value & 0x7f);
            value >>= 7;
            if (value != 0) b |= 0x80;
            list.Add(b);
        } while (value != 0);
        return list.ToArray();
    }

    public static (ulong Value, int BytesRead) Decode(ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        for (int i = 0; i < Math.Min(data.Length, 9); i++)
        {
            value |= (ulong)(data[i] & 0x7f) << (7 * i);
            if ((data[i] & 0x80) == 0) return (value, i + 1);
        }
        throw new FormatException("truncated or overlong varint");
    }
}
