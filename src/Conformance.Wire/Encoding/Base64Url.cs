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
        // System.Buffers.Text.Base64Url writes the unpadded url-safe form in one pass (the same characters as
        // Convert.ToBase64String with '+' → '-', '/' → '_' and the '=' removed).
        var s = System.Buffers.Text.Base64Url.EncodeToString(data);
        return padded && s.Length % 4 != 0 ? s + new string('=', 4 - s.Length % 4) : s;
    }

    public static byte[] Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Fast path: well-formed base64url (padded or not) in one pass; anything else takes the tolerant path below,
        // which accepts the same inputs it always did and reports errors the same way.
        if (text.AsSpan().IndexOfAny('+', '/') < 0)
        {
            var max = System.Buffers.Text.Base64Url.GetMaxDecodedLength(text.Length);
            var buffer = new byte[max];
            try
            {
                if (System.Buffers.Text.Base64Url.TryDecodeFromChars(text, buffer, out var written))
                    return written == max ? buffer : buffer.AsSpan(0, written).ToArray();
            }
            catch (FormatException) { /* not well-formed: the tolerant path decides */ }
        }
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
