namespace Conformance.Wire.Encoding;

/// <summary>
/// base64url (RFC 4648 §5). Encoding chooses padded or unpadded output explicitly; decoding is tolerant:
/// padded or unpadded, and the standard '+' '/' alphabet too (RFC 0160 requires accepting both paddings,
/// and agents in the field emit standard base64 in places that should be base64url).
/// </summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data, bool padded = false)
    {
        var s = Convert.ToBase64String(data).Replace('+', '-').Replace('/', '_');
        return padded ? s : s.TrimEnd('=');
    }

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim().Replace('-', '+').Replace('_', '/').TrimEnd('=');
        switch (s.Length % 4)
        {
            case 1: throw new FormatException("invalid base64url: impossible length");
            case 2: s += "=="; break;
            case 3: s += "="; break;
        }
        try { return Convert.FromBase64String(s); }
        catch (FormatException) { throw new FormatException("invalid base64url: unexpected character"); }
    }

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null) return false;
        try { bytes = Decode(text); return true; }
        catch (FormatException) { return false; }
    }
}
