namespace Conformance.Wire.Encoding;

/// <summary>base58btc (the Bitcoin alphabet), as used for verkeys and multibase 'z'.</summary>
public static class Base58
{
    public static string Encode(ReadOnlySpan<byte> data) => SimpleBase.Base58.Bitcoin.Encode(data);

    /// <summary>Decodes base58btc; throws <see cref="FormatException"/> with a readable message on bad input.</summary>
    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var c in text)
            if (!IsAlphabet(c)) throw new FormatException($"'{c}' is not a base58btc character");
        try { return SimpleBase.Base58.Bitcoin.Decode(text); }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FormatException("invalid base58btc: " + e.Message);
        }
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
