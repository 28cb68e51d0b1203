namespace Conformance.Wire.Encoding;

/// <summary>
/// base58btc (the Bitcoin alphabet), as used for verkeys and multibase 'z' (draft-msporny-base58: leading zero bytes
/// become leading '1's, the rest is the big-endian number in base 58).
/// </summary>
/// <remarks>
/// Base conversion is quadratic in the length, and a long-form did:peer:4 carries a whole DID document in base58
/// (about 460 bytes for the reference agent's), encoded once and decoded several times per handshake. So the
/// conversion works on wide limbs rather than one digit at a time: the input is read 3 bytes (or 5 base58 digits) at a
/// time into limbs of base 58^5 (or 2^32), which does roughly 15 times fewer steps than a digit-by-digit conversion.
/// Same output as SimpleBase's Base58.Bitcoin for every input (Wire.Tests compare the two on random inputs).
/// </remarks>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    /// <summary>58^5, the base of the limbs while encoding (fits in 30 bits).</summary>
    private const uint Base5 = 58u * 58 * 58 * 58 * 58;
    private static readonly uint[] Pow58 = [1, 58, 58 * 58, 58 * 58 * 58, 58 * 58 * 58 * 58, Base5];
    private static readonly sbyte[] Digits = BuildDigits();

    private static sbyte[] BuildDigits()
    {
        var d = new sbyte[128];
        Array.Fill(d, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++) d[Alphabet[i]] = (sbyte)i;
        return d;
    }

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var zeros = 0;
        while (zeros < data.Length && data[zeros] == 0) zeros++;
        var rest = data[zeros..];
        if (rest.IsEmpty) return new string('1', zeros);

        // log(256)/log(58) < 1.38 digits per byte; limbs hold 5 digits each.
        var limbCapacity = (rest.Length * 138 / 100 + 1) / 5 + 2;
        var limbs = limbCapacity <= 512 ? stackalloc uint[limbCapacity] : new uint[limbCapacity];
        var used = 0;
        var first = rest.Length % 3 == 0 ? 3 : rest.Length % 3;
        for (var i = 0; i < rest.Length;)
        {
            var take = i == 0 ? first : 3;
            ulong chunk = 0;
            for (var k = 0; k < take; k++) chunk = (chunk << 8) | rest[i + k];
            i += take;
            var shift = 8 * take;
            // limb < 58^5 < 2^30, so limb·2^24 + carry < 2^55: no overflow.
            var carry = chunk;
            for (var j = 0; j < used; j++)
            {
                var t = ((ulong)limbs[j] << shift) + carry;
                limbs[j] = (uint)(t % Base5);
                carry = t / Base5;
            }
            while (carry != 0)
            {
                limbs[used++] = (uint)(carry % Base5);
                carry /= Base5;
            }
        }

        // The top limb without its leading zero digits, every other limb as exactly 5 digits.
        var top = limbs[used - 1];
        var topDigits = 0;
        for (var v = top; v != 0; v /= 58) topDigits++;
        var length = zeros + topDigits + 5 * (used - 1);
        var chars = length <= 2048 ? stackalloc char[length] : new char[length];
        chars[..zeros].Fill('1');
        var pos = length;
        for (var j = 0; j < used; j++)
        {
            var v = limbs[j];
            var n = j == used - 1 ? topDigits : 5;
            for (var k = 0; k < n; k++)
            {
                chars[--pos] = Alphabet[(int)(v % 58)];
                v /= 58;
            }
        }
        return new string(chars);
    }

    /// <summary>Decodes base58btc; throws <see cref="FormatException"/> with a readable message on bad input.</summary>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
            if (!IsAlphabet(c)) throw new FormatException($"'{c}' is not a base58btc character");

        var ones = 0;
        while (ones < text.Length && text[ones] == '1') ones++;
        var rest = text.AsSpan(ones);
        if (rest.IsEmpty) return new byte[ones];

        // log(58)/log(256) < 0.733 bytes per digit; limbs are 32-bit, least significant first.
        var limbCapacity = (rest.Length * 733 / 1000 + 1) / 4 + 2;
        var limbs = limbCapacity <= 512 ? stackalloc uint[limbCapacity] : new uint[limbCapacity];
        var used = 0;
        var first = rest.Length % 5 == 0 ? 5 : rest.Length % 5;
        for (var i = 0; i < rest.Length;)
        {
            var take = i == 0 ? first : 5;
            ulong chunk = 0;
            for (var k = 0; k < take; k++) chunk = chunk * 58 + (uint)Digits[rest[i + k]];
            i += take;
            ulong multiplier = Pow58[take];
            // limb < 2^32 and multiplier < 2^30: limb·multiplier + carry < 2^63.
            var carry = chunk;
            for (var j = 0; j < used; j++)
            {
                var t = limbs[j] * multiplier + carry;
                limbs[j] = (uint)t;
                carry = t >> 32;
            }
            while (carry != 0)
            {
                limbs[used++] = (uint)carry;
                carry >>= 32;
            }
        }

        var top = limbs[used - 1];
        var topBytes = top >= 1u << 24 ? 4 : top >= 1u << 16 ? 3 : top >= 1u << 8 ? 2 : 1;
        var result = new byte[ones + topBytes + 4 * (used - 1)];
        var pos = result.Length;
        for (var j = 0; j < used; j++)
        {
            var v = limbs[j];
            var n = j == used - 1 ? topBytes : 4;
            for (var k = 0; k < n; k++)
            {
                result[--pos] = (byte)v;
                v >>= 8;
            }
        }
        return result;
    }

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (string.IsNullOrEmpty(text)) return false;
        try { bytes = Decode(text); return true; }
        catch (FormatException) { return false; }
    }

    private static bool IsAlphabet(char c) =>
        c is >= '1' and <= '9' or >= 'A' and <= 'H' or >= 'J' and <= 'N' or >= 'P' and <= 'Z' or >= 'a' and <= 'k' or >= 'm' and <= 'z';
}
